import express from 'express';
import { delayed, listen, ServiceLog, systemClock } from '../../common/index.ts';
import type { Clock, Fetch, LogSink, Started } from '../../common/index.ts';
import { jsonFallbackHandlers, mcpRevisionsRouter, MCP_REVISIONS } from '../shared/index.ts';
import type { McpRevision } from '../shared/index.ts';
import { AuthModeSchema, monitoringMcpAuth } from './auth.ts';
import type { AuthMode } from './auth.ts';
import { MonitoringMcpError } from './errors.ts';
import { JwksClient } from './jwks-client.ts';
import { DEFAULT_PYJWT_VERSION, pyJwtBehaviour } from './pyjwt-versions.ts';
import type { PyJwtVersion } from './pyjwt-versions.ts';
import { metadataPaths, protectedResourceMetadata, specAuth, withOwnCredentials } from './spec-auth.ts';
import { TokenValidator } from './token-validator.ts';
import { MONITORING_MCP_SERVICE_NAME, MONITORING_MCP_TOOLS, registerMonitoringMcpTools } from './tools.ts';

/** Path of the MCP endpoint, as in the worker's `http://monitoring-mcp.service...:8000/v1/mcp`. */
export const MONITORING_MCP_PATH = '/v1/mcp';
export const MONITORING_MCP_SERVICE = 'monitoring-mcp';

/** The service's JWKS timeout unless MCP_JWKS_TIMEOUT_MS says otherwise. */
const DEFAULT_JWKS_TIMEOUT_MS = 5000;

export interface MonitoringMcpOptions {
  host?: string;
  port?: number;
  /** MCP_JWT_AUDIENCE. Unset or empty: development mode, no validation at all. */
  audience?: string;
  /** MCP_JWT_ISSUER: the expected `iss`; unset: `iss` not checked (PyJWT with `issuer=None`). */
  issuer?: string;
  /** MCP_JWKS_URL; required when strict mode validates (audience set). */
  jwksUrl?: string;
  /** MCP_JWT_VERIFY_AUDIENCE: the production fix, `aud` must contain `audience`. Default false (auth.py's verify_aud False). */
  verifyAudience?: boolean;
  /** MCP_AUTH_MODE: `strict` (default, auth.py as deployed), `decode-only` (the seed's Option 2) or `spec` (spec-auth.ts). */
  authMode?: AuthMode;
  /** MCP_REVISIONS: the MCP revisions served at /v1/mcp; default both (2025-11-25 on the v1 SDK, 2026-07-28 on the v2 SDK). */
  mcpRevisions?: readonly McpRevision[];
  /** MCP_ALLOWED_ORIGINS, spec mode: the Origins allowed; any other gets 403. Default none. */
  allowedOrigins?: string[];
  /** PROMETHEUS_BEARER_TOKEN, spec mode: the server's own credential toward Prometheus. */
  prometheusToken?: string;
  /** PROMETHEUS_BASE_URL, e.g. `http://trickster-dev:9090`. */
  prometheusBaseUrl?: string;
  /** Outbound fetch for the JWKS and Prometheus; the harness passes one through the node's network shim. */
  fetch?: Fetch;
  clock?: Clock;
  /** PYJWT_VERSION: the PyJWT release whose PyJWKClient the JWKS client behaves as; default the current one (2.15). */
  pyjwtVersion?: PyJwtVersion;
  /**
   * JWKS request timeout; default 5000 ms. PyJWT's own default is 30 s in every release (see
   * pyjwt-versions.ts), as long as Claude Code's MCP_TIMEOUT: kept shorter here so a hung JWKS shows
   * as a 401 the worker sees, not as a race with the worker's own deadline.
   */
  jwksTimeoutMs?: number;
  /**
   * MCP_RESPONSE_DELAY_MS: hold every POST to the MCP endpoint this long before handling it (a
   * server slow under load). A timer on `clock` (a deliberate wait: on a scenario's virtual clock
   * it costs no wall time), cleared when the client goes away.
   */
  responseDelayMs?: number;
  /** JWK set cache lifespan (PyJWKClient `lifespan`); default the PyJWT version's (300 s). */
  jwksLifespanSeconds?: number;
  /** Prometheus request timeout; default 10000 ms. */
  prometheusTimeoutMs?: number;
  /**
   * MCP_AUTHORIZATION_SERVER: announce RFC 9728 protected resource metadata naming this
   * authorization server (what the MCP Python SDK's auth settings do), at
   * `/.well-known/oauth-protected-resource[/v1/mcp]` and in each 401's `resource_metadata`. Default: none, as deployed.
   */
  authorizationServer?: string;
  /** MCP_RESOURCE_URL: the resource those documents name (the URL clients use); default the listening URL's `/v1/mcp`. */
  resourceUrl?: string;
  log?: LogSink;
}

