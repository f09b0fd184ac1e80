import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { OAuthMetadataSchema, OpenIdProviderDiscoveryMetadataSchema } from '@modelcontextprotocol/sdk/shared/auth.js';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { disposable, listen, ManualClock } from '../../common/index.ts';
import { startAuthServer } from './index.ts';
import type { StartedAuthServer } from './index.ts';

describe('metadata', () => {
  // Read-only: one server for these.
  let auth: StartedAuthServer;
  beforeAll(async () => {
    auth = await startAuthServer();
  });
  afterAll(() => auth.close());

  it('serves RFC 8414 metadata that names the token endpoint, the JWKS listener and client_credentials', async () => {
    const res = await fetch(auth.metadataUrl);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const metadata = OAuthMetadataSchema.parse(await res.json());
    expect(metadata).toMatchObject({
      issuer: auth.url,
      token_endpoint: auth.tokenUrl,
      jwks_uri: auth.jwksUrl,
      grant_types_supported: ['client_credentials'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    });
    expect(new URL(auth.jwksUrl).port).not.toBe(new URL(auth.url).port);
  });

  it('serves OpenID configuration with the OIDC-required fields', async () => {
    const metadata = OpenIdProviderDiscoveryMetadataSchema.parse(await (await fetch(`${auth.url}/.well-known/openid-configuration`)).json());
    expect(metadata).toMatchObject({
      issuer: auth.issuer,
      jwks_uri: auth.jwksUrl,
      token_endpoint: auth.tokenUrl,
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
    });
  });

  it('answers unsupported_response_type at the announced authorization endpoint', async () => {
    const res = await fetch(`${auth.url}/oauth/authorize?response_type=code&client_id=w`);
    expect([res.status, ((await res.json()) as { error: string }).error]).toEqual([400, 'unsupported_response_type']);
  });

  it('offers no registration endpoint unless asked', async () => {
    const metadata = (await (await fetch(auth.metadataUrl)).json()) as Record<string, unknown>;
    expect(metadata.registration_endpoint).toBeUndefined();
    const res = await fetch(`${auth.url}/oauth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(404);
  });

  it('registers clients dynamically (RFC 7591) when registration is on', async () => {
    await using open = await startAuthServer({ registration: true });
    const metadata = OAuthMetadataSchema.parse(await (await fetch(open.metadataUrl)).json());
    // Announced under the issuer (here its own URL; in a topology its name behind the shim).
    expect(metadata.registration_endpoint).toBe(`${open.issuer}/oauth/register`);
    expect(metadata.code_challenge_methods_supported).toEqual(['S256']);
    const res = await fetch(metadata.registration_endpoint!, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: 'Claude Code', redirect_uris: ['http://localhost:1234/callback'] }),
    });
    expect(res.status).toBe(201);
    const client = (await res.json()) as Record<string, unknown>;
    expect(client).toMatchObject({ client_name: 'Claude Code', redirect_uris: ['http://localhost:1234/callback'], client_id: 'registered-1' });
    const bad = await fetch(metadata.registration_endpoint!, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"redirect_uris":"x"}' });
    expect([bad.status, ((await bad.json()) as { error: string }).error]).toEqual([400, 'invalid_client_metadata']);
    expect(open.log.entries.filter((entry) => entry.event === 'client.registered')).toHaveLength(1);
  });

  it('uses a configured issuer in metadata and tokens', async () => {
    await using other = await startAuthServer({ issuer: 'http://auth.service.consul:9000' });
    expect(other.issuer).toBe('http://auth.service.consul:9000');
    expect(((await (await fetch(other.metadataUrl)).json()) as { issuer: string }).issuer).toBe(other.issuer);
    expect(decodeJwt(await other.mint('valid')).iss).toBe(other.issuer);
  });
});

describe('startAuthServer', () => {
  it('takes time claims and log times from the injected clock', async () => {
    const clock = new ManualClock(Date.parse('2030-01-01T00:00:00Z'));
    await using auth = await startAuthServer({ clock, tokenTtlSeconds: 120 });
    const payload = decodeJwt(await auth.mint('valid'));
    expect([payload.iat, payload.exp]).toEqual([Date.parse('2030-01-01T00:00:00Z') / 1000, Date.parse('2030-01-01T00:02:00Z') / 1000]);
    expect(auth.log.entries.at(-1)).toMatchObject({ event: 'token.issued', time: '2030-01-01T00:00:00.000Z', service: 'auth-server' });
  });

  it.each([
    ['a port out of range', { port: 70000 }],
    ['a NaN JWKS port', { jwksPort: Number.NaN }],
    ['a zero token ttl', { tokenTtlSeconds: 0 }],
    ['a negative slowMs', { slowMs: -1 }],
    ['a clock without now()', { clock: {} }],
    ['an empty issuer', { issuer: '' }],
  ])('fails with ERR_AUTH_SERVER_OPTIONS on %s', async (_case, options) => {
    await expect(startAuthServer(options as never)).rejects.toMatchObject({ code: 'ERR_AUTH_SERVER_OPTIONS' });
  });

  it('fails with ERR_AUTH_SERVER_LISTEN when the JWKS port is taken', async () => {
    await using occupant = disposable(await listen((_req, res) => res.end()));
    await expect(startAuthServer({ jwksPort: occupant.port })).rejects.toMatchObject({ code: 'ERR_AUTH_SERVER_LISTEN' });
  });

  it('closes both listeners', async () => {
    await using auth = await startAuthServer();
    await auth.close();
    await expect(fetch(auth.metadataUrl)).rejects.toMatchObject({ cause: { code: 'ECONNREFUSED' } });
    await expect(fetch(auth.jwksUrl)).rejects.toMatchObject({ cause: { code: 'ECONNREFUSED' } });
  });
});

describe('main.ts', () => {
  it('starts from PORT, HOST and ISSUER, prints its URL and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [new URL('./main.ts', import.meta.url).pathname], {
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', ISSUER: 'http://auth.invalid' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const lines = createInterface({ input: child.stdout });
      const exited = once(child, 'exit').then(([code]) => {
        throw new Error(`main.ts exited with ${String(code)} before listening`);
      });
      const [first] = (await Promise.race([once(lines, 'line'), exited])) as [string];
      exited.catch(() => undefined);
      const { url } = JSON.parse(first) as { url: string };
      const metadata = (await (await fetch(`${url}/.well-known/oauth-authorization-server`)).json()) as { issuer: string };
      expect(metadata.issuer).toBe('http://auth.invalid');
      child.kill('SIGTERM');
      expect(await once(child, 'exit')).toEqual([0, null]);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
