import type { Direction, Firewall, FirewallAction, FirewallRule, Proto } from './firewall.ts';
import { renderPort } from './firewall.ts';
import { denyAnsweredBy, nebulaBehaviour } from './versions.ts';
import type { NodeIdentity } from './identity.ts';

/** One question to the rules: may `from` open `to:port/proto`? */
export interface FlowQuery {
  from: { identity: NodeIdentity; firewall: Firewall };
  to: { identity: NodeIdentity; firewall: Firewall };
  port: number;
  proto: Exclude<Proto, 'any'>;
  /**
   * The address `from` dialled: `to`'s overlay IP (the default), or an address in one of `to`'s
   * unsafe networks (`subnets`), which `to` routes for.
   */
  toIp?: string;
  /** The address `from` sends from: its overlay IP (the default), or (a router's return traffic) an address in its `subnets`. */
  fromIp?: string;
  /** The initiator's port; only conntrack uses it. */
  sourcePort?: number;
}

/** What one side's table said. `rule` is the rule that matched; `misses` says why each other rule did not. */
export interface SideVerdict {
  node: string;
  direction: Direction;
  allowed: boolean;
  rule?: string;
  /** Index of the matching rule in its list. */
  ruleIndex?: number;
  reason: string;
  misses: { rule: string; index: number; why: string }[];
  /** How the node answers when this table denies. */
  action: FirewallAction;
  /**
   * The setting `action` comes from, in the firewall's Nebula version: up to 1.10.x an outbound
   * denial is answered by `inbound_action` and the other way round (#1798); absent on 1.6 (no reject).
   */
  answeredBy?: 'outbound_action' | 'inbound_action';
}

export interface FlowVerdict {
  verdict: 'allow' | 'drop' | 'reject';
  outbound: SideVerdict;
  inbound: SideVerdict;
}

/**
 * Nebula's decision for a new flow: the source's outbound table AND the destination's inbound
 * table must each have a matching rule (default deny). When denied, the first denying table's
 * answer applies (`denyAction`: which setting that is depends on the Nebula version). Pure.
 *
 * @example
 * const { verdict, outbound } = evaluateFlow({ from: worker, to: mcp, port: 8000, proto: 'tcp' });
 * // verdict 'drop'; outbound.reason:
 * // "outbound rule port 8000/tcp groups [dev, monitoring-ai-mcp] needs monitoring-ai-mcp; monitoring-mcp has [...]"
 */
export function evaluateFlow(query: FlowQuery): FlowVerdict {
  const outbound = evaluateSide(query, 'outbound');
  const inbound = evaluateSide(query, 'inbound');
  const verdict = !outbound.allowed ? outbound.action : !inbound.allowed ? inbound.action : 'allow';
  return { verdict, outbound, inbound };
}

/** A node as serviceFlows sees it: its identity and rules, and the port its service listens on. */
export interface FlowNode {
  name: string;
  identity: NodeIdentity;
  firewall: Firewall;
  service?: { port: number } | undefined;
}

/**
 * The verdict of every TCP flow a node could open to another node's service, in node order.
 *
 * @example
 * serviceFlows(topology.nodes).filter((flow) => flow.verdict.verdict === 'drop');
 */
export function serviceFlows<N extends FlowNode>(nodes: readonly N[]): { from: N; to: N; port: number; verdict: FlowVerdict }[] {
  const flows: { from: N; to: N; port: number; verdict: FlowVerdict }[] = [];
  for (const from of nodes) {
    for (const to of nodes) {
      if (to === from || !to.service) continue;
      const port = to.service.port;
      const verdict = evaluateFlow({ from: { identity: from.identity, firewall: from.firewall }, to: { identity: to.identity, firewall: to.firewall }, port, proto: 'tcp' });
      flows.push({ from, to, port, verdict });
    }
  }
  return flows;
}

/**
 * A flow verdict in one line: the denying table and why, or the two rules that let the flow in.
 *
 * @example
 * describeFlowVerdict(evaluateFlow(query)); // 'claude-worker outbound: outbound rule port 8000/tcp groups [...] needs ...'
 */
export function describeFlowVerdict(verdict: FlowVerdict): string {
  const denying = !verdict.outbound.allowed ? verdict.outbound : !verdict.inbound.allowed ? verdict.inbound : undefined;
  return denying
    ? `${denying.node} ${denying.direction}: ${denying.reason}`
    : `${verdict.outbound.node} outbound rule ${verdict.outbound.rule}; ${verdict.inbound.node} inbound rule ${verdict.inbound.rule}`;
}

/**
 * One node's table alone, for a packet of an existing connection (what conntrack falls back to
 * when its entry is gone): `query.from`'s outbound table, or `query.to`'s inbound one.
 *
 * @example
 * evaluateSide({ from: mcp, to: worker, port: 51000, proto: 'tcp' }, 'inbound').allowed; // worker's inbound rules
 */