export interface StartedMonitoringMcp extends Started {
  readonly log: ServiceLog;
  /** The MCP endpoint, e.g. `http://127.0.0.1:41234/v1/mcp`. */
  readonly mcpUrl: string;
  /** The JWKS client when tokens are verified (strict mode with an audience), else undefined. */
  readonly jwks: JwksClient | undefined;
}

function checkUrl(name: string, value: string | undefined): void {
  if (value === undefined) return;
  try {
    const url = new URL(value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    throw new MonitoringMcpError('ERR_MONITORING_MCP_OPTIONS', `${name} must be an http(s) URL, got ${JSON.stringify(value)}`);
  }
}

/**
 * Starts the strict MCP server (monitoring-mcp): `GET /` announces the service and its six tools;
 * Streamable HTTP at `/v1/mcp` behind auth.py's middleware: no audience configured, no
 * validation; otherwise RS256 JWTs verified against the JWKS (PyJWKClient caching), `iss`, `exp`,
 * `nbf`, and `aud` only with `verifyAudience`. Rejections answer 401 `invalid_token`.
 *
 * @example
 * await using mcp = await startMonitoringMcp({ audience: 'https://monitoring-mcp.example/v1/mcp', issuer: auth.issuer, jwksUrl: auth.jwksUrl });
 * await using client = await connectMcpClient(mcp.mcpUrl, { token: await auth.mint('valid') });
 */
export async function startMonitoringMcp(options: MonitoringMcpOptions = {}): Promise<StartedMonitoringMcp> {
  const clock = options.clock ?? systemClock;
  const fetch = options.fetch ?? globalThis.fetch;
  const authModeParsed = AuthModeSchema.safeParse(options.authMode ?? 'strict');
  if (!authModeParsed.success) {
    throw new MonitoringMcpError('ERR_MONITORING_MCP_OPTIONS', `authMode must be one of ${AuthModeSchema.options.join(', ')}, got ${JSON.stringify(options.authMode)}`);
  }
  const authMode = authModeParsed.data;
  const audience = options.audience || undefined;
  checkUrl('jwksUrl', options.jwksUrl);
  checkUrl('prometheusBaseUrl', options.prometheusBaseUrl);
  checkUrl('authorizationServer', options.authorizationServer);
  checkUrl('resourceUrl', options.resourceUrl);
  const prometheusTimeoutMs = options.prometheusTimeoutMs ?? 10_000;
  if (!(prometheusTimeoutMs > 0)) throw new MonitoringMcpError('ERR_MONITORING_MCP_OPTIONS', `prometheusTimeoutMs must be > 0, got ${prometheusTimeoutMs}`);

  // Validated before anything starts, even in modes that never verify a token.
  const pyjwt = pyJwtBehaviour(options.pyjwtVersion ?? DEFAULT_PYJWT_VERSION);
  const log = new ServiceLog(MONITORING_MCP_SERVICE, clock, options.log);
  let jwks: JwksClient | undefined;
  let validator: TokenValidator | undefined;
  if (authMode === 'spec' && (audience === undefined || options.issuer === undefined || options.jwksUrl === undefined)) {
    throw new MonitoringMcpError('ERR_MONITORING_MCP_OPTIONS', 'MCP_AUTH_MODE=spec needs its resource (MCP_JWT_AUDIENCE), its authorization server (MCP_JWT_ISSUER) and MCP_JWKS_URL');
  }
  if (audience !== undefined && authMode === 'spec') checkUrl('audience', audience);
  if (audience !== undefined && authMode !== 'decode-only') {
    if (options.jwksUrl === undefined) {
      throw new MonitoringMcpError('ERR_MONITORING_MCP_OPTIONS', 'strict auth with an audience (MCP_JWT_AUDIENCE) needs a JWKS URL (MCP_JWKS_URL)');
    }
    jwks = new JwksClient({
      url: options.jwksUrl,
      fetch,
      clock,
      log,
      pyjwtVersion: pyjwt.version,
      timeoutMs: options.jwksTimeoutMs ?? DEFAULT_JWKS_TIMEOUT_MS,
      ...(options.jwksLifespanSeconds === undefined ? {} : { lifespanSeconds: options.jwksLifespanSeconds }),
    });
    validator = new TokenValidator({
      jwks,
      clock,
      audience,
      verifyAudience: authMode === 'spec' || (options.verifyAudience ?? false),
      ...(options.issuer === undefined ? {} : { issuer: options.issuer }),
    });
  }

  const config = {
    authMode: audience === undefined ? 'development' : authMode,
    audience: audience ?? null,
    issuer: options.issuer ?? null,
    jwksUrl: options.jwksUrl ?? null,
    verifyAudience: authMode === 'spec' || (options.verifyAudience ?? false),
    pyjwtVersion: pyjwt.version,
    mcpRevisions: [...(options.mcpRevisions ?? MCP_REVISIONS)],
    prometheusBaseUrl: options.prometheusBaseUrl ?? null,
  };
  const app = express();
  app.disable('x-powered-by');
  app.get('/', (_req, res) => {
    res.json({ service: MONITORING_MCP_SERVICE_NAME, tools: MONITORING_MCP_TOOLS });
  });
  if (options.responseDelayMs) app.post(MONITORING_MCP_PATH, responseDelay(clock, options.responseDelayMs));
  let prometheusFetch = fetch;
  let resource = options.resourceUrl;
  if (authMode === 'spec') {
    const spec = { resource: audience!, issuer: options.issuer! };
    for (const path of metadataPaths(spec.resource).paths) app.get(path, (_req, res) => res.json(protectedResourceMetadata(spec)));
    app.use(MONITORING_MCP_PATH, specAuth({ log, ...spec, validator: validator!, allowedOrigins: options.allowedOrigins ?? [] }));
    prometheusFetch = withOwnCredentials(fetch, options.prometheusToken);
  } else {
    if (options.authorizationServer) {
      const authorizationServer = options.authorizationServer;
      app.get(['/.well-known/oauth-protected-resource', `/.well-known/oauth-protected-resource${MONITORING_MCP_PATH}`], (req, res) => {
        res.json({ resource: resource ?? `http://${req.headers.host}${MONITORING_MCP_PATH}`, authorization_servers: [authorizationServer], bearer_methods_supported: ['header'] });
      });
    }
    const resourceMetadataUrl = () => {
      if (!options.authorizationServer || !resource) return undefined;
      const url = new URL(resource);
      return `${url.origin}/.well-known/oauth-protected-resource${url.pathname}`;
    };
    const auth = { log, authMode, audience, validator };
    // Made on first use: the resource's URL may only be known once the server listens.
    let authHandler: ReturnType<typeof monitoringMcpAuth> | undefined;
    app.use(MONITORING_MCP_PATH, (req, res, next) => (authHandler ??= monitoringMcpAuth({ ...auth, resourceMetadataUrl: resourceMetadataUrl() }))(req, res, next));
  }
  app.use(
    mcpRevisionsRouter(MONITORING_MCP_PATH, options.mcpRevisions ?? MCP_REVISIONS, () => ({
      info: { name: MONITORING_MCP_SERVICE_NAME, version: '1.0.0' },
      register: (host) => registerMonitoringMcpTools(host, { prometheusBaseUrl: options.prometheusBaseUrl, fetch: prometheusFetch, timeoutMs: prometheusTimeoutMs, clock, log, info: config }),
    })),
  );
  app.use(...jsonFallbackHandlers());

  const listening = await listen(app, { host: options.host, port: options.port });
  resource ??= `${listening.url}${MONITORING_MCP_PATH}`;
  log.write('server.started', { url: listening.url, ...config });
  return {
    url: listening.url,
    mcpUrl: `${listening.url}${MONITORING_MCP_PATH}`,
    log,
    jwks,
    close: () => listening.close(),
    [Symbol.asyncDispose]: () => listening.close(),
  };
}

/** Holds each request `ms` on `clock` before the next handler; a request whose client left is not handled. */
function responseDelay(clock: Clock, ms: number): express.RequestHandler {
  return (_req, res, next) => {
    const cancel = delayed(clock, ms, () => {
      res.off('close', cancel);
      if (!res.destroyed) next();
    });
    res.once('close', cancel);
  };
}
