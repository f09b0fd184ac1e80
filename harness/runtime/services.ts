import { authServerOptionsFromEnv, cachedKeys, startAuthServer, type AdminMintRequest, type MintOptions, type TokenKind } from '../../mocks/auth-server/index.ts';
import { loadFixtures, startMonitoringAiMcp, type Fixtures } from '../../mocks/monitoring-ai-mcp/index.ts';
import { monitoringMcpOptionsFromEnv, startMonitoringMcp } from '../../mocks/monitoring-mcp/index.ts';
import { loadPrometheusFixture, startPrometheus, type PrometheusFixture } from '../../mocks/prometheus/index.ts';
import { MCP_REVISIONS_ENV, parseMcpRevisions } from '../../mocks/shared/index.ts';
import type { Clock, Fetch, ServiceLog } from '../../common/index.ts';
import type { TopologyNode } from '../topology/index.ts';
import { RuntimeError } from './errors.ts';
import { authServerIssuer } from './tokens.ts';

/** A simulated service running in this process for one node. */
export interface StartedNodeService {
  readonly port: number;
  readonly log: ServiceLog;
  /** Only the auth server mints (a request from tokens.ts's mintRequest). */
  mint?(request: AdminMintRequest): Promise<string>;
  /** Only the auth server: any kind with any mint options (scope, client id), for `harness audit`. */
  mintWith?(kind: TokenKind, options?: MintOptions): Promise<string>;
  close(): Promise<void>;
}

export interface ServiceContext {
  /** The node's outbound fetch: through its network shim. */
  fetch: Fetch;
  clock: Clock | undefined;
}

// Once per process rather than once per topology: RSA-2048 key generation and reading and
// validating the shipped fixtures were most of a topology's start (see bench/RESULTS.md). Every
// topology still gets its own servers, logs and state; these inputs are only read.
const keys = cachedKeys();
let shippedAiFixtures: Promise<Fixtures> | undefined;
let shippedPrometheusFixture: PrometheusFixture | undefined;

function aiFixtures(): Promise<Fixtures> {
  shippedAiFixtures ??= loadFixtures().catch((error: unknown) => {
    shippedAiFixtures = undefined;
    throw error;
  });
  return shippedAiFixtures;
}

/**
 * Starts the simulated service of `node` on loopback (port 0) with the node's env, read as its
 * `main.ts` reads it, so that a scenario means the same in every runtime. A bad value (say
 * MCP_AUTH_MODE=lenient) fails the start with the service's own coded error.
 */
export async function startNodeService(node: TopologyNode, context: ServiceContext): Promise<StartedNodeService> {
  const { env } = node;
  const clock = context.clock ? { clock: context.clock } : {};
  // In this process every service listens on a free loopback port; PORT and HOST are for containers.
  const loopback = { host: '127.0.0.1', port: 0 };
  switch (node.run) {
    case 'auth-server': {
      const auth = await startAuthServer({
        ...authServerOptionsFromEnv(env),
        ...loopback,
        ...clock,
        keys,
        issuer: authServerIssuer(node),
      });
      return {
        port: portOf(auth.url),
        log: auth.log,
        mint: ({ kind, ...options }) => auth.mint(kind, options),
        mintWith: (kind, options) => auth.mint(kind, options),
        close: () => auth.close(),
      };
    }
    case 'prometheus': {
      const fixture = env.PROMETHEUS_FIXTURE || (shippedPrometheusFixture ??= loadPrometheusFixture());
      const prometheus = await startPrometheus({ ...loopback, ...clock, fixture });
      return { port: portOf(prometheus.url), log: prometheus.log, close: () => prometheus.close() };
    }
    case 'monitoring-ai-mcp': {
      const server = await startMonitoringAiMcp({
        ...loopback,
        ...clock,
        fixtures: await aiFixtures(),
        mcpRevisions: parseMcpRevisions(env[MCP_REVISIONS_ENV], MCP_REVISIONS_ENV),
        ...(env.MCP_JWT_AUDIENCE ? { audience: env.MCP_JWT_AUDIENCE } : {}),
      });
      return { port: portOf(server.url), log: server.log, close: () => server.close() };
    }
    case 'monitoring-mcp': {
      const fromEnv = monitoringMcpOptionsFromEnv(env);
      const server = await startMonitoringMcp({
        ...fromEnv,
        ...loopback,
        ...clock,
        fetch: context.fetch,
        log: undefined,
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
