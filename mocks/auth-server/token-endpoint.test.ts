import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAuthServer } from './index.ts';
import type { StartedAuthServer } from './index.ts';

const RESOURCE = 'http://monitoring-mcp.service.consul:8000/v1/mcp';

function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

async function requestToken(url: string, form: string | URLSearchParams, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: typeof form === 'string' ? form : form.toString(),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

describe('POST /oauth/token', () => {
  // Read-only: one server for the whole table.
  let auth: StartedAuthServer;
  beforeAll(async () => {
    auth = await startAuthServer();
  });
  afterAll(() => auth.close());

  it('issues a Bearer token with aud = resource when resource is given', async () => {
    const { status, headers, body } = await requestToken(auth.tokenUrl, new URLSearchParams({ grant_type: 'client_credentials', resource: RESOURCE }), {
      authorization: basic('claude-worker', 's3cret'),
    });
    expect(status).toBe(200);
    expect(headers.get('cache-control')).toBe('no-store');
    expect(body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 3600 });
    const { payload } = await jwtVerify(body.access_token as string, createRemoteJWKSet(new URL(auth.jwksUrl)), {
      issuer: auth.issuer,
      audience: RESOURCE,
      algorithms: ['RS256'],
    });
    expect(payload).toMatchObject({ sub: 'claude-worker', client_id: 'claude-worker', aud: RESOURCE });
  });

  it('issues a token without an aud claim when no resource is given', async () => {
    const { status, body } = await requestToken(auth.tokenUrl, 'grant_type=client_credentials&client_id=claude-worker&client_secret=x');
    expect(status).toBe(200);
    expect(decodeJwt(body.access_token as string)).not.toHaveProperty('aud');
  });

  it('echoes the scope in the answer and the token', async () => {
    const { body } = await requestToken(auth.tokenUrl, 'grant_type=client_credentials&client_id=w&scope=mcp%3Aread+mcp%3Awrite');
    expect(body.scope).toBe('mcp:read mcp:write');
    expect(decodeJwt(body.access_token as string).scope).toBe('mcp:read mcp:write');
  });

  it('makes aud an array when several resources are given', async () => {
    const { body } = await requestToken(auth.tokenUrl, `grant_type=client_credentials&client_id=w&resource=${encodeURIComponent(RESOURCE)}&resource=${encodeURIComponent('http://b.invalid/mcp')}`);
    expect(decodeJwt(body.access_token as string).aud).toEqual([RESOURCE, 'http://b.invalid/mcp']);
  });

  it('logs each issued token', async () => {
    await requestToken(auth.tokenUrl, 'grant_type=client_credentials&client_id=logged');
    expect(auth.log.entries).toContainEqual(expect.objectContaining({ event: 'token.issued', via: 'token_endpoint', client_id: 'logged' }));
  });

  it.each([
    ['the body is not form-encoded', 'json', 400, 'invalid_request'],
    ['grant_type is missing', 'client_id=w', 400, 'invalid_request'],
    ['grant_type is repeated', 'grant_type=client_credentials&grant_type=client_credentials&client_id=w', 400, 'invalid_request'],
    ['the grant type is not client_credentials', 'grant_type=password&username=a&password=b', 400, 'unsupported_grant_type'],
    ['an authorization code comes without its PKCE verifier', 'grant_type=authorization_code&code=x&client_id=w', 400, 'invalid_request'],
    ['an authorization code is unknown', `grant_type=authorization_code&code=x&client_id=w&redirect_uri=http%3A%2F%2F127.0.0.1%2Fcb&code_verifier=${'v'.repeat(43)}`, 400, 'invalid_grant'],
    ['the client does not authenticate', 'grant_type=client_credentials', 401, 'invalid_client'],
    ['scope is malformed', 'grant_type=client_credentials&client_id=w&scope=a%22b', 400, 'invalid_scope'],
    ['resource is not an absolute URI', 'grant_type=client_credentials&client_id=w&resource=%2Fv1%2Fmcp', 400, 'invalid_target'],
    ['resource has a fragment', 'grant_type=client_credentials&client_id=w&resource=http%3A%2F%2Fa.invalid%2F%23f', 400, 'invalid_target'],
  ])('answers an RFC 6749 error when %s', async (_case, form, status, error) => {
    const res =
      form === 'json'
        ? await fetch(auth.tokenUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"grant_type":"client_credentials"}' })
        : await fetch(auth.tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form });
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ error, error_description: expect.any(String) });
  });

  it('answers invalid_request when the client uses HTTP Basic and client_secret at once', async () => {
    const { status, body } = await requestToken(auth.tokenUrl, 'grant_type=client_credentials&client_secret=x', { authorization: basic('w', 'x') });
    expect([status, body.error]).toEqual([400, 'invalid_request']);
  });
});

describe('POST /oauth/token with a client list', () => {
  let auth: StartedAuthServer;
  beforeAll(async () => {
    auth = await startAuthServer({ clients: [{ clientId: 'claude-worker', clientSecret: 'right secret' }] });
  });
  afterAll(() => auth.close());

  it('accepts a listed client by HTTP Basic and by form', async () => {
    expect((await requestToken(auth.tokenUrl, 'grant_type=client_credentials', { authorization: basic('claude-worker', 'right secret') })).status).toBe(200);
    expect((await requestToken(auth.tokenUrl, 'grant_type=client_credentials&client_id=claude-worker&client_secret=right+secret')).status).toBe(200);
  });

  it('answers 401 invalid_client with a Basic challenge when the secret is wrong', async () => {
    const { status, headers, body } = await requestToken(auth.tokenUrl, 'grant_type=client_credentials', { authorization: basic('claude-worker', 'wrong') });
    expect([status, body.error]).toEqual([401, 'invalid_client']);
    expect(headers.get('www-authenticate')).toMatch(/^Basic /);
  });

  it('answers 401 invalid_client when the client is not listed', async () => {
    const { status, body } = await requestToken(auth.tokenUrl, 'grant_type=client_credentials&client_id=intruder&client_secret=right+secret');
    expect([status, body.error]).toEqual([401, 'invalid_client']);
    expect(auth.log.entries).toContainEqual(expect.objectContaining({ event: 'token.request_rejected', error: 'invalid_client' }));
  });
});
