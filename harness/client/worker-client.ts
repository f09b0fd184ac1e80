import { z } from 'zod';
import { proxiedFetch, type Fetch, type TimerClock } from '../../common/index.ts';
import { connectWorker } from './connect-worker.ts';
import type { WorkerBox } from './worker-box.ts';
import type { McpServerConfig } from './worker-config.ts';
import type { WorkerReport } from './worker-report.ts';
import type { WorkerSettings } from './worker-settings.ts';
import type { ClientRevision } from './revision-negotiation.ts';

/** Which program plays the worker: the harness's simulated claude-worker, or the real Claude Code. */
export const ClientNameSchema = z.enum(['simulated', 'claude-code']);
export type ClientName = z.infer<typeof ClientNameSchema>;

/** Claude Code's `.mcp.json` / `--mcp-config` form of the worker's servers, `${VAR}` kept as written. */
export interface ClaudeMcpJson {
  mcpServers: Record<string, { type: string; url?: string; headers?: Record<string, string> }>;
}

/**
 * Everything an outside client needs to play the worker of a started topology: the servers
 * (unexpanded, as the user wrote them), the environment the worker runs with (the scenario's env
 * plus the tokens the auth server minted), the egress proxy its traffic must go through, and the
 * same config in Claude Code's own file forms.
 */
export interface WorkerLaunch {
  /** The worker node's name. */
  node: string;
  servers: McpServerConfig[];
  /** The worker's environment: the scenario's `env` plus every minted token, by its variable name. */
  env: Record<string, string>;
  /** HTTP_PROXY / HTTPS_PROXY for the worker: refuses every host outside the topology. */
  egressProxyUrl: string;
  /** The worker's own wait per server: its env's MCP_TIMEOUT (Claude Code's default 30000 ms when unset). */
  timeoutMs: number;
  settings: WorkerSettings | undefined;
  /** The MCP revision the worker is pinned to; undefined: negotiate as Claude Code 2.1.332 (probe, then fall back). */
  revision?: ClientRevision | undefined;
  /** What `claude --mcp-config FILE` reads. */
  mcpJson: ClaudeMcpJson;
  /** settings.json content (permissions), or undefined when the scenario has none. */
  settingsJson: { permissions: WorkerSettings['permissions'] } | undefined;
  /**
   * In-process runs on a scenario's virtual clock only: the worker's fetch (through its egress,
   * counted by that clock) and the clock its deadlines run on. Clients in their own process
   * (Claude Code, a command) run in real time and refuse a launch that has it.
   */
  local?: { fetch: Fetch; clock: TimerClock };
}

/** One contract for every client adapter: a launch in, a report per server out. */
export interface WorkerClient {
  readonly name: ClientName;
  /** Runs the client on this machine (the in-process runtime, whose egress is on loopback). */
  run(launch: WorkerLaunch): Promise<WorkerReport>;
  /**
   * Runs the client's processes in `box`, the worker node's own place (a container on its network,
   * in the containers runtime), and reports the same as `run`. Absent: the client cannot run there.
   */
  runInBox?(launch: WorkerLaunch, box: WorkerBox): Promise<WorkerReport>;
}

/**
 * The worker's servers as Claude Code's `{"mcpServers": ...}` JSON.
 *
 * @example
 * claudeMcpJson(parseWorkerConfig(text, { file: 'agent_config.yaml' }).servers);
 * // { mcpServers: { prometheus: { type: 'http', url: 'http://...', headers: { Authorization: 'Bearer ${TOKEN}' } } } }
 */
export function claudeMcpJson(servers: readonly McpServerConfig[]): ClaudeMcpJson {
  return {
    mcpServers: Object.fromEntries(
      servers.map((server) => [server.name, server.type === 'http' ? { type: 'http', url: server.url, headers: { ...server.headers } } : { type: server.type }]),
    ),
  };
}

/**
 * Builds a WorkerLaunch from its parts (the runtimes call this).
 *
 * @example
 * const launch = workerLaunch({ node: 'claude-worker', servers, env, egressProxyUrl, timeoutMs: 1500, settings: undefined });
 */
export function workerLaunch(parts: Omit<WorkerLaunch, 'mcpJson' | 'settingsJson'>): WorkerLaunch {
  return {
    ...parts,
    mcpJson: claudeMcpJson(parts.servers),
    settingsJson: parts.settings ? { permissions: parts.settings.permissions } : undefined,
  };
}

/**
 * The simulated claude-worker as a client adapter: connectWorker through the worker's egress.
 *
 * @example
 * const report = await simulatedClient.run(await running.worker());
 */
export const simulatedClient: WorkerClient = {
  name: 'simulated',
  run: (launch) =>
    connectWorker({
      servers: launch.servers,
      env: launch.env,
      fetch: launch.local?.fetch ?? proxiedFetch(launch.egressProxyUrl),
      timeoutMs: launch.timeoutMs,
      revision: launch.revision,
      ...(launch.local ? { clock: launch.local.clock } : {}),
      ...(launch.settings ? { settings: launch.settings } : {}),
    }),
};
