import type { Request, RequestHandler, Response } from 'express';
import { InvalidTokenError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { getOAuthProtectedResourceMetadataUrl } from '@modelcontextprotocol/sdk/server/auth/router.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { JSON_RPC_SERVER_ERROR, sendJsonRpcError } from '../shared/index.ts';
import type { Fetch, ServiceLog } from '../../common/index.ts';
import type { TokenValidator } from './token-validator.ts';

/** The scope every request needs: connect, list tools, call the trivial tools. */
export const BASE_SCOPE = 'monitoring:read';
/** The scope a tool needs on top of BASE_SCOPE, when it needs one. */
export const TOOL_SCOPES: Readonly<Record<string, string>> = {
  prometheus_query: 'prometheus:read',
  get_rules: 'prometheus:read',
  list_metrics: 'prometheus:read',
};
export const SCOPES_SUPPORTED = [BASE_SCOPE, 'prometheus:read'] as const;

const JSON_RPC_PARSE_ERROR = -32700;

export interface SpecAuthOptions {
  log: ServiceLog;
  /** The server's canonical URI (RFC 8707 resource): what `aud` must contain; the metadata's `resource`. */
  resource: string;
  /** The authorization server the metadata names (`authorization_servers`). */
  issuer: string;
  /** Verifies signature, iss, exp, nbf and `aud` = resource. */
  validator: TokenValidator;
  /** Origins allowed to call (browser clients); any other `Origin` gets 403. */
  allowedOrigins: readonly string[];
}

/** RFC 9728 protected resource metadata for `resource`. */
export function protectedResourceMetadata(options: Pick<SpecAuthOptions, 'resource' | 'issuer'>): Record<string, unknown> {
  return {
    resource: options.resource,
    authorization_servers: [options.issuer],
    scopes_supported: [...SCOPES_SUPPORTED],
    bearer_methods_supported: ['header'],
    resource_name: 'monitoring-mcp',
  };
}

/** Where the metadata is (the path-inserted well-known URL of `resource`), and the root one. */
export function metadataPaths(resource: string): { url: string; paths: string[] } {
  const url = getOAuthProtectedResourceMetadataUrl(new URL(resource));
  return { url, paths: [...new Set([new URL(url).pathname, '/.well-known/oauth-protected-resource'])] };
}

function scopesOf(claims: Record<string, unknown>): string[] {
  return typeof claims.scope === 'string' ? claims.scope.split(' ').filter(Boolean) : [];
}

// The body is read here (the SDK transport takes it as `parsedBody`), so the tool a tools/call names is known before auth.
async function readJson(req: Request, res: Response): Promise<boolean> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text === '') return true;
  try {
    req.body = JSON.parse(text);
    return true;
  } catch {
    sendJsonRpcError(res, 400, JSON_RPC_PARSE_ERROR, 'Parse error: Invalid JSON');
    return false;
  }
}

function toolOf(body: unknown): string | undefined {
  const messages = Array.isArray(body) ? body : [body];
  for (const message of messages) {
    const { method, params } = (message ?? {}) as { method?: unknown; params?: { name?: unknown } };
    if (method === 'tools/call' && typeof params?.name === 'string') return params.name;
  }
  return undefined;
}

/**
 * The spec-compliant auth of monitoring-mcp (`MCP_AUTH_MODE=spec`), built on the MCP SDK's
 * `requireBearerAuth`: a foreign `Origin` gets 403; a missing or invalid token 401 with
 * `WWW-Authenticate: Bearer error=..., scope="monitoring:read", resource_metadata="..."`; a token
 * whose `aud` is not this resource 401; a tools/call for a tool whose scope the token lacks 403
 * `insufficient_scope` naming the scopes needed. The SDK middleware also checks `exp` against the
 * system clock (the validator checks it on the injected Clock), so spec mode wants real time.
 *
 * @example
 * app.use('/v1/mcp', specAuth({ log, resource, issuer, validator, allowedOrigins: [] }));
 */
export function specAuth(options: SpecAuthOptions): RequestHandler {
  const { log, resource } = options;
  const resourceMetadataUrl = metadataPaths(resource).url;
  const verifier = {
    async verifyAccessToken(token: string): Promise<AuthInfo> {
      const check = await options.validator.validate(token);
      if (!check.ok) {
        const { ok: _ok, ...fields } = check;
        log.write('auth.rejected', { mode: 'spec', ...fields });
        throw new InvalidTokenError(check.detail);
      }
      const { claims } = check;
      return {
        token,
        clientId: typeof claims.client_id === 'string' ? claims.client_id : String(claims.sub ?? ''),
        scopes: scopesOf(claims),
        ...(typeof claims.exp === 'number' ? { expiresAt: claims.exp } : {}),
        resource: new URL(resource),
        extra: { sub: claims.sub, iss: claims.iss, aud: claims.aud, kid: check.kid },
      };
    },
  };
  const guards = new Map<string, RequestHandler>();
  const guard = (scopes: string[]): RequestHandler => {
    const key = scopes.join(' ');
    let handler = guards.get(key);
    if (!handler) {
      handler = requireBearerAuth({ verifier, requiredScopes: scopes, resourceMetadataUrl, expectedResource: new URL(resource) });
      guards.set(key, handler);
    }
    return handler;
  };
  return (req, res, next) => {
    const base = { mode: 'spec', method: req.method, path: req.originalUrl };
    const origin = req.headers.origin;
    if (origin !== undefined && !options.allowedOrigins.includes(origin)) {
      log.write('auth.rejected', { ...base, cause: 'forbidden_origin', detail: `Origin ${origin} is not allowed` });
      sendJsonRpcError(res, 403, JSON_RPC_SERVER_ERROR, `Forbidden: Origin ${origin} is not allowed`);
      return;
    }
    if (req.headers.authorization === undefined) log.write('auth.rejected', { ...base, cause: 'missing_token', detail: 'no Authorization header' });
    readJson(req, res).then(
      (ok) => {
        if (!ok) return;
        const tool = toolOf(req.body);
        const scopes = tool && TOOL_SCOPES[tool] ? [BASE_SCOPE, TOOL_SCOPES[tool]] : [BASE_SCOPE];
        res.once('finish', () => {
          if (res.statusCode === 403) log.write('auth.rejected', { ...base, cause: 'insufficient_scope', detail: `${tool} needs ${scopes.join(' ')}` });
        });
        guard(scopes)(req, res, (error?: unknown) => {
          if (error) return next(error);
          const auth = (req as Request & { auth?: AuthInfo }).auth;
          log.write('auth.allowed', { ...base, ...(auth?.extra ?? {}), scopes: auth?.scopes ?? [] });
          next();
        });
      },
      (error: unknown) => next(error),
    );
  };
}

/**
 * The server's own credential toward Prometheus: every request of `fetch` carries
 * `Authorization: Bearer <token>` (the server's, never the caller's: no token passthrough).
 *
 * @example
 * const prometheusFetch = withOwnCredentials(fetch, process.env.PROMETHEUS_BEARER_TOKEN);
 */
export function withOwnCredentials(fetch: Fetch, token: string | undefined): Fetch {
  if (!token) return fetch;
  return ((input: Parameters<Fetch>[0], init?: Parameters<Fetch>[1]) => {
    const headers = new Headers(init?.headers);
    headers.set('authorization', `Bearer ${token}`);
    return fetch(input, { ...init, headers });
  }) as Fetch;
}
