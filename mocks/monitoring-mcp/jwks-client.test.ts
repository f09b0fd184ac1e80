import { describe, expect, it } from 'vitest';
import { startAuthServer } from '../auth-server/index.ts';
import type { JwksFault, StartedAuthServer } from '../auth-server/index.ts';
import { listen, ManualClock } from '../../common/index.ts';
import { JwksClient } from './index.ts';
import type { MonitoringMcpErrorCode } from './index.ts';

const LIFESPAN_MS = 300_000;
// Short enough for the `slow` fault (slowMs below) to time out fast, long enough for a loaded CI box.
const SLOW_TIMEOUT_MS = 400;

async function setup(timeoutMs = 2000): Promise<{ clock: ManualClock; auth: StartedAuthServer; jwks: JwksClient } & AsyncDisposable> {
  const clock = new ManualClock();
  const auth = await startAuthServer({ clock, slowMs: 10_000 });
  const jwks = new JwksClient({ url: auth.jwksUrl, clock, timeoutMs });
  return { clock, auth, jwks, [Symbol.asyncDispose]: () => auth.close() };
}

function firstKid(auth: StartedAuthServer): string {
  const kid = auth.kids()[0];
  if (kid === undefined) throw new Error('auth server has no key');
  return kid;
}

/** A loopback server answering every request with `body` (for JWKS documents the auth server does not serve). */
async function serveBody(body: string) {
  const listening = await listen((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(body);
  });
  return Object.assign(listening, { [Symbol.asyncDispose]: () => listening.close() });
}

