import { ClientError } from '../errors.ts';
import type { WorkerClient, WorkerLaunch } from '../worker-client.ts';
import type { WorkerReport } from '../worker-report.ts';
import { resolveClaudeBinary } from './claude-binary.ts';
import { mcpTimeoutMs } from '../mcp-timeout.ts';
import { canIsolateNetwork, runClaudeUntilInit } from './claude-process.ts';
import { claudeReport } from './claude-report.ts';

export interface ClaudeCodeClientOptions {
  /** A Claude Code binary of the user's (their production worker's); default HARNESS_CLAUDE_BIN, then the pinned package. */
  bin?: string | undefined;
  /**
   * Its own network namespace with only loopback (`unshare -n`), reaching the egress through a
   * bridge. Default: where this process can (root, `unshare`, `ip`), unless HARNESS_CLAUDE_NETNS=0.
   */
  isolate?: boolean;
}

/** Claude Code's own credentials: never given to the worker (the run is keyless; no request may reach a model). */
const CREDENTIALS = ['ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN', 'CLAUDE_CODE_OAUTH_TOKEN'];

/**
 * The real Claude Code as the worker: `claude -p --output-format stream-json --verbose
 * --mcp-config F --strict-mcp-config` with a fresh HOME, no API key, telemetry and non-essential
 * traffic off, `MCP_TIMEOUT` from the worker's env (default 30000) and all its traffic through
 * the worker's egress (HTTP_PROXY / HTTPS_PROXY). Reads the init line, stops it, and reports as
 * the simulated worker does.
 *
 * @example
 * const report = await running.runWorker(claudeCodeClient({ bin: '/opt/claude/bin/claude' }));
 */
export function claudeCodeClient(options: ClaudeCodeClientOptions = {}): WorkerClient {
  return {
    name: 'claude-code',
    async run(launch: WorkerLaunch): Promise<WorkerReport> {
      const binary = await resolveClaudeBinary({ bin: options.bin });
      const mcpTimeout = mcpTimeoutMs(launch.env);
      if (typeof mcpTimeout !== 'number') throw new ClientError('ERR_CLIENT_ARGUMENT', `the worker's ${mcpTimeout.error}`);
      const run = await runClaudeUntilInit({
        binary: binary.path,
        mcpJson: launch.mcpJson,
        settingsJson: launch.settingsJson,
        env: claudeEnv(launch, mcpTimeout),
        mcpTimeoutMs: mcpTimeout,
        isolate: isolateFor(launch, options),
      });
      const report = claudeReport({
        servers: launch.servers,
        env: launch.env,
        init: run.init,
        mcpLogs: run.mcpLogs,
        mcpTimeoutMs: mcpTimeout,
        elapsedMs: run.elapsedMs,
        settings: launch.settings,
      });
      report.client = { name: 'claude-code', version: report.client?.version ?? binary.version, isolated: run.isolated };
      return report;
    },
  };
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

/** Only what the worker has, plus what keeps the run keyless, quiet and behind its egress. */
function claudeEnv(launch: WorkerLaunch, mcpTimeoutMs: number): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
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
