import * as z from 'zod';
import { AuthServerError } from './errors.ts';

/** Every kind of bearer token the mock can mint; scenarios name them in YAML. */
export const TOKEN_KINDS = [
  'valid',
  'expired',
  'not-yet-valid',
  'wrong-issuer',
  'with-audience',
  'no-audience',
  'wrong-audience',
  'unknown-kid',
  'foreign-key',
  'alg-none',
  'hs256-key-confusion',
  'tampered',
  'not-a-jwt',
  'empty',
] as const;

export const TokenKindSchema = z.enum(TOKEN_KINDS);
export type TokenKind = z.infer<typeof TokenKindSchema>;

/** Throws ERR_AUTH_SERVER_TOKEN_KIND unless `kind` is one of TOKEN_KINDS (callers may pass YAML strings). */
export function assertTokenKind(kind: unknown): asserts kind is TokenKind {
  if (!TokenKindSchema.safeParse(kind).success) {
    throw new AuthServerError('ERR_AUTH_SERVER_TOKEN_KIND', `unknown token kind ${JSON.stringify(kind)}; one of: ${TOKEN_KINDS.join(', ')}`);
  }
}

/** The audience a `wrong-audience` token carries unless `options.audience` overrides it. */
export const WRONG_AUDIENCE = 'https://wrong.example.invalid/mcp';
/** The issuer a `wrong-issuer` token carries. */
export const WRONG_ISSUER = 'https://wrong-issuer.example.invalid';
/** The `not-a-jwt` token: the literal default of the incident's `${TOKEN:-orchestration-agent}`. */
export const NOT_A_JWT = 'orchestration-agent';

/**
 * Why a verifier rejects a token, independent of the JWT library:
 * `expired` (exp passed), `not-yet-valid` (nbf ahead), `issuer`, `audience` (missing or other aud),
 * `unknown-kid` (kid not in the JWKS), `signature` (does not verify with the kid's key),
 * `algorithm` (not RS256), `malformed` (not a compact JWS at all).
 */
export type TokenDefect =
  | 'expired'
  | 'not-yet-valid'
  | 'issuer'
  | 'audience'
  | 'unknown-kid'
  | 'signature'
  | 'algorithm'
  | 'malformed';

/** What one verifier does with a token. When rejected: why, and what jose's `jwtVerify` throws. */
export type TokenVerdict =
  | { accepted: true }
  | {
      accepted: false;
      defect: TokenDefect;
      /** `code` of the JOSEError jose's `jwtVerify` throws (verifier set up as described below). */
      joseCode: string;
      /** `claim` of a JWTClaimValidationFailed / JWTExpired, when the defect is a claim. */
      claim?: 'exp' | 'nbf' | 'iss' | 'aud';
    };

export interface TokenKindDescription {
  kind: TokenKind;
  summary: string;
  /**
   * True when the token decodes as a JWT without verification (jose `decodeJwt`): what a server
   * that only logs the unverified payload (monitoring-ai-mcp) gets out of it.
   */
  decodable: boolean;
  /**
   * A strict verifier: RS256 only, keys from the JWKS by kid, signature, `iss`, `exp`, `nbf`;
   * `aud` NOT checked (monitoring-mcp with verify_aud off). Token minted as `mint(kind, options)`
   * with any options (only `with-audience` needs one).
   */
  strict: TokenVerdict;
  /**
   * The strict verifier plus an `aud` check against audience A, for a token minted as
   * `mint(kind, { audience: A })`, except `wrong-audience` and `no-audience`, minted without
   * options (an audience would override / be ignored). So a kind's own defect shows, not a missing aud.
   */
  audienceChecked: TokenVerdict;
}

type Rejection = Exclude<TokenVerdict, { accepted: true }>;

const ACCEPTED: TokenVerdict = { accepted: true };
const AUDIENCE_REJECTED: Rejection = { accepted: false, defect: 'audience', joseCode: 'ERR_JWT_CLAIM_VALIDATION_FAILED', claim: 'aud' };

