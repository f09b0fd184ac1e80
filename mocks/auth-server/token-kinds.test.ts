import { compactVerify, createRemoteJWKSet, decodeJwt, decodeProtectedHeader, errors, exportSPKI, importJWK, jwtVerify } from 'jose';
import type { CryptoKey, JWK, JWTVerifyOptions } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../common/index.ts';
import { describeTokenKind, NOT_A_JWT, startAuthServer, TOKEN_KINDS, WRONG_AUDIENCE, WRONG_ISSUER } from './index.ts';
import type { StartedAuthServer, TokenKind, TokenVerdict } from './index.ts';

const AUDIENCE = 'http://monitoring-mcp.service.consul:8000/v1/mcp';

// One server for these read-only tables: minting doesn't change it, and key generation is the slow part.
let auth: StartedAuthServer;
let clock: ManualClock;
let jwks: ReturnType<typeof createRemoteJWKSet>;

beforeAll(async () => {
  clock = new ManualClock();
  auth = await startAuthServer({ clock });
  jwks = createRemoteJWKSet(new URL(auth.jwksUrl));
});
afterAll(() => auth.close());

async function verdict(token: string, options: JWTVerifyOptions): Promise<TokenVerdict> {
  try {
    await jwtVerify(token, jwks, { issuer: auth.issuer, algorithms: ['RS256'], currentDate: new Date(clock.now()), ...options });
    return { accepted: true };
  } catch (error) {
    if (!(error instanceof errors.JOSEError)) throw error;
    const claim = (error as { claim?: string }).claim;
    return { accepted: false, joseCode: error.code, ...(claim ? { claim } : {}) } as TokenVerdict;
  }
}

/** The verdict without `defect` (a harness notion jose doesn't report). */
function joseView(expected: TokenVerdict): TokenVerdict {
  if (expected.accepted) return expected;
  const { defect: _defect, ...rest } = expected;
  return rest as TokenVerdict;
}

describe('describeTokenKind', () => {
  it.each(TOKEN_KINDS)('matches jose jwtVerify for a strict verifier (no aud check) on %s', async (kind) => {
    const token = await auth.mint(kind, kind === 'with-audience' ? { audience: AUDIENCE } : {});
    expect(await verdict(token, {})).toEqual(joseView(describeTokenKind(kind).strict));
  });

  it.each(TOKEN_KINDS)('matches jose jwtVerify for an audience-checking verifier on %s', async (kind) => {
    const options = kind === 'no-audience' || kind === 'wrong-audience' ? {} : { audience: AUDIENCE };
    const token = await auth.mint(kind, options);
    expect(await verdict(token, { audience: AUDIENCE })).toEqual(joseView(describeTokenKind(kind).audienceChecked));
  });

  it.each(TOKEN_KINDS)('tells whether %s decodes without verification', async (kind) => {
    const token = await auth.mint(kind, { audience: AUDIENCE });
    const decodes = (() => {
      try {
        decodeJwt(token);
        return true;
      } catch {
        return false;
      }
    })();
    expect(decodes).toBe(describeTokenKind(kind).decodable);
  });

  it('throws ERR_AUTH_SERVER_TOKEN_KIND for an unknown kind', () => {
    expect(() => describeTokenKind('forged' as TokenKind)).toThrow(expect.objectContaining({ code: 'ERR_AUTH_SERVER_TOKEN_KIND' }));
  });

  it('accepts exactly the four valid kinds under a strict verifier', () => {
    const accepted = TOKEN_KINDS.filter((kind) => describeTokenKind(kind).strict.accepted);
    expect(accepted).toEqual(['valid', 'with-audience', 'no-audience', 'wrong-audience']);
  });
});

