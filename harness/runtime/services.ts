import { startAuthServer } from '../../mocks/auth-server/index.ts';
import { startMonitoringAiMcp } from '../../mocks/monitoring-ai-mcp/index.ts';
import { startMonitoringMcp } from '../../mocks/monitoring-mcp/index.ts';
import { startPrometheus } from '../../mocks/prometheus/index.ts';
import type { Clock, Fetch, LogEntry } from '../../mocks/shared/index.ts';
import type { TokenSpec, TopologyNode } from '../topology/index.ts';
import { RuntimeError } from './errors.ts';

/** A simulated service running in this process for one node. */
export interface StartedNodeService {
  readonly port: number;
  readonly log: { readonly entries: readonly LogEntry[] };
  /** Only the auth server mints. */
  mint?(token: TokenSpec): Promise<string>;
  close(): Promise<void>;
}

export interface ServiceContext {
  /** The node's outbound fetch: through its network shim. */
  fetch: Fetch;
  clock: Clock | undefined;
  /** The worker's per-server bound; outbound calls of services are kept below it. */
  timeoutMs: number;
}

/** Kinds that carry the audience they are meant for; the others ignore a scenario's `audience`. */
const AUDIENCE_KINDS = new Set(['valid', 'with-audience']);

/**
 * Starts the simulated service of `node` on loopback (port 0) with the node's env, read as its
 * `main.ts` reads it, so that a scenario means the same in every runtime.
 */
export async function startNodeService(node: TopologyNode, context: ServiceContext): Promise<StartedNodeService> {
  const { env } = node;
  const service = node.service!;
  const own = `http://${service.host}:${service.port}`;
  const clock = context.clock ? { clock: context.clock } : {};
  switch (node.run) {
    case 'auth-server': {
      const auth = await startAuthServer({ ...clock, issuer: env.ISSUER || own });
      return {
        port: portOf(auth.url),
        log: auth.log,
        mint: (token) =>
          auth.mint(token.kind, {
            ...(token.audience !== undefined && AUDIENCE_KINDS.has(token.kind) ? { audience: token.audience } : {}),
            ...(token.subject !== undefined ? { subject: token.subject } : {}),
            ...(token.ttl_seconds !== undefined ? { ttlSeconds: token.ttl_seconds } : {}),
          }),
        close: () => auth.close(),
      };
    }
    case 'prometheus': {
      const prometheus = await startPrometheus({ ...clock });
      return { port: portOf(prometheus.url), log: prometheus.log, close: () => prometheus.close() };
    }
    case 'monitoring-ai-mcp': {
      const server = await startMonitoringAiMcp({ ...clock, ...(env.MCP_JWT_AUDIENCE ? { audience: env.MCP_JWT_AUDIENCE } : {}) });
      return { port: portOf(server.url), log: server.log, close: () => server.close() };
    }
    case 'monitoring-mcp': {
      const server = await startMonitoringMcp({
        ...clock,
        ...(env.MCP_JWT_AUDIENCE ? { audience: env.MCP_JWT_AUDIENCE } : {}),
        ...(env.MCP_JWT_ISSUER ? { issuer: env.MCP_JWT_ISSUER } : {}),
        ...(env.MCP_JWKS_URL ? { jwksUrl: env.MCP_JWKS_URL } : {}),
        ...(env.PROMETHEUS_BASE_URL ? { prometheusBaseUrl: env.PROMETHEUS_BASE_URL } : {}),
        verifyAudience: env.MCP_JWT_VERIFY_AUDIENCE === 'true',
        authMode: env.MCP_AUTH_MODE === 'decode-only' ? 'decode-only' : 'strict',
        fetch: context.fetch,
        // A JWKS behind a dropped flow must fail (401) before the worker gives up on the server.
        jwksTimeoutMs: Number(env.MCP_JWKS_TIMEOUT_MS) || Math.max(50, Math.floor(context.timeoutMs / 3)),
      });
      return { port: portOf(server.url), log: server.log, close: () => server.close() };
    }
    case 'worker':
      throw new RuntimeError('ERR_RUNTIME_START', `${node.name} runs the worker, not a service`);
  }
}

function portOf(url: string): number {
  return Number(new URL(url).port);
}
