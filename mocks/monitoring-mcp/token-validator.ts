import { compactVerify } from 'jose';
import type { CryptoKey } from 'jose';
import * as z from 'zod';
import { systemClock } from '../../common/index.ts';
import type { Clock } from '../../common/index.ts';
import { MonitoringMcpError } from './errors.ts';
import type { MonitoringMcpErrorCode } from './errors.ts';
import type { JwksClient } from './jwks-client.ts';

/**
 * Machine-readable reason of an auth decision, as the `cause` field of `auth.*` log entries:
 * what a diagnosis reads to name the failing hop.
 */
export const AUTH_CAUSES = [
  'jwks_unreachable',
  'jwks_invalid',
  'unknown_kid',
  'bad_signature',
  'expired',
  'not_yet_valid',
  'wrong_issuer',
  'wrong_audience',
  'alg_not_allowed',
  'malformed',
  'missing_token',
] as const;
export const AuthCauseSchema = z.enum(AUTH_CAUSES);
export type AuthCause = z.infer<typeof AuthCauseSchema>;

/** The only algorithm auth.py accepts (`algorithms=["RS256"]`). */
export const ALLOWED_ALGORITHM = 'RS256';

export type TokenCheck =
  | { ok: true; claims: Record<string, unknown>; kid: string | undefined }
  | {
      ok: false;
      cause: AuthCause;
      /** The error text PyJWT would give. */
      detail: string;
      kid?: string;
      alg?: unknown;
      /** For `jwks_*` causes: the JWKS URL and the network code (ECONNREFUSED, ETIMEDOUT, HTTP_500, ...). */
      jwksUrl?: string;
      errorCode?: string;
    };

export interface TokenValidatorOptions {
  jwks: JwksClient;
  /** Expected `iss` (MCP_JWT_ISSUER); unset: `iss` is not checked, as PyJWT does with `issuer=None`. */
  issuer?: string;
  /** MCP_JWT_AUDIENCE: only compared with `aud` when `verifyAudience` is on. */
  audience?: string;
  /** `verify_aud`: false in auth.py (the RFC 8707 workaround); true is the production fix. */
  verifyAudience?: boolean;
  clock?: Clock;
}

type Rejection = Extract<TokenCheck, { ok: false }>;

class Rejected extends Error {
  readonly rejection: Rejection;
  constructor(rejection: Rejection) {
    super(rejection.detail);
    this.rejection = rejection;
  }
}

function reject(cause: AuthCause, detail: string): never {
  throw new Rejected({ ok: false, cause, detail });
}

const JWKS_CAUSES: Partial<Record<MonitoringMcpErrorCode, AuthCause>> = {
  ERR_JWKS_UNREACHABLE: 'jwks_unreachable',
  ERR_JWKS_INVALID_JSON: 'jwks_invalid',
  ERR_JWKS_NOT_AN_OBJECT: 'jwks_invalid',
  ERR_JWKS_NO_KEYS: 'jwks_invalid',
  ERR_JWKS_NO_SIGNING_KEYS: 'jwks_invalid',
  ERR_JWKS_NO_MATCHING_KEY: 'unknown_kid',
};

function decodeSegment(segment: string, what: string): Buffer {
  // Like Python's base64url_decode: lenient about padding, rejects nothing but impossible lengths.
  if (segment.length % 4 === 1) reject('malformed', `Invalid ${what} padding`);
  return Buffer.from(segment, 'base64url');
}

