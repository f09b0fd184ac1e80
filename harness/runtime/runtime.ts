import type { MintOptions, TokenKind } from '../../mocks/auth-server/index.ts';
import type { Clock, Fetch, LogEntry } from '../../common/index.ts';
import { mcpTimeoutMs, type WorkerBox, type WorkerClient, type WorkerLaunch, type WorkerReport } from '../client/index.ts';
import { RuntimeError } from './errors.ts';
import type { NetworkEvent } from '../network/index.ts';
import type { NodeRun, Topology } from '../topology/index.ts';

export interface RuntimeOptions {
  clock?: Clock;
}

/** Where a node of a started topology is reached, for a client the harness does not run itself. */
export interface StartedNode {
  name: string;
  run: NodeRun;
  /**
   * The node's egress (HTTP_PROXY / HTTPS_PROXY): every connection opened through it is judged as
   * this node's. In-process a loopback URL; in containers the shim's name, reachable from a
   * container on this node's network only.
   */
  egressProxyUrl: string;
  /** The service as the topology names it (`http://<consul name>:<port>`), reached through an egress. */
  serviceUrl: string | undefined;
  /** Where this process reaches the service directly, past the network shim (undefined where it cannot). */
  localUrl: string | undefined;
}

/** Something a started topology saw happen: a decision of the network shim, or a line of a service's log. */
export type TopologyEvent = { kind: 'flow'; flow: NetworkEvent } | { kind: 'log'; node: string; entry: LogEntry };

export type TopologyEventListener = (event: TopologyEvent) => void;

/** What a live update changed in a running topology. */
export interface TopologyUpdate {
  /** Nodes whose certificate groups, overlay IP or firewall changed: the next flow is judged by the new ones. */
  network: string[];
  /** Service nodes whose env changed: each restarted alone. */
  restarted: string[];
  /** True when the worker's servers, env, tokens or settings changed (the next worker() has them). */
  worker: boolean;
}

/** A topology brought up by a runtime: what ran, and what every part of it saw. */
export interface StartedTopology extends AsyncDisposable {
  /** The topology as it runs now (a live update replaces it). */
  readonly topology: Topology;
  /** Every node, in the topology's order. */
  nodes(): StartedNode[];
  /**
   * Mints the worker's tokens and returns everything a client needs to play the worker: env with
   * the tokens, egress, servers and the same in Claude Code's `.mcp.json` and settings.json forms.
   */
  worker(): Promise<WorkerLaunch>;
  /**
   * Mints the worker's tokens, then runs the worker once (default: the simulated worker): connect
   * to every MCP server, initialize, tools/list.
   */
  runWorker(client?: WorkerClient): Promise<WorkerReport>;
  /** Every decision the network shim took so far. */
  networkEvents(): readonly NetworkEvent[];
  /**
   * Calls `listener` on each shim decision and each service log line from now on, as they happen;
   * returns the unsubscribe function.
   *
   * @example
   * const stop = running.onEvent((event) => { if (event.kind === 'flow') console.log(event.flow.verdict); });
   */
  onEvent(listener: TopologyEventListener): () => void;
  /**
   * Applies an edited topology without restarting what did not change: groups, IPs and firewalls
   * take effect on the next flow, a service whose env changed restarts alone. Adding, removing or
   * renaming nodes, or changing what a node runs or serves, throws ERR_RUNTIME_UPDATE.
   *
   * @example
   * const changed = await running.update(edited.topology); // { network: ['claude-worker'], restarted: [], worker: false }
   */
  update(topology: Topology): Promise<TopologyUpdate>;
  /** The structured log of the service on `node` (empty for the worker). */
  serviceLog(node: string): readonly LogEntry[];
  /**
   * Where the worker's processes run when not on this machine: in containers, a fresh container on
   * the worker's network per command (what runWorker and `harness up --exec` use). Absent in-process.
   */
  readonly workerBox?: WorkerBox;
  /** What `harness audit` acts through; only runtimes that can offer it (in-process) set it. */
  readonly probe?: TopologyProbe;
  close(): Promise<void>;
}

/** A way into a running topology as one of its nodes: its egress, the overlay's names, the auth server's mint. */
export interface TopologyProbe {
  /** `node`'s outbound fetch: through its egress, so its firewall and the peer's apply. */
  fetchAs(node: string): Fetch;
  /** What a name stands for on the overlay: the node, and where `host:port` really listens (loopback). */
  resolve(host: string, port: number): { node: string; target?: { host: string; port: number } } | undefined;
  /** A token of any kind with any claims, from the topology's auth server; undefined without one. */
  mint?(kind: TokenKind, options?: MintOptions): Promise<string>;
}

/** How a topology comes up. Runtimes differ in how they start nodes and wire the network, never in what a scenario means. */
export interface Runtime {
  readonly name: string;
  start(topology: Topology, options?: RuntimeOptions): Promise<StartedTopology>;
  /** A runtime that keeps topologies up for reuse: how many it keeps at once (more scenarios at a time would wait). */
  readonly capacity?: number;
  /** A runtime that reuses: scenarios of equal affinity run best one after another (nothing restarts between them). */
  affinity?(topology: Topology): string;
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
