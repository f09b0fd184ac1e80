import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../common/index.ts';
import { cachedKeys, startAuthServer } from './index.ts';

describe('cachedKeys', () => {
  it('gives every server of one source the same signing key, so a second start generates none', async () => {
    const keys = cachedKeys();
    await using a = await startAuthServer({ keys });
    await using b = await startAuthServer({ keys });
    expect(b.kids()).toEqual(a.kids());
  });

  it('keeps a ring\'s own keys distinct: the stray key of unknown-kid is not in the JWKS', async () => {
    const keys = cachedKeys();
    await using a = await startAuthServer({ keys, clock: new ManualClock() });
    await using b = await startAuthServer({ keys, clock: new ManualClock() });
    const stray = decodeProtectedHeader(await b.mint('unknown-kid')).kid;
    expect(stray).toBeDefined();
    expect(a.kids()).not.toContain(stray);
    expect(b.kids()).not.toContain(stray);
  });

  it('rotates to a new key after the cached ones are taken', async () => {
    const keys = cachedKeys();
    await using a = await startAuthServer({ keys });
    const added = await a.addKey();
    expect(a.kids()).toHaveLength(2);
    expect(new Set(a.kids()).size).toBe(2);
    expect(a.kids().at(-1)).toBe(added);
  });

  it('signs tokens that verify against the server\'s own JWKS', async () => {
    const clock = new ManualClock();
    await using auth = await startAuthServer({ keys: cachedKeys(), clock });
    const jwks = (await (await fetch(auth.jwksUrl)).json()) as JSONWebKeySet;
    const { payload } = await jwtVerify(await auth.mint('valid'), createLocalJWKSet(jwks), {
      issuer: auth.issuer,
      algorithms: ['RS256'],
      currentDate: new Date(clock.now()),
    });
    expect(payload.iss).toBe(auth.issuer);
  });

  it('rejects a keys option that is not a function with ERR_AUTH_SERVER_OPTIONS', async () => {
    await expect(startAuthServer({ keys: 'cached' as never })).rejects.toMatchObject({ code: 'ERR_AUTH_SERVER_OPTIONS' });
  });
});