export function evaluateSide(query: FlowQuery, direction: Direction): SideVerdict {
  const self = direction === 'outbound' ? query.from : query.to;
  const peer = direction === 'outbound' ? query.to.identity : query.from.identity;
  const rules = self.firewall[direction];
  const action = self.firewall.denyAction[direction];
  const answeredBy = denyAnsweredBy(nebulaBehaviour(self.firewall.nebula), direction);
  // Nebula's packet view: the local address is this node's end of the flow, the remote one the peer's.
  const addresses = direction === 'outbound'
    ? { local: query.fromIp ?? query.from.identity.ip, remote: query.toIp ?? query.to.identity.ip }
    : { local: query.toIp ?? query.to.identity.ip, remote: query.fromIp ?? query.from.identity.ip };
  const base = { node: self.identity.name, direction, action, ...(answeredBy ? { answeredBy } : {}) };
  const misses: SideVerdict['misses'] = [];
  for (const rule of rules) {
    const why = whyNot(rule, query, self, peer, addresses);
    if (why === undefined) {
      return {
        ...base,
        allowed: true,
        rule: rule.text,
        ruleIndex: rule.index,
        reason: `${direction} rule ${rule.text} of ${self.identity.name} matches ${peer.name}`,
        misses,
      };
    }
    misses.push({ rule: rule.text, index: rule.index, why });
  }
  const reason =
    misses.length === 0
      ? `${self.identity.name} has no ${direction} rules (default deny)`
      : misses.map((m) => `${direction} rule ${m.rule} ${m.why}`).join(' | ');
  return { ...base, allowed: false, reason, misses };
}

/**
 * Why `rule` does not match, or undefined when it does. Nebula's logic (every version modelled):
 * proto AND port AND (ca_sha OR ca_name) AND local_cidr AND (host OR group(s) OR cidr, or any).
 */
function whyNot(
  rule: FirewallRule,
  query: FlowQuery,
  node: { identity: NodeIdentity; firewall: Firewall },
  peer: NodeIdentity,
  addresses: { local: string; remote: string },
): string | undefined {
  const self = node.identity;
  if (rule.proto !== 'any' && rule.proto !== query.proto) return `is for ${rule.proto}, flow is ${query.proto}`;
  // Nebula reads no port from icmp, so only `port: any` rules can match it.
  const port = query.proto === 'icmp' ? 0 : query.port;
  const portWhy = portMiss(rule, port, query.proto);
  if (portWhy) return portWhy;

  const problems: string[] = [];
  if (rule.caName !== undefined || rule.caSha !== undefined) {
    const byName = rule.caName !== undefined && peer.caName === rule.caName;
    const bySha = rule.caSha !== undefined && peer.caSha === rule.caSha;
    if (!byName && !bySha) {
      const wanted = [rule.caName !== undefined && `ca_name ${rule.caName}`, rule.caSha !== undefined && `ca_sha ${rule.caSha}`]
        .filter(Boolean)
        .join(' or ');
      const has = [`CA ${peer.caName ?? '(unnamed)'}`, peer.caSha !== undefined && `sha ${peer.caSha}`].filter(Boolean).join(', ');
      problems.push(`needs ${wanted}; ${peer.name} has ${has}`);
    }
  }
  const localWhy = localMiss(rule, node, addresses.local);
  if (localWhy) problems.push(localWhy);
  if (!rule.anyPeer) {
    const selectorMisses: string[] = [];
    let matched = false;
    if (rule.groups) {
      const missing = rule.groups.filter((g) => !peer.groups.includes(g));
      if (missing.length === 0) matched = true;
      else selectorMisses.push(`needs ${missing.join(', ')}; ${peer.name} has [${peer.groups.join(', ')}]`);
    }
    if (rule.host !== undefined) {
      if (rule.host === peer.name) matched = true;
      else selectorMisses.push(`is for host ${rule.host}, not ${peer.name}`);
    }
    if (rule.cidr && rule.cidr !== 'any') {
      if (rule.cidr.contains(addresses.remote)) matched = true;
      else selectorMisses.push(`cidr ${rule.cidr.text} does not contain ${peer.name}'s ${addresses.remote}`);
    }
    if (!matched) problems.push(selectorMisses.join(', and '));
  }
  return problems.length === 0 ? undefined : problems.join('; and ');
}

/**
 * Nebula's firewallLocalCIDR: an explicit `local_cidr` must contain the local address; without
 * one, a node with unsafe networks and `default_local_cidr_any: false` only matches its own address.
 */
function localMiss(rule: FirewallRule, node: { identity: NodeIdentity; firewall: Firewall }, local: string): string | undefined {
  const self = node.identity;
  if (rule.localCidr === 'any') return undefined;
  if (rule.localCidr) {
    return rule.localCidr.contains(local) ? undefined : `local_cidr ${rule.localCidr.text} does not contain ${self.name}'s ${local}`;
  }
  if ((self.subnets ?? []).length === 0 || node.firewall.defaultLocalCidrAny || local === self.ip) return undefined;
  return `has no local_cidr, so on ${self.name} (which routes ${self.subnets!.join(', ')}) it covers only ${self.ip}, not ${local} (default_local_cidr_any: false)`;
}

function portMiss(rule: FirewallRule, port: number, proto: string): string | undefined {
  const p = rule.port;
  if (p.kind === 'any') return undefined;
  if (p.kind === 'fragment') return 'is for fragments only';
  if (port >= p.start && port <= p.end) return undefined;
  if (proto === 'icmp') return `is for port ${renderPort(p)}; icmp has no port, only port any matches it`;
  return `is for port ${renderPort(p)}, flow is to ${port}`;
}
