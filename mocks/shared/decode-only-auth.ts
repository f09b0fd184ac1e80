import { decodeJwt } from 'jose';
import type { RequestHandler } from 'express';
import type { ServiceLog } from '../../common/index.ts';
import { bearerToken } from './mcp-http.ts';

/**
 * Auth middleware of monitoring-ai-mcp's unified_mcp_server.py (and of monitoring-mcp's "Option 2"):
 * decodes the bearer token WITHOUT verifying it, logs what it saw, and lets every request
 * through: a token that is not a JWT and a missing header included. Each request writes one
 * `auth.allowed` entry with `mode: 'decode-only'` and either the token's `sub`/`iss`/`aud` or a
 * `cause` (`malformed` with the decode error, `missing_token`).
 *
 * @example
 * app.use('/monitoring/v1/mcp', decodeOnlyAuth(log));
 */
export function decodeOnlyAuth(log: ServiceLog): RequestHandler {
  return (req, _res, next) => {
    const header = req.headers.authorization;
    const token = bearerToken(header);
    const base = { mode: 'decode-only', method: req.method, path: req.originalUrl };
    if (token === undefined) {
      log.write('auth.allowed', {
        ...base,
        cause: 'missing_token',
        detail: header === undefined ? 'no Authorization header' : 'Authorization header is not a Bearer token',
      });
    } else {
      try {
        const claims = decodeJwt(token);
        log.write('auth.allowed', { ...base, sub: claims.sub, iss: claims.iss, aud: claims.aud, detail: 'JWT decoded without validation' });
      } catch (error) {
        log.write('auth.allowed', {
          ...base,
          cause: 'malformed',
          detail: `JWT decode error: ${error instanceof Error ? error.message : String(error)}`,
        });
      }
    }
    next();
  };
}
