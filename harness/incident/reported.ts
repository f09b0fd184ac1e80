import JSON5 from 'json5';
import { z } from 'zod';
import { StatusSchema, type ExpectedStatus } from '../topology/index.ts';
import { IncidentError } from './errors.ts';

const ReportedSchema = z.array(z.strictObject({ name: z.string().min(1), status: StatusSchema }));

/** One server as the worker's log reported it. */
export interface ReportedServer {
  name: string;
  status: ExpectedStatus;
}

/**
 * Reads a pasted `mcp_servers` log line: the worker's Python repr
 * (`'mcp_servers': [{'name': 'grafana', 'status': 'connected'}, ...]`), the SDK's JSON
 * (`"mcp_servers": [...]`), a whole init message, or the bare list. Python's single-quoted
 * strings are JSON5 strings, so JSON5 reads both forms.
 *
 * @example
 * parseReported("'mcp_servers': [{'name': 'prometheus', 'status': 'failed'}]"); // [{ name: 'prometheus', status: 'failed' }]
 */
export function parseReported(text: string): ReportedServer[] {
  const fail = (why: string): never => {
    throw new IncidentError('ERR_REPORTED_INVALID', `--reported: ${why} (expected a log line like 'mcp_servers': [{'name': 'grafana', 'status': 'connected'}, ...])`);
  };
  const key = /["']?mcp_servers["']?\s*[:=]\s*/.exec(text);
  const start = key ? key.index + key[0].length : text.indexOf('[');
  if (start < 0 || text[start] !== '[') fail(key ? 'mcp_servers is not followed by a list' : 'no mcp_servers list in it');
  const end = closingBracket(text, start) ?? fail(`the list opened at column ${start + 1} is not closed`);
  let value: unknown;
  try {
    value = JSON5.parse(text.slice(start, end + 1));
  } catch (error) {
    const { columnNumber } = error as { columnNumber?: number };
    fail(`not a list of {name, status}${columnNumber ? ` at column ${start + columnNumber}` : ''}: ${(error as Error).message.replace(/^JSON5: /, '')}`);
  }
  const parsed = ReportedSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    fail(`mcp_servers${issue.path.map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`)).join('')}: ${issue.message}`);
  }
  const names = parsed.data!.map((server) => server.name);
  const twice = names.find((name, index) => names.indexOf(name) !== index);
  if (twice) fail(`${twice} is listed twice`);
  return parsed.data!;
}

/** The index of the `]` closing the `[` at `start`, skipping quoted strings. */
function closingBracket(text: string, start: number): number | undefined {
  let depth = 0;
  let quote: string | undefined;
  for (let index = start; index < text.length; index++) {
    const char = text[index]!;
    if (quote) {
      if (char === '\\') index++;
      else if (char === quote) quote = undefined;
    } else if (char === '"' || char === "'") quote = char;
    else if (char === '[' || char === '{') depth++;
    else if (char === ']' || char === '}') {
      depth--;
      if (depth === 0) return char === ']' ? index : undefined;
    }
  }
  return undefined;
}
