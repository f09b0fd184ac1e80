/**
 * # auth-server: a mock OAuth 2.0 authorization server (jose + express)
 *
 * Issues and publishes the tokens the incident's MCP servers see. Two loopback listeners:
 * - main (`url`): RFC 8414 `/.well-known/oauth-authorization-server`, OIDC
 *   `/.well-known/openid-configuration`, `POST /oauth/token`, `/.well-known/jwks.json`, `/admin/*`;
 * - JWKS (`jwksUrl`, the metadata's `jwks_uri`): the same JWKS on its own port, so the
 *   `connection-refused` fault can close it for a real ECONNREFUSED.
 *
 * Keys: RS256, 2048-bit, generated once when the server starts (and on `addKey`), kid = RFC 7638
 * thumbprint. The newest key signs; `retireKey` drops a key from the JWKS. `keys: cachedKeys()`
 * shares generated keys between the servers of one process (the in-process runtime does).
 * `rotateKeyAfterJwks: N` (ROTATE_KEY_AFTER_JWKS) starts mid-rotation: a second key signs every
 * token and joins the JWKS only after N JWKS answers (`key.rotated` in the log).
 *
 * Token endpoint: `grant_type=client_credentials`, client via HTTP Basic or form (any client
 * unless `clients` is set), optional `scope`, RFC 8707 `resource` -> `aud` (no resource, no aud).
 * Errors are RFC 6749 bodies: `invalid_request` / `unsupported_grant_type` / `invalid_scope` /
 * `invalid_target` (400), `invalid_client` (401).
 *
 * Tokens for scenarios: `mint(kind)` for every TokenKind; `describeTokenKind(kind)` tells what a
 * strict verifier (RS256, iss, exp, signature, no aud) and an audience-checking one do with it.
 *
 * JWKS faults (`setJwksFault`): http-500, slow (`slowMs`), invalid-json, empty-keyset,
 * connection-refused; `jwksRequests` counts JWKS fetches for cache tests.
 *
 * `/admin/*` is a TEST-ONLY, unauthenticated control API (mint, keys, faults, state) for runtimes
 * where the harness can't call methods, e.g. containers; see admin-api.ts.
 *
 * @example
 * await using auth = await startAuthServer({ clock: new ManualClock() });
 * const token = await auth.mint('with-audience', { audience: 'http://monitoring-mcp:8000/v1/mcp' });
 * const jwks = createRemoteJWKSet(new URL(auth.jwksUrl));
 * await jwtVerify(token, jwks, { issuer: auth.issuer, algorithms: ['RS256'] });
 */
export { startAuthServer } from './auth-server.ts';
export type { AuthServerOptions, StartedAuthServer } from './auth-server.ts';
export { AuthServerError } from './errors.ts';
export type { AuthServerErrorCode } from './errors.ts';
export { TOKEN_KINDS, TokenKindSchema, describeTokenKind, WRONG_AUDIENCE, WRONG_ISSUER, NOT_A_JWT } from './token-kinds.ts';
export type { TokenKind, TokenKindDescription, TokenVerdict, TokenDefect } from './token-kinds.ts';
export { MintOptionsSchema, DEFAULT_CLIENT_ID } from './mint.ts';
export type { MintOptions } from './mint.ts';
export { JWKS_FAULTS, JwksFaultSchema, DEFAULT_SLOW_MS } from './jwks-faults.ts';
export type { JwksFault } from './jwks-faults.ts';
export { AdminMintRequestSchema, AdminJwksFaultRequestSchema } from './admin-api.ts';
export type { AdminMintRequest, AdminJwksFaultRequest } from './admin-api.ts';
export type { OAuthClient } from './token-endpoint.ts';
export { cachedKeys, freshKeys } from './key-ring.ts';
export { rotateKeyAfterJwksFromEnv, ROTATE_KEY_AFTER_JWKS_ENV } from './rotation-env.ts';
export type { KeySource, SigningKey } from './key-ring.ts';