describe('JwksClient', () => {
  it('serves keys from the cached set until the lifespan has passed, then refetches', async () => {
    await using t = await setup();
    const kid = firstKid(t.auth);
    expect((await t.jwks.getSigningKey(kid)).kid).toBe(kid);
    expect(t.auth.jwksRequests).toBe(1);
    t.clock.advance(LIFESPAN_MS);
    await t.jwks.getSigningKey(kid);
    expect(t.auth.jwksRequests).toBe(1);
    t.clock.advance(1);
    await t.jwks.getSigningKey(kid);
    expect(t.auth.jwksRequests).toBe(2);
  });

  it('refetches exactly once per unknown kid, with no cooldown between misses', async () => {
    await using t = await setup();
    await t.jwks.getSigningKey(firstKid(t.auth));
    await expect(t.jwks.getSigningKey('no-such-kid')).rejects.toMatchObject({ code: 'ERR_JWKS_NO_MATCHING_KEY' });
    expect(t.auth.jwksRequests).toBe(2);
    await expect(t.jwks.getSigningKey('no-such-kid')).rejects.toMatchObject({ code: 'ERR_JWKS_NO_MATCHING_KEY' });
    expect(t.auth.jwksRequests).toBe(3);
  });

  it('fails a token without kid after the refetch, whatever the set holds', async () => {
    await using t = await setup();
    await expect(t.jwks.getSigningKey(undefined)).rejects.toMatchObject({ code: 'ERR_JWKS_NO_MATCHING_KEY' });
    expect(t.auth.jwksRequests).toBe(2);
  });

  it('finds a key added after the set was cached through the unknown-kid refetch', async () => {
    await using t = await setup();
    await t.jwks.getSigningKey(firstKid(t.auth));
    const added = await t.auth.addKey();
    expect((await t.jwks.getSigningKey(added)).kid).toBe(added);
    expect(t.auth.jwksRequests).toBe(2);
  });

  it('keeps serving a retired key from cache, and fails it once the set is refetched', async () => {
    await using t = await setup();
    const old = firstKid(t.auth);
    await t.auth.addKey();
    await t.jwks.getSigningKey(old);
    t.auth.retireKey(old);
    expect((await t.jwks.getSigningKey(old)).kid).toBe(old);
    expect(t.auth.jwksRequests).toBe(1);
    t.clock.advance(LIFESPAN_MS + 1);
    await expect(t.jwks.getSigningKey(old)).rejects.toMatchObject({ code: 'ERR_JWKS_NO_MATCHING_KEY' });
    expect(t.auth.jwksRequests).toBe(3);
  });

  it.each<[JwksFault, MonitoringMcpErrorCode, string | undefined]>([
    ['http-500', 'ERR_JWKS_UNREACHABLE', 'HTTP_500'],
    ['slow', 'ERR_JWKS_UNREACHABLE', 'ETIMEDOUT'],
    ['invalid-json', 'ERR_JWKS_INVALID_JSON', undefined],
    ['connection-refused', 'ERR_JWKS_UNREACHABLE', 'ECONNREFUSED'],
  ])('fails with %s and clears the cached set, which the next lookup refetches', async (fault, code, networkCode) => {
    await using t = await setup(fault === 'slow' ? SLOW_TIMEOUT_MS : 2000);
    const kid = firstKid(t.auth);
    await t.jwks.getSigningKey(kid);
    expect(t.jwks.cachedJwkSet).toBeDefined();
    await t.auth.setJwksFault(fault);
    // An unknown kid forces the refetch while a good set is cached.
    const error = await t.jwks.getSigningKey('no-such-kid').catch((e: unknown) => e);
    expect(error).toMatchObject({ code, networkCode, url: t.auth.jwksUrl });
    expect(t.jwks.cachedJwkSet).toBeUndefined();
    await t.auth.setJwksFault(null);
    const before = t.auth.jwksRequests;
    expect((await t.jwks.getSigningKey(kid)).kid).toBe(kid);
    expect(t.auth.jwksRequests).toBe(before + 1);
  });

  it('caches an empty key set like PyJWT does, failing from cache until the lifespan ends', async () => {
    await using t = await setup();
    const kid = firstKid(t.auth);
    await t.auth.setJwksFault('empty-keyset');
    await expect(t.jwks.getSigningKey(kid)).rejects.toMatchObject({ code: 'ERR_JWKS_NO_KEYS' });
    expect(t.jwks.cachedJwkSet).toEqual({ keys: [] });
    await t.auth.setJwksFault(null);
    const requests = t.auth.jwksRequests;
    await expect(t.jwks.getSigningKey(kid)).rejects.toMatchObject({ code: 'ERR_JWKS_NO_KEYS' });
    expect(t.auth.jwksRequests).toBe(requests);
    t.clock.advance(LIFESPAN_MS + 1);
    expect((await t.jwks.getSigningKey(kid)).kid).toBe(kid);
    expect(t.auth.jwksRequests).toBe(requests + 1);
  });

  it.each<[string, string, MonitoringMcpErrorCode]>([
    ['a JSON array', '[]', 'ERR_JWKS_NOT_AN_OBJECT'],
    ['JSON null', 'null', 'ERR_JWKS_NOT_AN_OBJECT'],
    ['keys that is not a list', '{"keys": {"kty": "RSA"}}', 'ERR_JWKS_NO_KEYS'],
    ['only unusable keys', '{"keys": [{"kty": "RSA", "kid": "x", "n": "AQAB"}, {"kid": "no-kty"}]}', 'ERR_JWKS_NO_KEYS'],
    ['only encryption keys', '{"keys": [{"kty": "oct", "kid": "e", "use": "enc", "k": "c2VjcmV0"}]}', 'ERR_JWKS_NO_SIGNING_KEYS'],
  ])('rejects a JWKS document that is %s', async (_label, body, code) => {
    await using server = await serveBody(body);
    const jwks = new JwksClient({ url: server.url, clock: new ManualClock() });
    await expect(jwks.getSigningKey('x')).rejects.toMatchObject({ code });
  });

  it.each([0, -1])('refuses a lifespan of %s seconds', (lifespanSeconds) => {
    expect(() => new JwksClient({ url: 'http://127.0.0.1:1/jwks', lifespanSeconds })).toThrow(expect.objectContaining({ code: 'ERR_MONITORING_MCP_OPTIONS' }));
  });
});
