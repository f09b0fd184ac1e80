import { createHash, randomBytes } from 'node:crypto';
import { OAuthMetadataSchema } from '@modelcontextprotocol/sdk/shared/auth.js';
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { listen, ManualClock } from '../../common/index.ts';
import { CODE_TTL_MS, isMetadataDocumentUrl, startAuthServer } from './index.ts';
import type { StartedAuthServer } from './index.ts';

const REDIRECT = 'http://127.0.0.1:3000/callback';
const RESOURCE = 'http://monitoring-mcp.service.dev-us-east-1.consul:8000/v1/mcp';

function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

async function authorize(auth: StartedAuthServer, params: Record<string, string>): Promise<Response> {
  return fetch(`${auth.url}/oauth/authorize?${new URLSearchParams(params)}`, { redirect: 'manual' });
}

function token(auth: StartedAuthServer, params: Record<string, string>): Promise<Response> {
  return fetch(auth.tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(params) });
}

async function codeFor(auth: StartedAuthServer, clientId: string, challenge: string, extra: Record<string, string> = {}): Promise<string> {
  const res = await authorize(auth, { response_type: 'code', client_id: clientId, redirect_uri: REDIRECT, code_challenge: challenge, code_challenge_method: 'S256', state: 's1', ...extra });
  expect(res.status).toBe(302);
  const location = new URL(res.headers.get('location')!);
  expect([location.origin + location.pathname, location.searchParams.get('state'), location.searchParams.get('iss')]).toEqual([REDIRECT, 's1', auth.issuer]);
  return location.searchParams.get('code')!;
}

describe('authorization code grant with PKCE', () => {
  it('announces it in RFC 8414 metadata as the MCP SDK reads it', async () => {
    await using auth = await startAuthServer();
    const metadata = OAuthMetadataSchema.parse(await (await fetch(auth.metadataUrl)).json());
    expect(metadata).toMatchObject({ response_types_supported: ['code'], code_challenge_methods_supported: ['S256'], client_id_metadata_document_supported: true });
  });

  it('approves at once (automatic consent) and exchanges the code with its verifier for a token with the resource as aud', async () => {
    await using auth = await startAuthServer();
    const { verifier, challenge } = pkce();
    const code = await codeFor(auth, 'claude-worker', challenge, { resource: RESOURCE, scope: 'monitoring:read' });
    const res = await token(auth, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: 'claude-worker', code_verifier: verifier, resource: RESOURCE });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { access_token: string; token_type: string; scope: string };
    expect([body.token_type, body.scope]).toEqual(['Bearer', 'monitoring:read']);
    expect(decodeJwt(body.access_token)).toMatchObject({ aud: RESOURCE, client_id: 'claude-worker', iss: auth.issuer, scope: 'monitoring:read' });
  });

  it('refuses a wrong verifier, a second use, another client and an expired code with invalid_grant', async () => {
    const clock = new ManualClock(Date.now());
    await using auth = await startAuthServer({ clock });
    const { verifier, challenge } = pkce();
    const exchange = (code: string, overrides: Record<string, string> = {}) =>
      token(auth, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: 'claude-worker', code_verifier: verifier, ...overrides });
    const errorOf = async (res: Promise<Response>) => {
      const answer = await res;
      return [answer.status, ((await answer.json()) as { error: string }).error];
    };
    expect(await errorOf(exchange(await codeFor(auth, 'claude-worker', challenge), { code_verifier: pkce().verifier }))).toEqual([400, 'invalid_grant']);
    const code = await codeFor(auth, 'claude-worker', challenge);
    expect((await exchange(code)).status).toBe(200);
    expect(await errorOf(exchange(code))).toEqual([400, 'invalid_grant']);
    expect(await errorOf(exchange(await codeFor(auth, 'claude-worker', challenge), { client_id: 'someone-else' }))).toEqual([400, 'invalid_grant']);
    const late = await codeFor(auth, 'claude-worker', challenge);
    clock.advance(CODE_TTL_MS);
    expect(await errorOf(exchange(late))).toEqual([400, 'invalid_grant']);
  });

  it('redirects with invalid_request when PKCE is missing or not S256', async () => {
    await using auth = await startAuthServer();
    const variants: Record<string, string>[] = [{}, { code_challenge: pkce().challenge, code_challenge_method: 'plain' }];
    for (const params of variants) {
      const res = await authorize(auth, { response_type: 'code', client_id: 'claude-worker', redirect_uri: REDIRECT, ...params });
      expect(res.status).toBe(302);
      expect(new URL(res.headers.get('location')!).searchParams.get('error')).toBe('invalid_request');
    }
  });
});

