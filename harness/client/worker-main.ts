import { readFile } from 'node:fs/promises';
import { fetchThrough, proxyDispatcher } from '../../common/index.ts';
import { connectWorker } from './connect-worker.ts';
import { ClientError } from './errors.ts';
import { mcpTimeoutMs } from './mcp-timeout.ts';
import { ClientRevisionSchema } from './revision-negotiation.ts';
import { parseWorkerConfig, WorkerConfigFormatSchema } from './worker-config.ts';
import { formatMcpServersLine, initMessage } from './worker-output.ts';
import type { WorkerReport } from './worker-report.ts';
import { parseWorkerSettings } from './worker-settings.ts';

export interface WorkerMainIo {
  readFile(path: string): Promise<string>;
  /** One line of stdout (without the newline). */
  write(line: string): void;
}

const defaultIo: WorkerMainIo = {
  readFile: (path) => readFile(path, 'utf8'),
  write: (line) => {
    process.stdout.write(`${line}\n`);
  },
};

/** The worker's `client_revision` in a container: the MCP revision it is pinned to (unset: negotiate). */
export const WORKER_REVISION_ENV = 'WORKER_CLIENT_REVISION';

/**
 * The simulated claude-worker as a process (what a container runs): reads `WORKER_CONFIG`
 * (agent_config.yaml or Claude Code JSON; `WORKER_CONFIG_FORMAT` to force one), optional
 * `WORKER_SETTINGS` (settings.json), `MCP_TIMEOUT` (as Claude Code: ms per server, default 30 s), and reaches the network through
 * `HTTP_PROXY` when set, as Claude Code does. `${VAR}` in the config expand from this same
 * environment. Writes three lines: the init message (JSON), the Python-style
 * `'mcp_servers': [...]` line, and `{"type":"harness_report","report":...}` (JSON).
 * Resolves with the report; bad input rejects with a ClientError.
 *
 * @example
 * // WORKER_CONFIG=/etc/worker/agent_config.yaml HTTP_PROXY=http://10.0.0.1:3128 node harness/client/main.ts
 * const report = await runWorkerMain(process.env);
 */
export async function runWorkerMain(env: NodeJS.ProcessEnv, io: WorkerMainIo = defaultIo): Promise<WorkerReport> {
  const configFile = env.WORKER_CONFIG;
  if (!configFile) throw new ClientError('ERR_CLIENT_ARGUMENT', 'WORKER_CONFIG must name the worker config file (agent_config.yaml or .mcp.json)');
  const format = env.WORKER_CONFIG_FORMAT ? WorkerConfigFormatSchema.safeParse(env.WORKER_CONFIG_FORMAT) : undefined;
  if (format && !format.success) {
    throw new ClientError('ERR_CLIENT_ARGUMENT', `WORKER_CONFIG_FORMAT must be ${WorkerConfigFormatSchema.options.join(' or ')}, got ${JSON.stringify(env.WORKER_CONFIG_FORMAT)}`);
  }
  const timeoutMs = mcpTimeoutMs(env);
  if (typeof timeoutMs !== 'number') throw new ClientError('ERR_CLIENT_ARGUMENT', timeoutMs.error);
  const config = parseWorkerConfig(await readUserFile(io, configFile, 'ERR_WORKER_CONFIG'), {
    file: configFile,
    ...(format?.success ? { format: format.data } : {}),
  });
  const settings = env.WORKER_SETTINGS
    ? parseWorkerSettings(await readUserFile(io, env.WORKER_SETTINGS, 'ERR_WORKER_SETTINGS'), { file: env.WORKER_SETTINGS })
    : undefined;
  const revision = env[WORKER_REVISION_ENV] ? ClientRevisionSchema.safeParse(env[WORKER_REVISION_ENV]) : undefined;
  if (revision && !revision.success) throw new ClientError('ERR_CLIENT_ARGUMENT', `${WORKER_REVISION_ENV} ${revision.error.issues[0]?.message ?? 'is unknown'}`);
  const proxy = env.HTTP_PROXY || env.http_proxy;
  // Its own connections, closed when the run ends (a long-lived worker process runs many).
  const dispatcher = proxy ? proxyDispatcher(proxy) : undefined;
  const fetch = dispatcher ? fetchThrough(() => dispatcher) : undefined;
  let report: WorkerReport;
  try {
    report = await connectWorker({
      servers: config.servers,
      env,
      timeoutMs,
      revision: revision?.data,
      ...(fetch ? { fetch } : {}),
      ...(settings ? { settings } : {}),
    });
  } finally {
    await dispatcher?.destroy();
  }
  io.write(JSON.stringify(initMessage(report)));
  io.write(formatMcpServersLine(report));
  io.write(JSON.stringify({ type: 'harness_report', report }));
  return report;
}

async function readUserFile(io: WorkerMainIo, path: string, code: 'ERR_WORKER_CONFIG' | 'ERR_WORKER_SETTINGS'): Promise<string> {
  try {
    return await io.readFile(path);
  } catch (error) {
    const reason = error && typeof error === 'object' && 'code' in error ? String(error.code) : 'unreadable';
    throw new ClientError(code, `${path}: cannot read (${reason})`, { file: path }, { cause: error });
  }
}