function parseJsonObject(bytes: Buffer, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    reject('malformed', `Invalid ${what} string: ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) reject('malformed', `Invalid ${what} string: must be a json object`);
  return value as Record<string, unknown>;
}

// Python's int() on a JSON value, as PyJWT applies it to iat/nbf/exp; undefined where int() raises.
function pyInt(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return Math.trunc(value);
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string' && /^\s*[+-]?\d+\s*$/.test(value)) return Number.parseInt(value, 10);
  return undefined;
}

/**
 * The token check of monitoring-mcp's auth.py: `get_signing_key_from_jwt` then
 * `jwt.decode(token, key, algorithms=["RS256"], issuer=..., options={verify_aud: False, ...})`,
 * with PyJWT's order of checks (claims: iat, nbf, exp, iss, aud) and messages. One deliberate
 * difference: the algorithm is checked before the JWKS lookup (PyJWT looks the kid up first), so
 * an `alg: none` token without a kid is `alg_not_allowed`, not a JWKS refetch and `unknown_kid`.
 * Every outcome is a value; nothing throws.
 *
 * @example
 * const check = await new TokenValidator({ jwks, issuer }).validate(token);
 * if (!check.ok) log.write('auth.rejected', { cause: check.cause, detail: check.detail });
 */
export class TokenValidator {
  readonly #jwks: JwksClient;
  readonly #issuer: string | undefined;
  readonly #audience: string | undefined;
  readonly #verifyAudience: boolean;
  readonly #clock: Clock;

  constructor(options: TokenValidatorOptions) {
    this.#jwks = options.jwks;
    this.#issuer = options.issuer;
    this.#audience = options.audience;
    this.#verifyAudience = options.verifyAudience ?? false;
    this.#clock = options.clock ?? systemClock;
  }

  async validate(token: string): Promise<TokenCheck> {
    let kid: string | undefined;
    let alg: unknown;
    try {
      const segments = token.split('.');
      if (segments.length < 3) reject('malformed', 'Not enough segments');
      if (segments.length > 3) reject('malformed', 'Invalid payload padding');
      const [headerSegment = '', payloadSegment = '', signatureSegment = ''] = segments;
      const header = parseJsonObject(decodeSegment(headerSegment, 'header'), 'header');
      alg = header.alg;
      if ('kid' in header && typeof header.kid !== 'string') reject('malformed', 'Key ID header parameter must be a string');
      kid = header.kid as string | undefined;
      if ('crit' in header) {
        const crit = header.crit;
        if (!Array.isArray(crit) || crit.length === 0 || crit.some((c) => typeof c !== 'string')) reject('malformed', 'Invalid "crit" header parameter');
        if (crit.some((c) => c !== 'b64')) reject('malformed', 'Unsupported critical extension');
      }
      const claims = parseJsonObject(decodeSegment(payloadSegment, 'payload'), 'payload');
      decodeSegment(signatureSegment, 'crypto');

      if (!('alg' in header)) reject('alg_not_allowed', 'Algorithm not specified');
      if (alg !== ALLOWED_ALGORITHM) reject('alg_not_allowed', 'The specified alg value is not allowed');

      let key: CryptoKey | Uint8Array;
      try {
        ({ key } = await this.#jwks.getSigningKey(kid));
      } catch (error) {
        const cause = error instanceof MonitoringMcpError ? JWKS_CAUSES[error.code] : undefined;
        if (!cause) throw error;
        const networkCode = (error as MonitoringMcpError).networkCode;
        throw new Rejected({
          ok: false,
          cause,
          detail: (error as Error).message,
          jwksUrl: this.#jwks.url,
          ...(networkCode === undefined ? {} : { errorCode: networkCode }),
        });
      }

      try {
        await compactVerify(token, key, { algorithms: [ALLOWED_ALGORITHM] });
      } catch {
        reject('bad_signature', 'Signature verification failed');
      }

      this.#checkClaims(claims);
      return { ok: true, claims, kid };
    } catch (error) {
      const rejection: Rejection =
        error instanceof Rejected ? error.rejection : { ok: false, cause: 'malformed', detail: error instanceof Error ? error.message : String(error) };
      if (kid !== undefined) rejection.kid = kid;
      if (alg !== undefined) rejection.alg = alg;
      return rejection;
    }
  }

  // api_jwt._validate_claims with leeway 0: iat, nbf, exp, iss, then aud when verified; sub and jti types.
  #checkClaims(claims: Record<string, unknown>): void {
    const now = this.#clock.now() / 1000;
    if ('iat' in claims) {
      const iat = pyInt(claims.iat);
      if (iat === undefined) reject('malformed', 'Issued At claim (iat) must be an integer.');
      if (iat > now) reject('not_yet_valid', 'The token is not yet valid (iat)');
    }
    if ('nbf' in claims) {
      const nbf = pyInt(claims.nbf);
      if (nbf === undefined) reject('malformed', 'Not Before claim (nbf) must be an integer.');
      if (nbf > now) reject('not_yet_valid', 'The token is not yet valid (nbf)');
    }
    if ('exp' in claims) {
      const exp = pyInt(claims.exp);
      if (exp === undefined) reject('malformed', 'Expiration Time claim (exp) must be an integer.');
      if (exp <= now) reject('expired', 'Signature has expired');
    }
    if (this.#issuer !== undefined) {
      if (!('iss' in claims)) reject('wrong_issuer', 'Token is missing the "iss" claim');
      if (typeof claims.iss !== 'string') reject('wrong_issuer', 'Payload Issuer (iss) must be a string');
      if (claims.iss !== this.#issuer) reject('wrong_issuer', 'Invalid issuer');
    }
    if (this.#verifyAudience) this.#checkAudience(claims.aud);
    if ('sub' in claims && typeof claims.sub !== 'string') reject('malformed', 'Subject must be a string');
    if ('jti' in claims && typeof claims.jti !== 'string') reject('malformed', 'JWT ID must be a string');
  }

  #checkAudience(aud: unknown): void {
    const expected = this.#audience;
    const empty = aud === undefined || aud === null || aud === '' || (Array.isArray(aud) && aud.length === 0);
    if (expected === undefined) {
      if (!empty) reject('wrong_audience', 'Invalid audience');
      return;
    }
    if (empty) reject('wrong_audience', 'Token is missing the "aud" claim');
    const claimed = typeof aud === 'string' ? [aud] : aud;
    if (!Array.isArray(claimed) || claimed.some((c) => typeof c !== 'string')) reject('wrong_audience', 'Invalid claim format in token');
    if (!claimed.includes(expected)) reject('wrong_audience', "Audience doesn't match");
  }
}
