import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import type { JWK } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { JWKS_FAULTS, rotateKeyAfterJwksFromEnv, startAuthServer } from './index.ts';
import type { StartedAuthServer } from './index.ts';

async function publishedKids(jwksUrl: string): Promise<string[]> {
  const { keys } = (await (await fetch(jwksUrl)).json()) as { keys: JWK[] };
  return keys.map((key) => key.kid!);
}

// One server for every test that leaves its keys alone; each test clears its JWKS fault after.
let auth: StartedAuthServer;
beforeAll(async () => {
  auth = await startAuthServer({ slowMs: 150 });
});
afterEach(() => auth.setJwksFault(null));
afterAll(() => auth.close());

describe('JWKS', () => {
  it('publishes the public signing key with kid, use sig and alg RS256 on both listeners', async () => {
    const before = auth.jwksRequests;
    for (const url of [auth.jwksUrl, `${auth.url}/.well-known/jwks.json`]) {
      const res = await fetch(url);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      const { keys } = (await res.json()) as { keys: JWK[] };
      expect(keys).toEqual([{ kty: 'RSA', n: expect.any(String), e: 'AQAB', kid: auth.kids()[0], use: 'sig', alg: 'RS256' }]);
      expect(keys[0]).not.toHaveProperty('d');
    }
    expect(auth.jwksRequests - before).toBe(2);
  });

  it('counts every JWKS request, faulted ones too', async () => {
    const before = auth.jwksRequests;
    await fetch(auth.jwksUrl);
    await auth.setJwksFault('http-500');
    await fetch(auth.jwksUrl);
    expect(auth.jwksRequests - before).toBe(2);
  });
});

describe('key rotation', () => {
  it('publishes an added key and signs new tokens with it', async () => {
    await using own = await startAuthServer();
    const [first] = own.kids();
    const added = await own.addKey();
    expect(added).not.toBe(first);
    expect(await publishedKids(own.jwksUrl)).toEqual([first, added]);
    const token = await own.mint('valid');
    expect(decodeProtectedHeader(token).kid).toBe(added);
    await expect(jwtVerify(token, createRemoteJWKSet(new URL(own.jwksUrl)), { issuer: own.issuer, algorithms: ['RS256'] })).resolves.toBeDefined();
  });

  it('drops a retired key from the JWKS so its tokens no longer verify', async () => {
    await using own = await startAuthServer();
    const [old] = own.kids();
    const oldToken = await own.mint('valid');
    const added = await own.addKey();
    own.retireKey(old!);
    expect(await publishedKids(own.jwksUrl)).toEqual([added]);
    await expect(jwtVerify(oldToken, createRemoteJWKSet(new URL(own.jwksUrl)), { algorithms: ['RS256'] })).rejects.toMatchObject({
      code: 'ERR_JWKS_NO_MATCHING_KEY',
    });
  });

  it('signs with the newest remaining key after the signing key is retired', async () => {
    await using own = await startAuthServer();
    const [old] = own.kids();
    const added = await own.addKey();
    own.retireKey(added);
    expect(decodeProtectedHeader(await own.mint('valid')).kid).toBe(old);
  });

  it.each([
    ['an unknown kid', 'no-such-kid', 'ERR_AUTH_SERVER_UNKNOWN_KID'],
    ['the last key', undefined, 'ERR_AUTH_SERVER_LAST_KEY'],
  ])('refuses to retire %s', (_case, kid, code) => {
    expect(() => auth.retireKey(kid ?? auth.kids()[0]!)).toThrow(expect.objectContaining({ code }));
  });
});

describe('a rotation under way (rotateKeyAfterJwks)', () => {
  it('signs with a new key that joins the JWKS only after the given number of JWKS answers', async () => {
    await using own = await startAuthServer({ rotateKeyAfterJwks: 2 });
    const [old] = own.kids();
    const token = await own.mint('valid');
    const rotated = decodeProtectedHeader(token).kid;
    expect(rotated).not.toBe(old);
    expect(own.kids()).toEqual([old]);
    expect(await publishedKids(own.jwksUrl)).toEqual([old]);
    expect(await publishedKids(`${own.url}/.well-known/jwks.json`)).toEqual([old]);
    expect(await publishedKids(own.jwksUrl)).toEqual([old, rotated]);
    expect(own.kids()).toEqual([old, rotated]);
    expect(own.log.entries.filter((entry) => entry.event === 'key.rotated')).toEqual([
      expect.objectContaining({ kid: rotated, kids: [old, rotated], after_jwks_answers: 2 }),
    ]);
    await expect(jwtVerify(token, createRemoteJWKSet(new URL(own.jwksUrl)), { issuer: own.issuer, algorithms: ['RS256'] })).resolves.toBeDefined();
  });

  it('does not count faulted JWKS requests as answers', async () => {
    await using own = await startAuthServer({ rotateKeyAfterJwks: 1 });
    await own.setJwksFault('http-500');
    await fetch(own.jwksUrl);
    await own.setJwksFault(null);
    expect(await publishedKids(own.jwksUrl)).toHaveLength(1);
    expect(await publishedKids(own.jwksUrl)).toHaveLength(2);
  });

  it.each([0, -1, 1.5])('refuses rotateKeyAfterJwks %s with ERR_AUTH_SERVER_OPTIONS', async (rotateKeyAfterJwks) => {
    await expect(startAuthServer({ rotateKeyAfterJwks })).rejects.toMatchObject({ code: 'ERR_AUTH_SERVER_OPTIONS' });
  });

  it.each([['0'], ['two'], ['-3']])('refuses ROTATE_KEY_AFTER_JWKS=%s, naming the variable', (raw) => {
    expect(() => rotateKeyAfterJwksFromEnv({ ROTATE_KEY_AFTER_JWKS: raw })).toThrow(
      expect.objectContaining({ code: 'ERR_AUTH_SERVER_OPTIONS', message: expect.stringContaining('ROTATE_KEY_AFTER_JWKS must be a positive integer') }),
    );
  });

  it('reads ROTATE_KEY_AFTER_JWKS, and no rotation when it is unset or empty', () => {
    expect(rotateKeyAfterJwksFromEnv({ ROTATE_KEY_AFTER_JWKS: '3' })).toBe(3);
    expect(rotateKeyAfterJwksFromEnv({ ROTATE_KEY_AFTER_JWKS: '' })).toBeUndefined();
    expect(rotateKeyAfterJwksFromEnv({})).toBeUndefined();
  });
});

