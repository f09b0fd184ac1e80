import { expandEnv, type WorkerEnv } from '../env-expansion.ts';
import type { McpServerConfig } from '../worker-config.ts';
import { McpServerStatusSchema, type FailureReason, type McpServerReport, type WorkerReport } from '../worker-report.ts';
import { unpermittedTools, type WorkerSettings } from '../worker-settings.ts';
import type { ClaudeInitLine, ClaudeMcpLogLine } from './claude-process.ts';

export interface ClaudeReportInput {
  servers: readonly McpServerConfig[];
  env: WorkerEnv;
  init: ClaudeInitLine;
  mcpLogs: Record<string, ClaudeMcpLogLine[]>;
  mcpTimeoutMs: number;
  elapsedMs: number;
  settings: WorkerSettings | undefined;
}

/**
 * Turns Claude Code's init line and its per-server MCP logs into the report the simulated worker
 * makes: status from `mcp_servers`, tools from `tools` (`mcp__<server>__<tool>`), and for a server
 * not connected a reason in Claude Code's own words (its MCP log's last error).
 *
 * @example
 * const report = claudeReport({ servers, env, init: run.init, mcpLogs: run.mcpLogs, mcpTimeoutMs: 30_000, elapsedMs: run.elapsedMs, settings: undefined });
 */
export function claudeReport(input: ClaudeReportInput): WorkerReport {
  const servers = input.servers.map((server) => serverReport(server, input));
  const report: WorkerReport = {
    servers,
    permissionsChecked: input.settings !== undefined,
    unpermitted: [],
    denied: [],
    client: { name: 'claude-code', ...(typeof input.init.claude_code_version === 'string' ? { version: input.init.claude_code_version } : {}) },
  };
  if (input.settings) {
    const unpermitted = unpermittedTools(report, input.settings);
    report.unpermitted = unpermitted.map((entry) => entry.tool);
    report.denied = unpermitted.filter((entry) => entry.reason === 'denied').map((entry) => entry.tool);
  }
  return report;
}

/** Claude Code's name for a server inside tool names and log folders. */
export function claudeServerKey(name: string): string {
  return name.replace(/[^a-zA-Z0-9_-]/g, '_');
}

function serverReport(server: McpServerConfig, input: ClaudeReportInput): McpServerReport {
  const logs = input.mcpLogs[server.name] ?? input.mcpLogs[claudeServerKey(server.name)] ?? [];
  const ours = server.type === 'http' ? expandServer(server, input.env) : { url: '', missing: [], authorization: undefined };
  // Claude Code's log redacts query values (`?toolset=REDACTED`): its URL only where ours is no URL at all.
  const url = URL.canParse(ours.url) ? ours.url : (transportUrl(logs) ?? ours.url);
  const entry = input.init.mcp_servers.find((candidate) => candidate.name === server.name);
  const elapsedMs = failedAfterMs(logs) ?? input.elapsedMs;
  const base = { name: server.name, url, missingEnv: ours.missing, elapsedMs };
  if (!entry) {
    return { ...base, status: 'failed', tools: [], reason: { kind: 'config', detail: `Claude Code did not list ${server.name} in its init line${lastError(logs) ? `: ${lastError(logs)}` : ''}` } };
  }
  const status = McpServerStatusSchema.safeParse(entry.status);
  if (!status.success) {
    return { ...base, status: 'failed', tools: [], reason: { kind: 'protocol', detail: `Claude Code reported status ${JSON.stringify(entry.status)}` } };
  }
  const prefix = `mcp__${claudeServerKey(server.name)}__`;
  const tools = input.init.tools.filter((tool) => tool.startsWith(prefix));
  if (status.data === 'connected') return { ...base, status: 'connected', tools };
  return { ...base, status: status.data, tools: [], reason: reasonOf(status.data, logs, ours.authorization, input.mcpTimeoutMs) };
}

function expandServer(server: Extract<McpServerConfig, { type: 'http' }>, env: WorkerEnv) {
  const url = expandEnv(server.url, env);
  const missing = new Set(url.missing);
  let authorization: string | undefined;
  for (const [name, value] of Object.entries(server.headers)) {
    const expanded = expandEnv(value, env);
    expanded.missing.forEach((entry) => missing.add(entry));
    if (name.toLowerCase() === 'authorization') authorization = expanded.value;
  }
  return { url: url.value, missing: [...missing], authorization };
}

/** The URL Claude Code itself expanded: its log's first line names it. */
function transportUrl(logs: ClaudeMcpLogLine[]): string | undefined {
  for (const line of logs) {
    const match = /^Initializing HTTP transport to (\S+)/.exec(line.debug ?? '');
    if (match) return match[1];
  }
  return undefined;
}

function failedAfterMs(logs: ClaudeMcpLogLine[]): number | undefined {
  for (const line of [...logs].reverse()) {
    const match = /Connection failed after (\d+)ms/.exec(line.debug ?? '');
    if (match) return Number(match[1]);
  }
  return undefined;
}

/** The last error Claude Code logged for the server, its first line (stack traces dropped). */
function lastError(logs: ClaudeMcpLogLine[]): string | undefined {
  const errors = logs.map((line) => line.error).filter((text): text is string => typeof text === 'string' && text.trim() !== '');
  const said = errors.filter((text) => !/\n\s+at /.test(text));
  const last = said.at(-1) ?? errors.at(-1);
  return last?.split('\n')[0]?.trim();
}

function reasonOf(status: 'failed' | 'needs-auth' | 'pending', logs: ClaudeMcpLogLine[], authorization: string | undefined, mcpTimeoutMs: number): FailureReason {
  if (status === 'pending') {
    return { kind: 'timeout', detail: `still connecting when Claude Code printed its init line (MCP_TIMEOUT ${mcpTimeoutMs} ms)` };
  }
  const said = lastError(logs);
  const all = logs.map((line) => `${line.error ?? ''} ${line.debug ?? ''}`).join('\n');
  const detail = `claude-code: ${said ?? (status === 'needs-auth' ? 'needs authentication' : 'no error logged')}`;
  if (status === 'needs-auth' || /HTTP 40[13]\b|\b40[13]\b.*(Unauthorized|Forbidden)|invalid_token|Dynamic Client Registration|OAuth|Authorization header/i.test(said ?? '')) {
    if (!hasCredentials(authorization)) return { kind: 'auth.missing_token', detail };
    if (/invalid_token/.test(all)) return { kind: 'auth.invalid_token', detail };
    return { kind: 'auth.unauthorized', detail };
  }
  const text = said ?? '';
  if (/ECONNREFUSED/.test(text)) return { kind: 'network.refused', detail };
  if (/ECONNRESET|socket connection was closed/i.test(text)) return { kind: 'network.refused', detail };
  if (/ENOTFOUND|EAI_AGAIN|getaddrinfo|resolve host|no such host/i.test(text)) return { kind: 'network.no_such_host', detail };
  if (/-32022|Unsupported protocol version|did not offer pinned protocol version/i.test(all)) return { kind: 'protocol.revision_mismatch', detail };
  if (/timed? ?out|timeout/i.test(text)) return { kind: 'timeout', detail };
  return { kind: 'protocol', detail };
}

function hasCredentials(authorization: string | undefined): boolean {
  if (authorization === undefined) return false;
  const [, credentials = ''] = /^\s*\S+\s*(.*)$/s.exec(authorization) ?? [];
  return credentials.trim() !== '';
}
