import { evaluateFlow, serviceFlows, type FirewallRule } from '../network/index.ts';
import type { Topology, TopologyNode } from '../topology/index.ts';
import { CLAUSES } from './clauses.ts';
import type { CheckResult, Reachability } from './finding.ts';

/**
 * Which node reaches which service port (tcp), and by which rules: every node against every
 * other node's service, as the Nebula stand-in's evaluator decides it.
 *
 * @example
 * reachabilityMatrix(topology).filter((row) => row.from === 'claude-worker' && row.verdict === 'allow');
 */
export function reachabilityMatrix(topology: Topology): Reachability[] {
  return serviceFlows(topology.nodes).map(({ from, to, port, verdict }) => ({
    from: from.name,
    to: to.name,
    service: to.service!.host,
    port,
    verdict: verdict.verdict,
    outbound: { ...(verdict.outbound.rule ? { rule: verdict.outbound.rule } : {}), reason: verdict.outbound.reason },
    inbound: { ...(verdict.inbound.rule ? { rule: verdict.inbound.rule } : {}), reason: verdict.inbound.reason },
  }));
}

function coversTcpPort(rule: FirewallRule, port: number): boolean {
  if (rule.proto !== 'any' && rule.proto !== 'tcp') return false;
  return rule.port.kind === 'any' || (rule.port.kind === 'range' && rule.port.start <= port && port <= rule.port.end);
}

/** What the network checks need to know about the worker's servers. */
export interface NetworkTargets {
  worker: TopologyNode;
  /** Each worker server and the node serving it (undefined: no node answers to its host). */
  servers: { name: string; node: TopologyNode | undefined }[];
  /** Nodes the worker legitimately needs besides its MCP servers (its servers' authorization servers). */
  alsoNeeded: readonly string[];
  /** Every node of the topology, for rules that match none. */
  allNodes: readonly TopologyNode[];
}

/**
 * A worker outbound rule for a service port that no node serving that port matches (names a group
 * set none of them has): it lets nothing through, and usually means the rule was meant for a
 * target whose groups are other (the seed's `groups: [dev, monitoring-ai-mcp]` aimed at monitoring-mcp).
 * Each rule is judged alone by the evaluator, so an earlier rule cannot hide it.
 */
function unmatchedOutbound(worker: TopologyNode, nodes: readonly TopologyNode[]): CheckResult {
  const base = { id: 'net.worker-outbound-unmatched', title: `each of ${worker.name}'s outbound rules matches a node serving its port`, target: worker.name, clause: CLAUSES.networkLeastPrivilege, evidence: [] };
  const dead: string[] = [];
  for (const rule of worker.firewall.outbound) {
    if (rule.anyPeer || (rule.proto !== 'tcp' && rule.proto !== 'any')) continue;
    const serving = nodes.filter((node) => node !== worker && node.service && coversTcpPort(rule, node.service.port));
    if (serving.length === 0) continue;
    const alone = { ...worker.firewall, outbound: [rule] };
    const matched = serving.some(
      (node) => evaluateFlow({ from: { identity: worker.identity, firewall: alone }, to: { identity: node.identity, firewall: node.firewall }, port: node.service!.port, proto: 'tcp' }).outbound.allowed,
    );
    if (!matched) dead.push(`outbound rule #${rule.index} ${rule.text} matches none of ${serving.map((node) => `${node.name} [${node.identity.groups.join(', ')}]`).join(', ')}`);
  }
  return dead.length === 0
    ? { ...base, status: 'pass', severity: 'info', message: 'every outbound rule for a service port matches a node serving it' }
    : { ...base, status: 'fail', severity: 'low', message: dead.join('; ') };
}

/**
 * Network findings: whether the worker reaches each of its MCP servers (and by which rule), an
 * MCP server's inbound rule that admits any peer, and worker outbound rules that reach services
 * none of its MCP servers needs.
 *
 * @example
 * networkChecks(reachabilityMatrix(topology), { worker, servers, alsoNeeded: ['auth-server'] });
 */
export function networkChecks(matrix: readonly Reachability[], targets: NetworkTargets): CheckResult[] {
  const results: CheckResult[] = [];
  const worker = targets.worker.name;
  for (const server of targets.servers) {
    // The worker's finding: its view of the overlay, whichever side's rule decides.
    const base = { id: 'net.worker-reaches', title: `${worker} reaches each MCP server it lists`, target: worker, evidence: [] };
    if (!server.node) {
      results.push({ ...base, status: 'fail', severity: 'medium', message: `${server.name}: no node serves its host (a DNS failure for the worker)` });
      continue;
    }
    const row = matrix.find((entry) => entry.from === worker && entry.to === server.node!.name);
    if (!row) {
      results.push({ ...base, status: 'skip', severity: 'info', message: `${server.name}: ${server.node.name} has no service` });
      continue;
    }
    results.push(
      row.verdict === 'allow'
        ? { ...base, status: 'pass', severity: 'info', message: `${server.name}: allow ${worker} -> ${row.to}:${row.port}/tcp by outbound ${row.outbound.rule} and inbound ${row.inbound.rule}` }
        : {
            ...base,
            status: 'fail',
            severity: 'medium',
            message: `${server.name}: ${row.verdict} ${worker} -> ${row.to}:${row.port}/tcp: ${[row.outbound.rule ? undefined : row.outbound.reason, row.inbound.rule ? undefined : row.inbound.reason].filter(Boolean).join('; ')}`,
          },
    );
  }

  const serving = new Map<string, TopologyNode>();
  for (const server of targets.servers) if (server.node?.service) serving.set(server.node.name, server.node);
  for (const node of serving.values()) {
    const port = node.service!.port;
    const broad = node.firewall.inbound.filter((rule) => rule.anyPeer && coversTcpPort(rule, port));
    const base = { id: 'net.inbound-any', title: 'an MCP server admits only the peers it serves (no host: any / group: any inbound)', target: node.name, clause: CLAUSES.networkLeastPrivilege, evidence: [] };
    results.push(
      broad.length === 0
        ? { ...base, status: 'pass', severity: 'info', message: `no inbound rule on port ${port} admits any peer` }
        : { ...base, status: 'fail', severity: 'low', message: `inbound ${broad.map((rule) => `rule #${rule.index} ${rule.text}`).join(', ')} admits every node of the overlay to ${port}/tcp` },
    );
  }

  results.push(unmatchedOutbound(targets.worker, targets.allNodes));

  const needed = new Set([...serving.keys(), ...targets.alsoNeeded]);
  const extra = matrix.filter((row) => row.from === worker && row.verdict === 'allow' && !needed.has(row.to));
  const base = { id: 'net.worker-outbound-broad', title: `${worker}'s outbound rules reach only what its MCP servers need`, target: worker, clause: CLAUSES.networkLeastPrivilege, evidence: [] };
  results.push(
    extra.length === 0
      ? { ...base, status: 'pass', severity: 'info', message: `${worker} reaches no service beyond its MCP servers${targets.alsoNeeded.length ? ` and ${targets.alsoNeeded.join(', ')}` : ''}` }
      : { ...base, status: 'fail', severity: 'low', message: extra.map((row) => `reaches ${row.to}:${row.port}/tcp by outbound ${row.outbound.rule}, which none of its MCP servers needs`).join('; ') },
  );
  return results;
}
