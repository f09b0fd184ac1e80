import type { Clock, LogEntry } from '../../common/index.ts';
import { mcpTimeoutMs, type WorkerReport } from '../client/index.ts';
import { RuntimeError } from './errors.ts';
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
 * The worker's own wait per server, from its env's MCP_TIMEOUT (validated when the scenario
 * loaded), as the simulated worker reads it in every runtime.
 */
export function workerTimeoutMs(topology: Topology): number {
  const worker = topology.nodes.find((node) => node.run === 'worker')!;
  const timeout = mcpTimeoutMs(worker.worker!.env);
  if (typeof timeout !== 'number') throw new RuntimeError('ERR_RUNTIME_START', timeout.error);
  return timeout;
}
