import type { McpServerStatus, ReasonKind } from '../client/index.ts';
import type { NetworkEvent } from '../network/index.ts';
import type { Expectation } from '../topology/index.ts';

/** The hop on which a server's connection failed: which node to which, and what the shim decided there. */
export interface Hop {
  from: string;
  to: string;
  port: number;
  verdict?: 'allow' | 'drop' | 'reject' | 'no-such-host';
  /** The firewall side that decided, and its rule or why none matched. */
  side?: 'outbound' | 'inbound';
  rule?: string;
}

export interface Reason {
  kind: ReasonKind;
  detail: string;
  hop?: Hop;
}

/** One MCP server as the diagnosis sees it: the worker's status, and why. */
export interface ServerResult {
  name: string;
  status: McpServerStatus;
  url: string;
  /** The node serving the server's URL, when one does. */
  node?: string;
  /** How long the worker took to reach this status. */
  elapsedMs: number;
  tools: string[];
  /** Connected tools that settings.json does not allow. */
  unpermitted: string[];
  reason?: Reason;
}

/** A server result set beside what the scenario expected. */
export interface ServerOutcome extends ServerResult {
  expected?: Expectation;
  ok: boolean;
  /** Why it does not meet its expectation; empty when it does. */
  mismatches: string[];
}

export interface ScenarioResult {
  scenario: string;
  /** Who played the worker (and, for Claude Code, its version). */
  client?: { name: string; version?: string };
  file: string;
  description: string | undefined;
  ok: boolean;
  servers: ServerOutcome[];
  /** The worker's init message, as the real worker prints it. */
  init: { type: 'system'; subtype: 'init'; mcp_servers: { name: string; status: McpServerStatus }[]; tools: string[] };
  elapsedMs: number;
  /**
   * On a virtual clock: the virtual milliseconds the worker's run jumped over, i.e. the bounds it
   * would have waited out in real time (its inherent wait). Absent in real time.
   */
  waitedMs?: number;
  /** Every decision the network shim took during the run. */
  network: NetworkEvent[];
  /** Set when this runtime does not run the scenario (it brings its own server: containers only); ok stays true. */
  skipped?: string;
  /** Set when the scenario could not run at all (nothing else is then meaningful). */
  error?: { code: string; message: string };
}
