import { z } from 'zod';
import { ClientError } from './errors.ts';
import { parseUserFile, userFileError, type ParsedUserFile } from './user-file.ts';

/** The two formats a worker's MCP servers are written in. */
export const WorkerConfigFormatSchema = z.enum(['agent-config', 'claude-json']);
/** `agent-config`: the seed's agent_config.yaml (`mcp_servers:`); `claude-json`: Claude Code's `{"mcpServers": ...}`. */
export type WorkerConfigFormat = z.infer<typeof WorkerConfigFormatSchema>;

/** A server the worker connects to over Streamable HTTP. `url` and `headers` are as written (unexpanded). */
export const HttpMcpServerConfigSchema = z.object({
  name: z.string().min(1),
  type: z.literal('http'),
  url: z.string().min(1),
  headers: z.record(z.string(), z.string()),
});
export type HttpMcpServerConfig = z.infer<typeof HttpMcpServerConfigSchema>;

/** Transports Claude Code knows but the harness does not simulate; such a server is reported `failed` (reason `config`). */
export const UnsupportedTransportSchema = z.enum(['stdio', 'sse', 'ws', 'sse-ide', 'ws-ide', 'sdk']);
export type UnsupportedTransport = z.infer<typeof UnsupportedTransportSchema>;

/** A server the config lists with a transport the harness does not simulate, and why. */
export const UnsupportedMcpServerConfigSchema = z.object({
  name: z.string().min(1),
  type: UnsupportedTransportSchema,
  unsupported: z.string().min(1),
});
export type UnsupportedMcpServerConfig = z.infer<typeof UnsupportedMcpServerConfigSchema>;

/** One server of the worker's config. */
export const McpServerConfigSchema = z.discriminatedUnion('type', [
  HttpMcpServerConfigSchema,
  UnsupportedMcpServerConfigSchema,
]);
export type McpServerConfig = z.infer<typeof McpServerConfigSchema>;

/** The worker's MCP servers, in file order. */
export const WorkerMcpConfigSchema = z.object({
  format: WorkerConfigFormatSchema,
  servers: z.array(McpServerConfigSchema),
});
export type WorkerMcpConfig = z.infer<typeof WorkerMcpConfigSchema>;

export interface ParseWorkerConfigOptions {
  /** Shown in errors; also used to sniff the format (`.json`). */
  file: string;
  /** Sniffed from the content when absent: `mcpServers` means claude-json, `mcp_servers` agent-config. */
  format?: WorkerConfigFormat;
}

// A server entry as written. Strict, so a typo (`header:`) is an error, not a silently missing header.
const RawHttpEntrySchema = z.strictObject({
  type: z.literal('http'),
  url: z.string({ error: (issue) => (issue.input === undefined ? 'missing url' : 'url must be a string') }).min(1, 'url must not be empty'),
  headers: z.record(z.string(), z.string({ error: 'header values must be strings (quote them)' })).optional(),
  // Claude Code's OAuth client settings; nothing to simulate without an OAuth flow.
  oauth: z.unknown().optional(),
  headersHelper: z.string().optional(),
});

const RawEntrySchema = z.record(z.string(), z.unknown(), { error: 'expected a mapping with type, url and headers' });
const ServersSchema = z.record(z.string(), z.unknown(), { error: 'expected a mapping of server name to server' });

const TOP_KEY: Record<WorkerConfigFormat, string> = { 'agent-config': 'mcp_servers', 'claude-json': 'mcpServers' };

/**
 * Reads the worker's MCP servers from the seed's agent_config.yaml or Claude Code's JSON.
 * `${VAR}` references are kept as written: connectWorker expands them. Transports other than
 * http come back as `{type, unsupported: reason}`; anything malformed is a ClientError
 * `ERR_WORKER_CONFIG` whose `location` names the file, line and field.
 *
 * @example
 * const { servers } = parseWorkerConfig(`
 * mcp_servers:
 *   prometheus:
 *     type: "http"
 *     url: "http://monitoring-mcp.service.dev-us-east-1.consul:8000/v1/mcp"
 *     headers:
 *       Authorization: "Bearer \${PROMETHEUS_TOKEN:-orchestration-agent}"
 * `, { file: 'agent_config.yaml' });
 */