// One row per kind; the verdicts follow from what each kind changes about a valid token, and
// token-kinds.test.ts checks every row against jose's jwtVerify on real minted tokens.
const TABLE: Record<TokenKind, { summary: string; decodable: boolean; defect?: Rejection }> = {
  valid: { summary: 'signed by the current key, right issuer, iat/exp from the clock; aud only if options.audience', decodable: true },
  'with-audience': { summary: 'valid, aud = options.audience (required)', decodable: true },
  'no-audience': { summary: 'valid, no aud claim (ignores options.audience)', decodable: true },
  'wrong-audience': { summary: `valid, aud = options.audience ?? ${WRONG_AUDIENCE}`, decodable: true },
  expired: {
    summary: 'exp one ttl in the past',
    decodable: true,
    defect: { accepted: false, defect: 'expired', joseCode: 'ERR_JWT_EXPIRED', claim: 'exp' },
  },
  'not-yet-valid': {
    summary: 'nbf one ttl in the future',
    decodable: true,
    defect: { accepted: false, defect: 'not-yet-valid', joseCode: 'ERR_JWT_CLAIM_VALIDATION_FAILED', claim: 'nbf' },
  },
  'wrong-issuer': {
    summary: `iss = ${WRONG_ISSUER}`,
    decodable: true,
    defect: { accepted: false, defect: 'issuer', joseCode: 'ERR_JWT_CLAIM_VALIDATION_FAILED', claim: 'iss' },
  },
  'unknown-kid': {
    summary: 'signed by a key that is not in the JWKS, with that key\'s kid',
    decodable: true,
    defect: { accepted: false, defect: 'unknown-kid', joseCode: 'ERR_JWKS_NO_MATCHING_KEY' },
  },
  'foreign-key': {
    summary: 'kid of the current (published) key, signature made with another private key',
    decodable: true,
    defect: { accepted: false, defect: 'signature', joseCode: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' },
  },
  'alg-none': {
    summary: 'unsecured JWT, alg "none", empty signature',
    decodable: true,
    defect: { accepted: false, defect: 'algorithm', joseCode: 'ERR_JOSE_ALG_NOT_ALLOWED' },
  },
  'hs256-key-confusion': {
    summary: 'HS256 with the current key\'s public PEM as HMAC secret, kid of the current key',
    decodable: true,
    defect: { accepted: false, defect: 'algorithm', joseCode: 'ERR_JOSE_ALG_NOT_ALLOWED' },
  },
  tampered: {
    summary: 'valid token whose payload (sub) was changed after signing; signature kept',
    decodable: true,
    defect: { accepted: false, defect: 'signature', joseCode: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' },
  },
  'not-a-jwt': {
    summary: `the literal string "${NOT_A_JWT}"`,
    decodable: false,
    defect: { accepted: false, defect: 'malformed', joseCode: 'ERR_JWS_INVALID' },
  },
  empty: {
    summary: 'the empty string',
    decodable: false,
    defect: { accepted: false, defect: 'malformed', joseCode: 'ERR_JWS_INVALID' },
  },
};

/**
 * What a strict verifier, and one that also checks `aud`, should do with a token of `kind`.
 * Handy for tests elsewhere: the expected outcome comes from here, not from a second copy.
 *
 * @example
 * describeTokenKind('no-audience').strict.accepted;          // true
 * describeTokenKind('no-audience').audienceChecked.accepted; // false (defect 'audience')
 */
export function describeTokenKind(kind: TokenKind): TokenKindDescription {
  assertTokenKind(kind);
  const row = TABLE[kind];
  const strict = row.defect ?? ACCEPTED;
  const audienceChecked = kind === 'no-audience' || kind === 'wrong-audience' ? AUDIENCE_REJECTED : strict;
  return { kind, summary: row.summary, decodable: row.decodable, strict: { ...strict }, audienceChecked: { ...audienceChecked } };
}
