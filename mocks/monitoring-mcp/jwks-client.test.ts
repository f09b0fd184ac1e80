import { describe, expect, it } from 'vitest';
import { startAuthServer } from '../auth-server/index.ts';
import type { JwksFault, StartedAuthServer } from '../auth-server/index.ts';
import { listen, ManualClock } from '../../common/index.ts';
import { JwksClient, PYJWT_VERSIONS } from './index.ts';
import type { MonitoringMcpErrorCode, PyJwtVersion } from './index.ts';

const LIFESPAN_MS = 300_000;
// Short enough for the `slow` fault (slowMs below) to time out fast, long enough for a loaded CI box.
const SLOW_TIMEOUT_MS = 400;

const COOLDOWN_MS = 30_000;

async function setup(
  timeoutMs = 2000,
  pyjwtVersion: PyJwtVersion = '2.12',
): Promise<{ clock: ManualClock; auth: StartedAuthServer; jwks: JwksClient } & AsyncDisposable> {
  const clock = new ManualClock();
  const auth = await startAuthServer({ clock, slowMs: 10_000 });
  const jwks = new JwksClient({ url: auth.jwksUrl, clock, timeoutMs, pyjwtVersion });
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

describe('JwksClient as PyJWT 2.12', () => {
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

/** A loopback server answering every request with a redirect to `location`. */
async function redirectTo(location: string) {
  const listening = await listen((_req, res) => {
    res.statusCode = 302;
    res.setHeader('location', location);
    res.end();
  });
  return Object.assign(listening, { [Symbol.asyncDispose]: () => listening.close() });
}

describe('JwksClient by PyJWT version', () => {
  const always: PyJwtVersion[] = ['2.12', '2.13'];
  const cooldown: PyJwtVersion[] = ['2.14', '2.15'];

  it('behaves as the current release, 2.15, when no version is given', () => {
    const jwks = new JwksClient({ url: 'http://127.0.0.1:1/jwks' });
    expect(jwks.behaviour.version).toBe('2.15');
  });

  it.each(PYJWT_VERSIONS)('keeps a set 300 s and waits 30 s for a JWKS answer by default on %s', async (version) => {
    await using t = await setup(undefined, version);
    const defaults = new JwksClient({ url: t.auth.jwksUrl, clock: t.clock, pyjwtVersion: version });
    expect(defaults.timeoutMs).toBe(30_000);
    const kid = firstKid(t.auth);
    await defaults.getSigningKey(kid);
    t.clock.advance(LIFESPAN_MS);
    await defaults.getSigningKey(kid);
    expect(t.auth.jwksRequests).toBe(1);
    t.clock.advance(1);
    await defaults.getSigningKey(kid);
    expect(t.auth.jwksRequests).toBe(2);
  });

  it.each(always)('refetches on every unknown kid, with no cooldown, on %s', async (version) => {
    await using t = await setup(2000, version);
    await t.jwks.getSigningKey(firstKid(t.auth));
    const added = await t.auth.addKey();
    expect((await t.jwks.getSigningKey(added)).kid).toBe(added);
    expect(t.auth.jwksRequests).toBe(2);
    await expect(t.jwks.getSigningKey('no-such-kid')).rejects.toMatchObject({ code: 'ERR_JWKS_NO_MATCHING_KEY' });
    expect(t.auth.jwksRequests).toBe(3);
  });

  it.each(cooldown)('does not refetch for an unknown kid within cooldown_duration (30 s) of the last fetch on %s', async (version) => {
    await using t = await setup(2000, version);
    await t.jwks.getSigningKey(firstKid(t.auth));
    const added = await t.auth.addKey();
    t.clock.advance(COOLDOWN_MS - 1);
    const error = await t.jwks.getSigningKey(added).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_JWKS_NO_MATCHING_KEY' });
    expect((error as Error).message).toContain(`PyJWT ${version}: an unknown kid refetches the JWKS only when cooldown_duration (30 s)`);
    expect(t.auth.jwksRequests).toBe(1);
    t.clock.advance(1);
    expect((await t.jwks.getSigningKey(added)).kid).toBe(added);
    expect(t.auth.jwksRequests).toBe(2);
  });

  it.each(cooldown)('counts the cooldown from a cold fetch too: a kid the first fetched set lacks fails at once on %s', async (version) => {
    await using t = await setup(2000, version);
    await expect(t.jwks.getSigningKey('no-such-kid')).rejects.toMatchObject({ code: 'ERR_JWKS_NO_MATCHING_KEY' });
    expect(t.auth.jwksRequests).toBe(1);
  });

  it.each<PyJwtVersion>(['2.13', '2.14', '2.15'])('keeps the cached set when a refetch fails, and serves known kids from it, on %s', async (version) => {
    await using t = await setup(2000, version);
    const kid = firstKid(t.auth);
    await t.jwks.getSigningKey(kid);
    t.clock.advance(COOLDOWN_MS);
    await t.auth.setJwksFault('http-500');
    await expect(t.jwks.getSigningKey('no-such-kid')).rejects.toMatchObject({ code: 'ERR_JWKS_UNREACHABLE', networkCode: 'HTTP_500' });
    expect(t.jwks.cachedJwkSet).toBeDefined();
    const requests = t.auth.jwksRequests;
    expect((await t.jwks.getSigningKey(kid)).kid).toBe(kid);
    expect(t.auth.jwksRequests).toBe(requests);
  });

  it.each<PyJwtVersion>(['2.13', '2.14', '2.15'])('never serves a kept set once it has expired on %s', async (version) => {
    await using t = await setup(2000, version);
    const kid = firstKid(t.auth);
    await t.jwks.getSigningKey(kid);
    t.clock.advance(LIFESPAN_MS + 1);
    await t.auth.setJwksFault('http-500');
    await expect(t.jwks.getSigningKey(kid)).rejects.toMatchObject({ code: 'ERR_JWKS_UNREACHABLE' });
    expect(t.jwks.cachedJwkSet).toBeUndefined();
    await t.auth.setJwksFault(null);
    expect((await t.jwks.getSigningKey(kid)).kid).toBe(kid);
  });

  it('clears the cached set when a refetch fails on 2.12, so a known kid refetches', async () => {
    await using t = await setup(2000, '2.12');
    const kid = firstKid(t.auth);
    await t.jwks.getSigningKey(kid);
    await t.auth.setJwksFault('http-500');
    await expect(t.jwks.getSigningKey('no-such-kid')).rejects.toMatchObject({ code: 'ERR_JWKS_UNREACHABLE' });
    expect(t.jwks.cachedJwkSet).toBeUndefined();
    await expect(t.jwks.getSigningKey(kid)).rejects.toMatchObject({ code: 'ERR_JWKS_UNREACHABLE' });
  });

  it.each(always)('follows a redirect of the JWKS URL on %s', async (version) => {
    await using t = await setup(2000, version);
    await using redirect = await redirectTo(t.auth.jwksUrl);
    const jwks = new JwksClient({ url: redirect.url, clock: t.clock, pyjwtVersion: version, timeoutMs: 2000 });
    const kid = firstKid(t.auth);
    expect((await jwks.getSigningKey(kid)).kid).toBe(kid);
    expect(t.auth.jwksRequests).toBe(1);
  });

  it.each(cooldown)('fails on a redirect of the JWKS URL, without following it, on %s', async (version) => {
    await using t = await setup(2000, version);
    await using redirect = await redirectTo(t.auth.jwksUrl);
    const jwks = new JwksClient({ url: redirect.url, clock: t.clock, pyjwtVersion: version, timeoutMs: 2000 });
    const error = await jwks.getSigningKey(firstKid(t.auth)).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_JWKS_UNREACHABLE', networkCode: 'HTTP_302' });
    expect((error as Error).message).toContain('HTTP Error 302');
    expect(t.auth.jwksRequests).toBe(0);
  });

  it.each(['2.11', '3.0', 'latest'])('refuses the unknown version %s, naming the known ones', (version) => {
    expect(() => new JwksClient({ url: 'http://127.0.0.1:1/jwks', pyjwtVersion: version as PyJwtVersion })).toThrow(
      expect.objectContaining({ code: 'ERR_MONITORING_MCP_OPTIONS', message: expect.stringContaining('2.12, 2.13, 2.14, 2.15') }),
    );
  });
});
