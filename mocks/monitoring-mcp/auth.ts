import type { RequestHandler, Response } from 'express';
import * as z from 'zod';
import { bearerToken, decodeOnlyAuth } from '../shared/index.ts';
import type { ServiceLog } from '../../common/index.ts';
import type { TokenValidator } from './token-validator.ts';

/** `strict`: auth.py as deployed (verify the JWT); `decode-only`: the seed's Option 2 (decode, log, allow). */
export const AUTH_MODES = ['strict', 'decode-only'] as const;
export const AuthModeSchema = z.enum(AUTH_MODES);
export type AuthMode = z.infer<typeof AuthModeSchema>;

/** What every rejected token gets, byte for byte as the incident's curl showed it. */
export const INVALID_TOKEN_BODY = { error: 'invalid_token', error_description: 'The access token is malformed or invalid' } as const;
/**
 * What a request without a Bearer token gets: the MCP Python SDK's RequireAuthMiddleware answer
 * (401, `invalid_token`, "Authentication required"), the usual shape for a Starlette MCP server.
 */
export const MISSING_TOKEN_BODY = { error: 'invalid_token', error_description: 'Authentication required' } as const;

/** Logged per request when MCP_JWT_AUDIENCE is unset, as auth.py logs it. */
export const DEVELOPMENT_MODE_MESSAGE = 'Skipping JWT validation - development mode (no MCP_JWT_AUDIENCE configured)';

function unauthorized(res: Response, body: { error: string; error_description: string }, resourceMetadataUrl: string | undefined): void {
  const metadata = resourceMetadataUrl ? `, resource_metadata="${resourceMetadataUrl}"` : '';
  res
    .status(401)
    .set('WWW-Authenticate', `Bearer error="${body.error}", error_description="${body.error_description}"${metadata}`)
    .json(body);
}

export interface MonitoringMcpAuthOptions {
  log: ServiceLog;
  authMode: AuthMode;
  /** MCP_JWT_AUDIENCE; empty or unset: development mode, no validation at all. */
  audience: string | undefined;
  /** Present when the mode is strict and an audience is set. */
  validator: TokenValidator | undefined;
  /** RFC 9728 metadata URL named in every 401's WWW-Authenticate (`resource_metadata`), when the server announces one. */
  resourceMetadataUrl?: string | undefined;
}

/**
 * The auth middleware of monitoring-mcp (src/shared/auth.py). Every decision is one log entry:
 * `auth.skipped` (development mode), `auth.allowed`, or `auth.rejected` with a `cause` from
 * AUTH_CAUSES and, for JWKS failures, the JWKS URL and network code.
 *
 * @example
 * app.use('/v1/mcp', monitoringMcpAuth({ log, authMode: 'strict', audience, validator }));
 */
export function monitoringMcpAuth(options: MonitoringMcpAuthOptions): RequestHandler {
  const { log, audience, validator } = options;
  const decodeOnly = decodeOnlyAuth(log);
  return (req, res, next) => {
    const base = { method: req.method, path: req.originalUrl };
    // auth.py: `if not self.expected_audience` comes first, so an empty MCP_JWT_AUDIENCE is development mode too.
    if (!audience) {
      log.write('auth.skipped', { ...base, mode: 'development', cause: 'no_audience_configured', detail: DEVELOPMENT_MODE_MESSAGE });
      next();
      return;
    }
    if (options.authMode === 'decode-only' || !validator) {
      decodeOnly(req, res, next);
      return;
    }
    const header = req.headers.authorization;
    const token = bearerToken(header);
    if (token === undefined) {
      log.write('auth.rejected', {
        ...base,
        mode: 'strict',
        cause: 'missing_token',
        detail: header === undefined ? 'no Authorization header' : 'Authorization header is not a Bearer token',
      });
      unauthorized(res, MISSING_TOKEN_BODY, options.resourceMetadataUrl);
      return;
    }
    validator.validate(token).then(
      (check) => {
        if (check.ok) {
          const { sub, iss, aud } = check.claims;
          log.write('auth.allowed', { ...base, mode: 'strict', sub, iss, aud, kid: check.kid });
          next();
          return;
        }
        const { ok: _ok, ...fields } = check;
        log.write('auth.rejected', { ...base, mode: 'strict', ...fields });
        unauthorized(res, INVALID_TOKEN_BODY, options.resourceMetadataUrl);
      },
      (error: unknown) => next(error),
    );
  };
}