describe('JWKS faults', () => {
  it('answers 500 with a JSON error under http-500', async () => {
    await auth.setJwksFault('http-500');
    const res = await fetch(auth.jwksUrl);
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: 'server_error', error_description: expect.any(String) });
  });

  it('answers a body that is not JSON under invalid-json', async () => {
    await auth.setJwksFault('invalid-json');
    const res = await fetch(auth.jwksUrl);
    expect(res.status).toBe(200);
    await expect(res.json()).rejects.toThrow(SyntaxError);
  });

  it('answers an empty key set under empty-keyset', async () => {
    await auth.setJwksFault('empty-keyset');
    expect(await (await fetch(auth.jwksUrl)).json()).toEqual({ keys: [] });
  });

  it('answers after slowMs under slow, beyond a shorter client timeout', async () => {
    await auth.setJwksFault('slow');
    await expect(fetch(auth.jwksUrl, { signal: AbortSignal.timeout(30) })).rejects.toMatchObject({ name: 'TimeoutError' });
    const started = performance.now();
    const res = await fetch(auth.jwksUrl, { signal: AbortSignal.timeout(5000) });
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    expect(((await res.json()) as { keys: unknown[] }).keys).toHaveLength(1);
  });

  it('refuses connections to jwksUrl under connection-refused and re-listens on the same port when cleared', async () => {
    await auth.setJwksFault('connection-refused');
    const failure = await fetch(auth.jwksUrl).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toMatchObject({ name: 'TypeError', cause: { code: 'ECONNREFUSED' } });
    await auth.setJwksFault(null);
    expect((await fetch(auth.jwksUrl)).status).toBe(200);
  });

  it('drops JWKS requests to the main listener under connection-refused', async () => {
    await auth.setJwksFault('connection-refused');
    await expect(fetch(`${auth.url}/.well-known/jwks.json`)).rejects.toThrow(TypeError);
  });

  it.each(JWKS_FAULTS)('serves the key set again after %s is cleared', async (fault) => {
    await auth.setJwksFault(fault);
    expect(auth.jwksFault).toBe(fault);
    await auth.setJwksFault(null);
    expect(auth.jwksFault).toBeNull();
    expect(await publishedKids(auth.jwksUrl)).toEqual(auth.kids());
    expect(auth.log.entries).toContainEqual(expect.objectContaining({ event: 'jwks.fault_set', fault: null, previous: fault }));
  });

  it('rejects an unknown fault with ERR_AUTH_SERVER_JWKS_FAULT', async () => {
    await expect(auth.setJwksFault('flaky' as never)).rejects.toMatchObject({ code: 'ERR_AUTH_SERVER_JWKS_FAULT' });
  });
});

describe('JWKS faults on their own server', () => {
  it('closes promptly, dropping a pending slow answer, instead of waiting slowMs', async () => {
    let arrived!: () => void;
    const requestArrived = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    await using own = await startAuthServer({ log: (entry) => entry.event === 'jwks.fault_answered' && arrived() });
    await own.setJwksFault('slow'); // default slowMs: 3000
    const pending = fetch(own.jwksUrl).then(
      () => 'answered',
      () => 'dropped',
    );
    await requestArrived;
    const started = performance.now();
    await own.close();
    expect(performance.now() - started).toBeLessThan(1000);
    expect(await pending).toBe('dropped');
  });

  it('rejects a fault change after close with ERR_AUTH_SERVER_CLOSED', async () => {
    await using own = await startAuthServer();
    await own.setJwksFault('connection-refused');
    await own.close();
    await expect(own.setJwksFault(null)).rejects.toMatchObject({ code: 'ERR_AUTH_SERVER_CLOSED' });
  });
});
