/**
 * # monitoring-mcp: the strict MCP server (monitoring-mcp/src/shared/auth.py)
 *
 * `GET /` answers `{"service":"Monitoring AI MCP Server","tools":[...six tools]}` without auth.
 * Streamable HTTP (SDK stateless mode; MCP_REVISIONS 2025-11-25 on the v1 SDK, 2026-07-28 on the
 * v2 SDK, both by default) at `/v1/mcp` behind the auth middleware:
 * - MCP_JWT_AUDIENCE unset or empty: development mode, nothing checked (`auth.skipped`);
 * - `authMode: 'decode-only'` (MCP_AUTH_MODE, the seed's Option 2): decode, log, allow all;
 * - `authMode: 'spec'` (MCP_AUTH_MODE=spec): what the MCP authorization specification (2025-11-25)
 *   asks: RFC 9728 metadata at the path-inserted and root well-known URLs, 401 with
 *   `WWW-Authenticate` naming resource_metadata and scope, `aud` must be MCP_JWT_AUDIENCE (its
 *   resource), scopes per tool (403 insufficient_scope), a foreign Origin 403, and its own
 *   credential (PROMETHEUS_BEARER_TOKEN) toward Prometheus (spec-auth.ts);
 * - strict (default): RS256 JWT, key by kid from the JWKS through JwksClient (PyJWKClient's
 *   caching as the release PYJWT_VERSION has it, 2.12 to 2.15, default 2.15: 300 s lifespan on the
 *   injected Clock; the unknown-kid refetch, every time up to 2.13, held by a 30 s cooldown from
 *   2.14; a failed fetch clears the cache in 2.12 and keeps it from 2.13; redirects followed up to
 *   2.13; see pyjwt-versions.ts), signature, then PyJWT's claim checks (iat, nbf, exp, iss if
 *   MCP_JWT_ISSUER is set; `aud` only with `verifyAudience`, the production fix).
 *
 * Rejections: 401 `{"error":"invalid_token","error_description":"The access token is malformed or invalid"}`
 * with `WWW-Authenticate: Bearer error="invalid_token", error_description="..."`. A missing or
 * non-Bearer Authorization header: 401 `invalid_token` / "Authentication required" (the MCP
 * Python SDK's RequireAuthMiddleware answer). Each decision is logged as `auth.allowed` /
 * `auth.rejected` / `auth.skipped` with a `cause` from AUTH_CAUSES; JWKS failures add `jwksUrl`
 * and `errorCode` (ECONNREFUSED, ETIMEDOUT, HTTP_500, ...), and the JWKS client logs
 * `jwks.fetched` / `jwks.fetch_failed`.
 *
 * Known differences from PyJWT, on purpose: the algorithm is checked before the JWKS lookup (PyJWT
 * looks the kid up first), so `alg: none` is `alg_not_allowed` without a JWKS request.
 *
 * Prometheus tools call PROMETHEUS_BASE_URL through the injected fetch (the prometheus area's
 * client); API errors and an unreachable Prometheus are tool errors (`isError: true`).
 *
 * @example
 * await using mcp = await startMonitoringMcp({ audience, issuer: auth.issuer, jwksUrl: auth.jwksUrl });
 * await using client = await connectMcpClient(mcp.mcpUrl, { token: await auth.mint('valid') });
 */
export { startMonitoringMcp, MONITORING_MCP_PATH, MONITORING_MCP_SERVICE } from './monitoring-mcp.ts';
export type { MonitoringMcpOptions, StartedMonitoringMcp } from './monitoring-mcp.ts';
export { monitoringMcpOptionsFromEnv, MCP_RESPONSE_DELAY_ENV } from './env.ts';
export { AUTH_MODES, AuthModeSchema, INVALID_TOKEN_BODY, MISSING_TOKEN_BODY, DEVELOPMENT_MODE_MESSAGE, monitoringMcpAuth } from './auth.ts';
export type { AuthMode, MonitoringMcpAuthOptions } from './auth.ts';
export { specAuth, withOwnCredentials, protectedResourceMetadata, metadataPaths, BASE_SCOPE, TOOL_SCOPES, SCOPES_SUPPORTED } from './spec-auth.ts';
export type { SpecAuthOptions } from './spec-auth.ts';
export { TokenValidator, AUTH_CAUSES, AuthCauseSchema, ALLOWED_ALGORITHM } from './token-validator.ts';
export type { AuthCause, TokenCheck, TokenValidatorOptions } from './token-validator.ts';
export { JwksClient } from './jwks-client.ts';
export {
  PYJWT_VERSIONS,
  PyJwtVersionSchema,
  DEFAULT_PYJWT_VERSION,
  PYJWT_VERSION_ENV,
  pyJwtBehaviour,
  parsePyJwtVersion,
  describePyJwtBehaviour,
  unknownPyJwtVersionMessage,
} from './pyjwt-versions.ts';
export type { PyJwtVersion, PyJwtBehaviour, UnknownKidRefetch } from './pyjwt-versions.ts';
export type { JwksClientOptions, JwksSigningKey } from './jwks-client.ts';
export { MONITORING_MCP_TOOLS, MONITORING_MCP_SERVICE_NAME, registerMonitoringMcpTools } from './tools.ts';
export type { MonitoringMcpToolsContext } from './tools.ts';
export { MonitoringMcpError } from './errors.ts';
export type { MonitoringMcpErrorCode, MonitoringMcpErrorOptions } from './errors.ts';
