import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startAuthServer } from './index.ts';
import type { StartedAuthServer } from './index.ts';

async function call(url: string, method: string, body?: unknown) {
  const res = await fetch(url, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
}

// One server for every test that leaves its keys alone; each test clears its JWKS fault after.
let auth: StartedAuthServer;
beforeAll(async () => {
  auth = await startAuthServer();
});
afterEach(() => auth.setJwksFault(null));
afterAll(() => auth.close());

describe('POST /admin/mint', () => {
  it('mints a token of the requested kind with audience and subject', async () => {
    const { status, body } = await call(`${auth.url}/admin/mint`, 'POST', { kind: 'with-audience', audience: 'http://mcp.invalid/v1/mcp', subject: 'svc' });
    expect(status).toBe(200);
    expect(decodeJwt(body!.token as string)).toMatchObject({ aud: 'http://mcp.invalid/v1/mcp', sub: 'svc', iss: auth.issuer });
  });

  it('mints the literal not-a-jwt token', async () => {
    expect((await call(`${auth.url}/admin/mint`, 'POST', { kind: 'not-a-jwt' })).body).toEqual({ token: 'orchestration-agent' });
  });

  it.each([
    ['an unknown kind', { kind: 'forged' }, 'ERR_AUTH_SERVER_ADMIN_REQUEST'],
    ['a missing kind', { audience: 'x' }, 'ERR_AUTH_SERVER_ADMIN_REQUEST'],
    ['malformed JSON', '{"kind":', 'ERR_AUTH_SERVER_ADMIN_REQUEST'],
    ['with-audience without audience', { kind: 'with-audience' }, 'ERR_AUTH_SERVER_MINT'],
  ])('answers 400 with a code on %s', async (_case, body, code) => {
    expect(await call(`${auth.url}/admin/mint`, 'POST', body)).toEqual({ status: 400, body: { code, message: expect.any(String) } });
  });
});

describe('/admin/keys', () => {

  it('adds a signing key and retires keys', async () => {
    await using own = await startAuthServer();
    const [old] = own.kids();
    const added = await call(`${own.url}/admin/keys`, 'POST');
    expect(added).toEqual({ status: 201, body: { kid: expect.any(String) } });
    expect(decodeProtectedHeader(await own.mint('valid')).kid).toBe(added.body!.kid);
    expect((await call(`${own.url}/admin/keys/${old}`, 'DELETE')).status).toBe(204);
    expect(own.kids()).toEqual([added.body!.kid]);
  });

  it.each([
    ['an unknown kid', 'nope', 404, 'ERR_AUTH_SERVER_UNKNOWN_KID'],
    ['the last key', undefined, 409, 'ERR_AUTH_SERVER_LAST_KEY'],
  ])('refuses to retire %s', async (_case, kid, status, code) => {
    expect(await call(`${auth.url}/admin/keys/${kid ?? auth.kids()[0]}`, 'DELETE')).toEqual({ status, body: { code, message: expect.any(String) } });
  });

});

describe('/admin/jwks-fault and /admin/state', () => {
  it('sets and clears the JWKS fault', async () => {
    expect(await call(`${auth.url}/admin/jwks-fault`, 'PUT', { fault: 'connection-refused' })).toEqual({ status: 200, body: { fault: 'connection-refused' } });
    await expect(fetch(auth.jwksUrl)).rejects.toMatchObject({ cause: { code: 'ECONNREFUSED' } });
    await call(`${auth.url}/admin/jwks-fault`, 'PUT', { fault: null });
    expect((await fetch(auth.jwksUrl)).status).toBe(200);
  });

  it('answers 400 on an unknown fault', async () => {
    expect((await call(`${auth.url}/admin/jwks-fault`, 'PUT', { fault: 'flaky' })).body).toMatchObject({ code: 'ERR_AUTH_SERVER_ADMIN_REQUEST' });
  });

  it('reports the state: kids, fault and JWKS request count', async () => {
    await fetch(auth.jwksUrl);
    await auth.setJwksFault('empty-keyset');
    expect((await call(`${auth.url}/admin/state`, 'GET')).body).toEqual({
      issuer: auth.issuer,
      url: auth.url,
      jwksUrl: auth.jwksUrl,
      tokenUrl: auth.tokenUrl,
      kids: auth.kids(),
      jwksFault: 'empty-keyset',
      jwksRequests: auth.jwksRequests,
    });
  });
});
