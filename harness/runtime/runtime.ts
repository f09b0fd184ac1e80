import type { Clock, LogEntry } from '../../common/index.ts';
import type { WorkerReport } from '../client/index.ts';
import type { NetworkEvent } from '../network/index.ts';
import type { Topology } from '../topology/index.ts';

export interface RuntimeOptions {
  clock?: Clock;
}

/** A topology brought up by a runtime: what ran, and what every part of it saw. */
export interface StartedTopology extends AsyncDisposable {
  readonly topology: Topology;
  /** Mints the worker's tokens, then runs the worker once: connect to every MCP server, initialize, tools/list. */
  runWorker(): Promise<WorkerReport>;
  /** Every decision the network shim took so far. */
  networkEvents(): readonly NetworkEvent[];
  /** The structured log of the service on `node` (empty for the worker). */
  serviceLog(node: string): readonly LogEntry[];
  close(): Promise<void>;
}

/** How a topology comes up. Runtimes differ in how they start nodes and wire the network, never in what a scenario means. */
export interface Runtime {
  readonly name: string;
  start(topology: Topology, options?: RuntimeOptions): Promise<StartedTopology>;
}

/**
 * monitoring-mcp's JWKS timeout when the scenario does not set MCP_JWKS_TIMEOUT_MS: half the worker's
 * bound, so that a JWKS behind a dropped flow fails (401) before the worker gives up on the server.
 */
export function defaultJwksTimeoutMs(workerTimeoutMs: number): number {
  return Math.max(50, Math.floor(workerTimeoutMs / 2));
}
