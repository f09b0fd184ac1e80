import type { McpServerStatus, WorkerReport } from './worker-report.ts';

/** The MCP part of the agent SDK's init message (`SDKSystemMessage`, subtype `init`). */
export interface InitMessage {
  type: 'system';
  subtype: 'init';
  mcp_servers: { name: string; status: McpServerStatus }[];
  /** Tools of connected servers, minus those a deny rule removes. Built-in tools are not simulated. */
  tools: string[];
}

/**
 * The init message the worker prints first, as Claude Code's agent SDK emits it (only its MCP
 * fields): servers in config order, and the tools the model gets.
 *
 * @example
 * JSON.stringify(initMessage(report));
 * // {"type":"system","subtype":"init","mcp_servers":[{"name":"grafana","status":"connected"},...],"tools":["mcp__grafana__query_prometheus",...]}
 */
export function initMessage(report: WorkerReport): InitMessage {
  const denied = new Set(report.denied);
  return {
    type: 'system',
    subtype: 'init',
    mcp_servers: report.servers.map((server) => ({ name: server.name, status: server.status })),
    tools: report.servers.filter((server) => server.status === 'connected').flatMap((server) => server.tools).filter((tool) => !denied.has(tool)),
  };
}

/**
 * The line the worker's Python log shows (a repr of the init message's `mcp_servers`), sorted by
 * name as in the incident.
 *
 * @example
 * formatMcpServersLine(report);
 * // 'mcp_servers': [{'name': 'alertmanager', 'status': 'connected'}, {'name': 'grafana', 'status': 'connected'}, {'name': 'prometheus', 'status': 'failed'}]
 */
export function formatMcpServersLine(report: Pick<WorkerReport, 'servers'>): string {
  const entries = [...report.servers]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((server) => `{${pyRepr('name')}: ${pyRepr(server.name)}, ${pyRepr('status')}: ${pyRepr(server.status)}}`);
  return `${pyRepr('mcp_servers')}: [${entries.join(', ')}]`;
}

/** Python's repr of a str: single quotes unless the text has a single quote and no double quote. */
function pyRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = quote;
  for (const char of text) {
    if (char === '\\') out += '\\\\';
    else if (char === quote) out += `\\${quote}`;
    else if (char === '\n') out += '\\n';
    else if (char === '\r') out += '\\r';
    else if (char === '\t') out += '\\t';
    else if (char < ' ' || char === '\x7f') out += `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`;
    else out += char;
  }
  return out + quote;
}