describe('Client ID Metadata Documents', () => {
  async function documentServer(document: (url: string) => unknown) {
    let url = '';
    const listening = await listen((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(document(url)));
    });
    url = `${listening.url}/oauth/client-metadata.json`;
    return { url, [Symbol.asyncDispose]: () => listening.close() };
  }

  it('takes a URL client_id whose document names it and lists the redirect_uri', async () => {
    await using client = await documentServer((url) => ({ client_id: url, client_name: 'Claude worker', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' }));
    await using auth = await startAuthServer();
    const { verifier, challenge } = pkce();
    const code = await codeFor(auth, client.url, challenge);
    const res = await token(auth, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: client.url, code_verifier: verifier });
    expect(res.status).toBe(200);
    expect(decodeJwt(((await res.json()) as { access_token: string }).access_token).client_id).toBe(client.url);
  });

  it('with Client ID Metadata Documents off, says so in its metadata and takes no URL client_id', async () => {
    await using client = await documentServer((url) => ({ client_id: url, client_name: 'Claude worker', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' }));
    await using auth = await startAuthServer({ clientIdMetadataDocuments: false });
    const metadata = (await (await fetch(auth.metadataUrl)).json()) as Record<string, unknown>;
    expect(metadata).not.toHaveProperty('client_id_metadata_document_supported');
    const { challenge } = pkce();
    const res = await authorize(auth, { response_type: 'code', client_id: client.url, redirect_uri: REDIRECT, code_challenge: challenge, code_challenge_method: 'S256' });
    expect([res.status, ((await res.json()) as { error: string }).error]).toEqual([400, 'invalid_client']);
    // A plain client id still gets its code.
    expect(await codeFor(auth, 'claude-worker', challenge)).toMatch(/.+/);
  });

  it('refuses, without redirecting, a document whose client_id is not its URL or that lacks the redirect_uri', async () => {
    await using wrongId = await documentServer(() => ({ client_id: 'https://elsewhere.example.invalid/client.json', client_name: 'x', redirect_uris: [REDIRECT] }));
    await using otherRedirect = await documentServer((url) => ({ client_id: url, client_name: 'x', redirect_uris: ['http://127.0.0.1:9/cb'] }));
    await using auth = await startAuthServer();
    const { challenge } = pkce();
    const tries: [string, string][] = [[wrongId.url, 'invalid_client'], [otherRedirect.url, 'invalid_request']];
    for (const [clientId, error] of tries) {
      const res = await authorize(auth, { response_type: 'code', client_id: clientId, redirect_uri: REDIRECT, code_challenge: challenge, code_challenge_method: 'S256' });
      expect([res.status, ((await res.json()) as { error: string }).error]).toEqual([400, error]);
    }
  });

  it('takes https URLs with a path, and plain http on loopback only', () => {
    expect(isMetadataDocumentUrl('https://app.example.com/oauth/client.json')).toBe(true);
    expect(isMetadataDocumentUrl('https://app.example.com/')).toBe(false);
    expect(isMetadataDocumentUrl('http://app.example.com/client.json')).toBe(false);
    expect(isMetadataDocumentUrl('http://127.0.0.1:4000/client.json')).toBe(true);
    expect(isMetadataDocumentUrl('claude-worker')).toBe(false);
  });
});
