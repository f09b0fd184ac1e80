import type { Direction, Firewall, FirewallAction, FirewallRule, Proto } from './firewall.ts';
import { renderPort } from './firewall.ts';
import type { NodeIdentity } from './identity.ts';

/** One question to the rules: may `from` open `to:port/proto`? */
export interface FlowQuery {
  from: { identity: NodeIdentity; firewall: Firewall };
  to: { identity: NodeIdentity; firewall: Firewall };
  port: number;
  proto: Exclude<Proto, 'any'>;
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
  /** The table's action when it denies. */
  action: FirewallAction;
}

export interface FlowVerdict {
  verdict: 'allow' | 'drop' | 'reject';
  outbound: SideVerdict;
  inbound: SideVerdict;
}

/**
 * Nebula's decision for a new flow: the source's outbound table AND the destination's inbound
 * table must each have a matching rule (default deny). When denied, the outbound table's action
 * applies if outbound denies, else the inbound one's. Pure: same query, same answer.
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

function evaluateSide(query: FlowQuery, direction: Direction): SideVerdict {
  const self = direction === 'outbound' ? query.from : query.to;
  const peer = direction === 'outbound' ? query.to.identity : query.from.identity;
  const rules = self.firewall[direction];
  const action = direction === 'outbound' ? self.firewall.outboundAction : self.firewall.inboundAction;
  const base = { node: self.identity.name, direction, action };
  const misses: SideVerdict['misses'] = [];
  for (const rule of rules) {
    const why = whyNot(rule, query, self.identity, peer);
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
 * Why `rule` does not match, or undefined when it does. Nebula v1.9 logic:
 * proto AND port AND (ca_sha OR ca_name) AND local_cidr AND (host OR group(s) OR cidr, or any).
 */
function whyNot(rule: FirewallRule, query: FlowQuery, self: NodeIdentity, peer: NodeIdentity): string | undefined {
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
  if (rule.localCidr && rule.localCidr.bits !== 0 && !rule.localCidr.contains(self.ip)) {
    problems.push(`local_cidr ${rule.localCidr.text} does not contain ${self.name}'s ${self.ip}`);
  }
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
    if (rule.cidr) {
      if (rule.cidr.contains(peer.ip)) matched = true;
      else selectorMisses.push(`cidr ${rule.cidr.text} does not contain ${peer.name}'s ${peer.ip}`);
    }
    if (!matched) problems.push(selectorMisses.join(', and '));
  }
  return problems.length === 0 ? undefined : problems.join('; and ');
}

function portMiss(rule: FirewallRule, port: number, proto: string): string | undefined {
  const p = rule.port;
  if (p.kind === 'any') return undefined;
  if (p.kind === 'fragment') return 'is for fragments only';
  if (port >= p.start && port <= p.end) return undefined;
  if (proto === 'icmp') return `is for port ${renderPort(p)}; icmp has no port, only port any matches it`;
  return `is for port ${renderPort(p)}, flow is to ${port}`;
}