describe('mint', () => {
  it('signs valid tokens with the current key, the issuer and iat/exp from the clock', async () => {
    const token = await auth.mint('valid');
    const { payload, protectedHeader } = await jwtVerify(token, jwks, { issuer: auth.issuer, algorithms: ['RS256'], currentDate: new Date(clock.now()) });
    const now = Math.floor(clock.now() / 1000);
    expect(protectedHeader).toMatchObject({ alg: 'RS256', kid: auth.kids().at(-1) });
    expect(payload).toMatchObject({ iss: auth.issuer, iat: now, exp: now + 3600, sub: 'claude-worker', client_id: 'claude-worker' });
    expect(payload).not.toHaveProperty('aud');
  });

  it('puts aud, sub, scope and ttl from the options into a valid token', async () => {
    const payload = decodeJwt(await auth.mint('valid', { audience: AUDIENCE, subject: 'svc', scope: 'mcp:tools', ttlSeconds: 60 }));
    expect(payload).toMatchObject({ aud: AUDIENCE, sub: 'svc', scope: 'mcp:tools' });
    expect(payload.exp! - payload.iat!).toBe(60);
  });

  it('leaves aud out of no-audience tokens even when an audience is given', async () => {
    expect(decodeJwt(await auth.mint('no-audience', { audience: AUDIENCE }))).not.toHaveProperty('aud');
  });

  it('uses the wrong audience unless options.audience overrides it', async () => {
    expect(decodeJwt(await auth.mint('wrong-audience')).aud).toBe(WRONG_AUDIENCE);
    expect(decodeJwt(await auth.mint('wrong-audience', { audience: 'https://other.invalid' })).aud).toBe('https://other.invalid');
  });

  it('fails with ERR_AUTH_SERVER_MINT when with-audience has no audience', async () => {
    await expect(auth.mint('with-audience')).rejects.toMatchObject({ code: 'ERR_AUTH_SERVER_MINT' });
  });

  it('fails with ERR_AUTH_SERVER_TOKEN_KIND on an unknown kind', async () => {
    await expect(auth.mint('forged' as TokenKind)).rejects.toMatchObject({ code: 'ERR_AUTH_SERVER_TOKEN_KIND' });
  });

  it.each([
    ['a non-positive ttl', 'valid' as TokenKind, { ttlSeconds: 0 }],
    ['an unknown option', 'valid' as TokenKind, { audiance: 'x' }],
  ])('fails with ERR_AUTH_SERVER_MINT on %s', async (_case, kind, options) => {
    await expect(auth.mint(kind, options as never)).rejects.toMatchObject({ code: 'ERR_AUTH_SERVER_MINT' });
  });

  it('dates expired tokens one ttl in the past and not-yet-valid ones one ttl ahead', async () => {
    const now = Math.floor(clock.now() / 1000);
    expect(decodeJwt(await auth.mint('expired')).exp).toBe(now - 3600);
    expect(decodeJwt(await auth.mint('not-yet-valid')).nbf).toBe(now + 3600);
  });

  it('gives wrong-issuer tokens another issuer', async () => {
    expect(decodeJwt(await auth.mint('wrong-issuer')).iss).toBe(WRONG_ISSUER);
  });

  it('signs unknown-kid tokens with a key whose kid is not in the JWKS', async () => {
    const { kid } = decodeProtectedHeader(await auth.mint('unknown-kid'));
    expect(kid).toBeTypeOf('string');
    expect(auth.kids()).not.toContain(kid);
  });

  it('gives foreign-key tokens a published kid but another key\'s signature', async () => {
    const token = await auth.mint('foreign-key');
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'RS256', kid: auth.kids().at(-1) });
    const key = await jwks(decodeProtectedHeader(token), { payload: '', signature: '' });
    await expect(compactVerify(token, key)).rejects.toMatchObject({ code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' });
  });

  it('makes alg-none tokens unsecured', async () => {
    const token = await auth.mint('alg-none');
    expect(decodeProtectedHeader(token).alg).toBe('none');
    expect(token.endsWith('.')).toBe(true);
    expect(decodeJwt(token).iss).toBe(auth.issuer);
  });

  it('signs hs256-key-confusion tokens with the public key PEM as HMAC secret', async () => {
    const token = await auth.mint('hs256-key-confusion');
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'HS256', kid: auth.kids().at(-1) });
    const { keys } = (await (await fetch(auth.jwksUrl)).json()) as { keys: JWK[] };
    const published = keys.find((key) => key.kid === auth.kids().at(-1))!;
    const pem = await exportSPKI((await importJWK(published, 'RS256')) as CryptoKey);
    const secret = new TextEncoder().encode(pem);
    await expect(jwtVerify(token, secret, { algorithms: ['HS256'], currentDate: new Date(clock.now()) })).resolves.toBeDefined();
  });

  it('changes the payload of tampered tokens after signing', async () => {
    const token = await auth.mint('tampered', { subject: 'claude-worker' });
    expect(decodeJwt(token).sub).toBe('admin');
    await expect(jwtVerify(token, jwks, { algorithms: ['RS256'] })).rejects.toMatchObject({ code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' });
  });

  it('returns the literal not-a-jwt and empty tokens', async () => {
    expect(await auth.mint('not-a-jwt')).toBe(NOT_A_JWT);
    expect(await auth.mint('empty')).toBe('');
  });
});
