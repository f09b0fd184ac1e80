import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { CryptoKey, JWTPayload } from 'jose';
import { listen, ManualClock } from '../../common/index.ts';
import type { Listening } from '../../common/index.ts';
import { JwksClient, TokenValidator } from './index.ts';
import type { AuthCause, TokenValidatorOptions } from './index.ts';

// PyJWT's claim rules on hand-made tokens (the auth server's kinds are covered in test/tokens.test.ts).

const ISSUER = 'https://auth.example.invalid';
const AUDIENCE = 'https://monitoring-mcp.example.invalid/v1/mcp';
const KID = 'k1';
const clock = new ManualClock(Date.parse('2025-10-01T18:00:00Z'));
const NOW = clock.now() / 1000;

let jwksServer: Listening;
let privateKey: CryptoKey;

beforeAll(async () => {
  const pair = await generateKeyPair('RS256');
  privateKey = pair.privateKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: KID, use: 'sig' };
  jwksServer = await listen((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: [jwk] }));
  });
});
afterAll(() => jwksServer.close());

function sign(claims: JWTPayload, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: KID, ...header }).sign(privateKey);
}

function validator(options: Partial<TokenValidatorOptions> = {}): TokenValidator {
  const jwks = new JwksClient({ url: jwksServer.url, clock });
  return new TokenValidator({ jwks, clock, issuer: ISSUER, audience: AUDIENCE, ...options });
}

describe('TokenValidator', () => {
  it.each<[string, JWTPayload, AuthCause | null]>([
    ['without exp (PyJWT does not require it)', { iss: ISSUER }, null],
    ['whose exp is exactly now', { iss: ISSUER, exp: NOW }, 'expired'],
    ['whose exp is one second ahead', { iss: ISSUER, exp: NOW + 1 }, null],
    ['with iat in the future', { iss: ISSUER, iat: NOW + 60 }, 'not_yet_valid'],
    ['with nbf in the future', { iss: ISSUER, nbf: NOW + 60 }, 'not_yet_valid'],
    ['with a non-numeric exp', { iss: ISSUER, exp: 'soon' as never }, 'malformed'],
    ['with a numeric-string exp (Python int() takes it)', { iss: ISSUER, exp: String(NOW + 60) as never }, null],
    ['without iss', {}, 'wrong_issuer'],
    ['with a non-string sub', { iss: ISSUER, sub: 7 as never }, 'malformed'],
  ])('decides on a token %s', async (_label, claims, cause) => {
    const check = await validator().validate(await sign(claims));
    expect(check.ok ? null : check.cause).toBe(cause);
  });

  it('does not check iss when no issuer is configured', async () => {
    const check = await validator({ issuer: undefined }).validate(await sign({ iss: 'https://anyone.invalid' }));
    expect(check.ok).toBe(true);
  });

  it.each<[string, unknown, AuthCause | null]>([
    ['a list holding the audience', ['https://other.invalid', AUDIENCE], null],
    ['another audience', 'https://other.invalid', 'wrong_audience'],
    ['no aud', undefined, 'wrong_audience'],
    ['a non-string aud', 42, 'wrong_audience'],
  ])('with verifyAudience, decides on %s', async (_label, aud, cause) => {
    const claims: JWTPayload = { iss: ISSUER };
    if (aud !== undefined) claims.aud = aud as string;
    const check = await validator({ verifyAudience: true }).validate(await sign(claims));
    expect(check.ok ? null : check.cause).toBe(cause);
  });

  it('rejects a non-string kid as malformed before any JWKS request', async () => {
    const check = await validator().validate(await sign({ iss: ISSUER }, { kid: 5 }));
    expect(check).toMatchObject({ ok: false, cause: 'malformed', detail: 'Key ID header parameter must be a string' });
  });

  it('rejects a token whose payload is not a JSON object', async () => {
    const [header, , signature] = (await sign({ iss: ISSUER })).split('.');
    const check = await validator().validate(`${header}.${Buffer.from('[1]').toString('base64url')}.${signature}`);
    expect(check).toMatchObject({ ok: false, cause: 'malformed', detail: 'Invalid payload string: must be a json object' });
  });
});
