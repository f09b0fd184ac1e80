import { ClientError } from '../errors.ts';
import { mcpTimeoutMs } from '../mcp-timeout.ts';
import type { WorkerBox } from '../worker-box.ts';
import type { WorkerClient, WorkerLaunch } from '../worker-client.ts';
import type { WorkerReport } from '../worker-report.ts';
import { resolveClaudeBinary } from './claude-binary.ts';
import { runClaudeInBox } from './claude-box.ts';
import { canIsolateNetwork, runClaudeUntilInit, type ClaudeRun } from './claude-process.ts';
import { claudeReport } from './claude-report.ts';

export interface ClaudeCodeClientOptions {
  /** A Claude Code binary of the user's (their production worker's); default HARNESS_CLAUDE_BIN, then the pinned package. */
  bin?: string | undefined;
  /**
   * Its own network namespace with only loopback (`unshare -n`), reaching the egress through a
   * bridge. Default: where this process can (root, `unshare`, `ip`), unless HARNESS_CLAUDE_NETNS=0.
   */
  isolate?: boolean;
  /** The image it runs from in a box (the containers runtime); default HARNESS_CLAUDE_IMAGE, then mcp-topology-harness/claude-code:local. */
  image?: string | undefined;
}

/** Claude Code's own credentials: never given to the worker (the run is keyless; no request may reach a model). */
const CREDENTIALS = ['ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN', 'CLAUDE_CODE_OAUTH_TOKEN'];

/**
 * The real Claude Code as the worker: `claude -p --output-format stream-json --verbose
 * --mcp-config F --strict-mcp-config` with a fresh HOME, no API key, telemetry and non-essential
 * traffic off, `MCP_TIMEOUT` from the worker's env (default 30000) and all its traffic through
 * the worker's egress (HTTP_PROXY / HTTPS_PROXY). Reads the init line, stops it, and reports as
 * the simulated worker does. On this machine (`run`), or inside the worker's container (`runInBox`,
 * the containers runtime): the same process handling and the same report, only where it runs differs.
 *
 * @example
 * const report = await running.runWorker(claudeCodeClient({ bin: '/opt/claude/bin/claude' }));
 */
export function claudeCodeClient(options: ClaudeCodeClientOptions = {}): WorkerClient {
  return {
    name: 'claude-code',
    async run(launch: WorkerLaunch): Promise<WorkerReport> {
      if (launch.local) throw new ClientError('ERR_CLIENT_ARGUMENT', 'Claude Code runs in real time: start the topology without a virtual clock');
      const binary = await resolveClaudeBinary({ bin: options.bin });
      const mcpTimeout = claudeMcpTimeout(launch);
      const run = await runClaudeUntilInit({
        binary: binary.path,
        mcpJson: launch.mcpJson,
        settingsJson: launch.settingsJson,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...claudeEnv(launch, mcpTimeout) },
        mcpTimeoutMs: mcpTimeout,
        isolate: isolateFor(launch, options),
      });
      return reportOf(launch, run, mcpTimeout, binary.version);
    },
    async runInBox(launch: WorkerLaunch, box: WorkerBox): Promise<WorkerReport> {
      const mcpTimeout = claudeMcpTimeout(launch);
      const { run, version } = await runClaudeInBox(box, {
        mcpJson: launch.mcpJson,
        settingsJson: launch.settingsJson,
        env: claudeEnv(launch, mcpTimeout),
        mcpTimeoutMs: mcpTimeout,
        bin: options.bin,
        image: options.image,
      });
      // The container is a network namespace of its own whose one way out is the worker's egress.
      return reportOf(launch, { ...run, isolated: true }, mcpTimeout, version);
    },
  };
}

function claudeMcpTimeout(launch: WorkerLaunch): number {
  const mcpTimeout = mcpTimeoutMs(launch.env);
  if (typeof mcpTimeout !== 'number') throw new ClientError('ERR_CLIENT_ARGUMENT', `the worker's ${mcpTimeout.error}`);
  return mcpTimeout;
}

function reportOf(launch: WorkerLaunch, run: ClaudeRun, mcpTimeout: number, version: string | undefined): WorkerReport {
  const report = claudeReport({
    servers: launch.servers,
    env: launch.env,
    init: run.init,
    mcpLogs: run.mcpLogs,
    mcpTimeoutMs: mcpTimeout,
    elapsedMs: run.elapsedMs,
    settings: launch.settings,
  });
  const said = report.client?.version ?? version;
  report.client = { name: 'claude-code', ...(said ? { version: said } : {}), isolated: run.isolated };
  return report;
}

function isolateFor(launch: WorkerLaunch, options: ClaudeCodeClientOptions): { egress: { host: string; port: number } } | undefined {
  const wanted = options.isolate ?? process.env.HARNESS_CLAUDE_NETNS !== '0';
  if (!wanted || !canIsolateNetwork()) return undefined;
  const url = new URL(launch.egressProxyUrl);
  // Only an egress this machine reaches on loopback can be bridged (the in-process runtime's).
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) return undefined;
  return { egress: { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port) } };
}

/**
 * A pinned revision as Claude Code takes it: `MCP_PROTOCOL_NEGOTIATION=legacy` sends `initialize`
 * without the server/discover probe (read in its 2.1.332 bundle: `legacy` or `auto`, nothing
 * else). It has no setting for 2026-07-28 without the fallback.
 */
function negotiationEnv(launch: WorkerLaunch): Record<string, string> {
  if (launch.revision === undefined) return {};
  if (launch.revision === '2025-11-25') return { MCP_PROTOCOL_NEGOTIATION: 'legacy' };
  throw new ClientError(
    'ERR_CLIENT_ARGUMENT',
    `client_revision ${launch.revision}: Claude Code cannot be pinned to it (its MCP_PROTOCOL_NEGOTIATION takes legacy or auto); run this scenario with --client simulated, or use client_revision 2025-11-25 or none`,
  );
}

/**
 * Only what the worker has, plus what keeps the run keyless, quiet and behind its egress. PATH is
 * the launcher's: this machine's, or the container's.
 */
function claudeEnv(launch: WorkerLaunch, mcpTimeoutMs: number): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(launch.env)) if (!CREDENTIALS.includes(name)) env[name] = value;
  return {
    ...env,
    MCP_TIMEOUT: String(mcpTimeoutMs),
    ...negotiationEnv(launch),
    DISABLE_TELEMETRY: '1',
    DISABLE_AUTOUPDATER: '1',
    DISABLE_ERROR_REPORTING: '1',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    HTTP_PROXY: launch.egressProxyUrl,
    HTTPS_PROXY: launch.egressProxyUrl,
    http_proxy: launch.egressProxyUrl,
    https_proxy: launch.egressProxyUrl,
    NO_PROXY: '',
    no_proxy: '',
  };
}
