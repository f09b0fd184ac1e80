import { jsonLinesSink, proxiedFetch } from '../../common/index.ts';
import { listenOptionsFromEnv, MCP_REVISIONS_ENV, parseMcpRevisions } from '../shared/index.ts';
import { AuthModeSchema } from './auth.ts';
import { MonitoringMcpError } from './errors.ts';
import type { MonitoringMcpOptions } from './monitoring-mcp.ts';
import { parsePyJwtVersion, PYJWT_VERSION_ENV } from './pyjwt-versions.ts';

/**
 * MCP_RESPONSE_DELAY_MS: every POST held this long (a server slow under load), on the service's
 * clock: in real time in containers, jumped over on a scenario's virtual clock in-process.
 */
export const MCP_RESPONSE_DELAY_ENV = 'MCP_RESPONSE_DELAY_MS';

function flag(env: NodeJS.ProcessEnv, name: string): boolean {
  const value = (env[name] ?? '').trim().toLowerCase();
  if (['', '0', 'false', 'no', 'off'].includes(value)) return false;
  if (['1', 'true', 'yes', 'on'].includes(value)) return true;
  throw new MonitoringMcpError('ERR_MONITORING_MCP_OPTIONS', `${name} must be true or false, got ${JSON.stringify(env[name])}`);
}

function positive(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!(value > 0)) throw new MonitoringMcpError('ERR_MONITORING_MCP_OPTIONS', `${name} must be a positive number, got ${JSON.stringify(raw)}`);
  return value;
}

/**
 * The options `main.ts` starts the server with: PORT, HOST, MCP_JWT_AUDIENCE, MCP_JWT_ISSUER,
 * MCP_JWKS_URL, MCP_JWT_VERIFY_AUDIENCE, MCP_AUTH_MODE, MCP_ALLOWED_ORIGINS, PROMETHEUS_BASE_URL,
 * PROMETHEUS_BEARER_TOKEN, MCP_JWKS_TIMEOUT_MS, MCP_RESPONSE_DELAY_MS,
 * PYJWT_VERSION (the PyJWT release whose PyJWKClient the JWKS client behaves as; default the
 * current one), MCP_REVISIONS (2025-11-25, 2026-07-28 or both, the default), MCP_AUTHORIZATION_SERVER
 * and MCP_RESOURCE_URL (RFC 9728 metadata, opt-in), and HTTP_PROXY (all outbound traffic through it).
 * Bad values are ERR_MONITORING_MCP_OPTIONS.
 *
 * @example
 * await startMonitoringMcp(monitoringMcpOptionsFromEnv(process.env));
 */
export function monitoringMcpOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): MonitoringMcpOptions {
  const mode = AuthModeSchema.safeParse(env.MCP_AUTH_MODE || 'strict');
  if (!mode.success) {
    throw new MonitoringMcpError('ERR_MONITORING_MCP_OPTIONS', `MCP_AUTH_MODE must be one of ${AuthModeSchema.options.join(', ')}, got ${JSON.stringify(env.MCP_AUTH_MODE)}`);
  }
  const options: MonitoringMcpOptions = {
    ...listenOptionsFromEnv(env),
    authMode: mode.data,
    verifyAudience: flag(env, 'MCP_JWT_VERIFY_AUDIENCE'),
    pyjwtVersion: parsePyJwtVersion(env[PYJWT_VERSION_ENV], PYJWT_VERSION_ENV),
    mcpRevisions: parseMcpRevisions(env[MCP_REVISIONS_ENV], MCP_REVISIONS_ENV),
    fetch: proxiedFetch(env.HTTP_PROXY || undefined),
    log: jsonLinesSink,
  };
  if (env.MCP_JWT_AUDIENCE) options.audience = env.MCP_JWT_AUDIENCE;
  if (env.MCP_JWT_ISSUER) options.issuer = env.MCP_JWT_ISSUER;
  if (env.MCP_JWKS_URL) options.jwksUrl = env.MCP_JWKS_URL;
  if (env.PROMETHEUS_BASE_URL) options.prometheusBaseUrl = env.PROMETHEUS_BASE_URL;
  if (env.PROMETHEUS_BEARER_TOKEN) options.prometheusToken = env.PROMETHEUS_BEARER_TOKEN;
  if (env.MCP_ALLOWED_ORIGINS) options.allowedOrigins = env.MCP_ALLOWED_ORIGINS.split(',').map((origin) => origin.trim()).filter(Boolean);
  if (env.MCP_AUTHORIZATION_SERVER) options.authorizationServer = env.MCP_AUTHORIZATION_SERVER;
  if (env.MCP_RESOURCE_URL) options.resourceUrl = env.MCP_RESOURCE_URL;
  const timeout = positive(env, 'MCP_JWKS_TIMEOUT_MS');
  if (timeout !== undefined) options.jwksTimeoutMs = timeout;
  const delay = positive(env, MCP_RESPONSE_DELAY_ENV);
  if (delay !== undefined) options.responseDelayMs = delay;
  return options;
}
