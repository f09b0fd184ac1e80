import type { Topology, TopologyNode } from '../topology/index.ts';
import { RuntimeError } from './errors.ts';

/** What a live update of a running topology has to do, node by node (the same in every runtime). */
export interface UpdatePlan {
  /** Nodes whose certificate (groups, IP) or firewall changed, or all of them when the Nebula version did: the shim takes them. */
  network: TopologyNode[];
  /** Service nodes whose env changed: each restarts alone. */
  restarted: TopologyNode[];
  /** The worker's servers, env, tokens or settings changed. */
  worker: boolean;
}

/**
 * Which nodes of a running topology an edit touches; throws ERR_RUNTIME_UPDATE for what cannot
 * change while it runs (nodes added, removed or renamed, what a node runs or serves, timeout_ms, dc).
 * Both runtimes apply the plan their own way; the containers runtime also asks it whether a running
 * topology can be reused for another scenario.
 *
 * @example
 * const plan = planUpdate(step0.topology, step1.topology);
 * plan.network.map((node) => node.name); // ['claude-worker']
 */
export function planUpdate(current: Topology, next: Topology): UpdatePlan {
  const names = (topology: Topology) => topology.nodes.map((node) => node.name).join(', ');
  if (names(current) !== names(next)) {
    throw new RuntimeError('ERR_RUNTIME_UPDATE', `the nodes changed (${names(current)} -> ${names(next)}): restart harness up to add, remove or rename nodes`);
  }
  if (current.timeoutMs !== next.timeoutMs || current.dc !== next.dc) {
    throw new RuntimeError('ERR_RUNTIME_UPDATE', 'timeout_ms or dc changed: restart harness up to apply it');
  }
  // A firewall is parsed for one Nebula version: a new version re-judges every node's rules.
  const nebulaChanged = current.nebula !== next.nebula;
  const plan: UpdatePlan = { network: [], restarted: [], worker: false };
  for (const [index, node] of next.nodes.entries()) {
    const before = current.nodes[index]!;
    if (before.run !== node.run || !same(before.service, node.service) || !same(before.container, node.container)) {
      throw new RuntimeError('ERR_RUNTIME_UPDATE', `${node.name}: what it runs or serves changed: restart harness up to apply it`);
    }
    if (nebulaChanged || !same(before.identity, node.identity) || !same(before.firewallConfig, node.firewallConfig)) plan.network.push(node);
    if (node.run === 'worker') plan.worker = !same(before.worker, node.worker);
    else if (!same(before.env, node.env)) plan.restarted.push(node);
  }
  return plan;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