export function parseWorkerConfig(text: string, options: ParseWorkerConfigOptions): WorkerMcpConfig {
  if (typeof text !== 'string') throw new ClientError('ERR_CLIENT_ARGUMENT', 'parseWorkerConfig: text must be a string');
  if (!options || typeof options.file !== 'string') {
    throw new ClientError('ERR_CLIENT_ARGUMENT', 'parseWorkerConfig: options.file is required');
  }
  const { file } = options;
  if (options.format !== undefined && !WorkerConfigFormatSchema.safeParse(options.format).success) {
    throw new ClientError('ERR_CLIENT_ARGUMENT', `parseWorkerConfig: unknown format ${JSON.stringify(options.format)}`);
  }
  const json = options.format === 'claude-json' || (options.format === undefined && looksLikeJson(text, file));
  const parsed = parseUserFile(text, { file, json, code: 'ERR_WORKER_CONFIG' });
  const root = parsed.value;
  if (root === null || typeof root !== 'object' || Array.isArray(root)) {
    fail(parsed, [], `expected a mapping with ${options.format ? TOP_KEY[options.format] : 'mcp_servers (agent_config.yaml) or mcpServers (Claude Code JSON)'}`);
  }
  const format = options.format ?? sniffFormat(parsed, root as Record<string, unknown>);
  const topKey = TOP_KEY[format];
  const rawServers = (root as Record<string, unknown>)[topKey];
  if (rawServers === undefined) fail(parsed, [], `missing ${topKey}`);
  // `mcp_servers:` with nothing under it: no servers, as an empty mapping would be.
  const servers = ServersSchema.safeParse(rawServers ?? {});
  if (!servers.success) fail(parsed, [topKey], servers.error.issues[0]?.message ?? 'invalid');

  const result: McpServerConfig[] = [];
  for (const [name, entry] of Object.entries(servers.data)) {
    result.push(parseEntry(parsed, [topKey, name], name, entry));
  }
  return { format, servers: result };
}

function parseEntry(parsed: ParsedUserFile, path: string[], name: string, entry: unknown): McpServerConfig {
  const shaped = RawEntrySchema.safeParse(entry);
  if (!shaped.success) fail(parsed, path, shaped.error.issues[0]?.message ?? 'invalid', { keyOnly: true });
  const raw = shaped.data;
  const type = raw.type ?? (raw.command !== undefined ? 'stdio' : undefined);
  if (type === undefined) fail(parsed, [...path, 'type'], 'missing type (the harness simulates type: "http")', { keyOnly: true });
  if (type === 'http') {
    const http = RawHttpEntrySchema.safeParse(raw);
    if (!http.success) {
      const issue = http.error.issues[0];
      const keys = issue?.code === 'unrecognized_keys' ? issue.keys : [];
      const issuePath = [...path, ...(issue?.path ?? []).map(String), ...keys.slice(0, 1)];
      const message = keys.length > 0
        ? `unknown field ${keys.map((k) => JSON.stringify(k)).join(', ')} (an http server has type, url, headers)`
        : (issue?.message ?? 'invalid');
      fail(parsed, issuePath, message, { keyOnly: keys.length > 0 });
    }
    if (http.data.headersHelper !== undefined) {
      fail(parsed, [...path, 'headersHelper'], 'headersHelper runs a local command to produce headers; the harness does not run it: write the headers out', { keyOnly: true });
    }
    return { name, type: 'http', url: http.data.url, headers: { ...http.data.headers } };
  }
  const transport = UnsupportedTransportSchema.safeParse(type);
  if (!transport.success) {
    fail(parsed, [...path, 'type'], `unknown type ${JSON.stringify(type)} (Claude Code knows stdio, sse, http, ws)`);
  }
  return { name, type: transport.data, unsupported: unsupportedReason(transport.data, raw) };
}

function unsupportedReason(type: UnsupportedTransport, raw: Record<string, unknown>): string {
  switch (type) {
    case 'stdio':
      return `a stdio server is a local process (command: ${JSON.stringify(raw.command ?? '')}); the harness simulates only type: "http"`;
    case 'sse':
      return 'the SSE transport (deprecated by MCP) is not simulated; the harness simulates only type: "http"';
    default:
      return `type "${type}" is not simulated; the harness simulates only type: "http"`;
  }
}

function looksLikeJson(text: string, file: string): boolean {
  return file.toLowerCase().endsWith('.json') || text.trimStart().startsWith('{');
}

function sniffFormat(parsed: ParsedUserFile, root: Record<string, unknown>): WorkerConfigFormat {
  const hasJsonKey = Object.hasOwn(root, 'mcpServers');
  const hasYamlKey = Object.hasOwn(root, 'mcp_servers');
  if (hasJsonKey && hasYamlKey) fail(parsed, [], 'both mcpServers and mcp_servers are present: say which format this is');
  if (hasJsonKey) return 'claude-json';
  if (hasYamlKey) return 'agent-config';
  fail(parsed, [], 'missing mcp_servers (agent_config.yaml) or mcpServers (Claude Code JSON)');
}

function fail(parsed: ParsedUserFile, path: string[], message: string, options: { keyOnly?: boolean } = {}): never {
  throw userFileError(parsed, 'ERR_WORKER_CONFIG', path, message, options);
}
