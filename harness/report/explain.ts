import { mcpToolPrefix } from '../client/index.ts';
import { describeDenial } from '../network/index.ts';
import type { Firewall } from '../network/index.ts';
import type { ScenarioResult, ServerOutcome } from '../runner/index.ts';
import type { Scenario, TopologyNode } from '../topology/index.ts';

/**
 * For each server that is not connected: the path the connection took, the hop and rule or
 * claim that stopped it, and what would make it pass.
 *
 * @example
 * process.stdout.write(formatExplanation(scenario, result));
 */
export function formatExplanation(scenario: Scenario, result: ScenarioResult): string {
  const lines = [`${scenario.id}${scenario.description ? `: ${scenario.description.trim()}` : ''}`, ''];
  if (result.error) return [...lines, `could not run: ${result.error.code}: ${result.error.message}`, ''].join('\n');
  for (const server of result.servers) {
    lines.push(`${server.name}: ${server.status}${server.url ? ` (${server.url})` : ''}`);
    if (server.status === 'connected') {
      lines.push(`  ${server.tools.length} tools: ${server.tools.join(', ')}`);
      if (server.unpermitted.length > 0) {
        lines.push(`  not allowed by settings.json: ${server.unpermitted.join(', ')}`);
        lines.push(`  to pass: add "${mcpToolPrefix(server.name).slice(0, -2)}" (or the tools one by one) to permissions.allow`);
      }
    } else if (server.reason) {
      const hop = server.reason.hop;
      if (hop) lines.push(`  hop: ${hop.from} -> ${hop.to}:${hop.port}${hop.verdict ? ` (${hop.verdict}${hop.side ? ` by ${hop.from === hop.to ? '' : hop.side === 'outbound' ? `${hop.from}'s outbound` : `${hop.to}'s inbound`} rules` : ''})` : ''}`);
      lines.push(`  why: ${server.reason.kind}: ${server.reason.detail}`);
      const nebula = denialVersion(scenario, server);
      if (nebula) lines.push(`  nebula: ${nebula}`);
      const fix = suggestion(scenario, server);
      if (fix) lines.push(`  to pass: ${fix}`);
    }
    if (!server.ok) lines.push(...server.mismatches.map((mismatch) => `  ✗ ${mismatch}`));
    lines.push('');
  }
  return `${lines.join('\n')}`;
}

/** The Nebula version behaviour that chose drop or reject for a blocked hop. */
function denialVersion(scenario: Scenario, server: ServerOutcome): string | undefined {
  const hop = server.reason?.hop;
  if (!hop?.side || (hop.verdict !== 'drop' && hop.verdict !== 'reject')) return undefined;
  const name = hop.side === 'outbound' ? hop.from : hop.to;
  const node = scenario.topology.nodes.find((candidate) => candidate.name === name);
  return node && describeDenial(node.firewall, hop.side, node.name);
}

function suggestion(scenario: Scenario, server: ServerOutcome): string | undefined {
  const reason = server.reason!;
  const nodes = scenario.topology.nodes;
  const from = nodes.find((node) => node.name === reason.hop?.from);
  const to = nodes.find((node) => node.name === reason.hop?.to);
  // A hop the firewall blocked, whatever it caused downstream (a timeout, a 401 for want of a JWKS).
  if (from && to && reason.hop && (reason.hop.verdict === 'drop' || reason.hop.verdict === 'reject')) {
    const fix = reason.hop.side === 'inbound'
      ? `add to ${to.name}'s firewall.inbound: {port: ${reason.hop.port}, proto: tcp, ${inboundSelector(from, to)}}`
      : `add to ${from.name}'s firewall.outbound: {port: ${reason.hop.port}, proto: tcp, groups: [${ruleGroupsFor(from.firewall, to).join(', ')}]}`;
    return reason.kind.startsWith('network.') ? fix : `${fix} (then ${from.name} can reach ${to.name})`;
  }
  switch (reason.kind) {
    case 'network.no_such_host':
      return `no node serves that name: fix the URL, or give the node serving it this name under service.aliases`;
    case 'auth.missing_token':
      return `give the worker's ${server.name} entry an Authorization header with a token the server accepts`;
    case 'auth.invalid_token':
      return tokenSuggestion(scenario, server, to);
    case 'timeout':
      return `the server did not answer within timeout_ms (${scenario.topology.timeoutMs} ms): check that it is up and not held by a firewall`;
    default:
      return undefined;
  }
}

function tokenSuggestion(scenario: Scenario, server: ServerOutcome, to: TopologyNode | undefined): string {
  const worker = scenario.topology.nodes.find((node) => node.run === 'worker')!.worker!;
  const config = worker.servers.find((entry) => entry.name === server.name);
  const header = config && 'headers' in config ? config.headers.Authorization ?? config.headers.authorization : undefined;
  const variable = header?.match(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-[^}]*)?\}/)?.[1];
  const where = variable
    ? variable in worker.tokens || variable in worker.env
      ? `${variable} holds a token ${server.name} rejects`
      : `${variable} is unset, so the header's default was sent`
    : 'the Authorization header holds a token the server rejects';
  const mint = variable ? ` set ${variable} to a token from the auth server (worker.tokens: {${variable}: valid}, or with-audience when the server checks aud)` : ' send a token from the auth server';
  const dev = to?.env.MCP_JWT_AUDIENCE ? `, or for dev only unset MCP_JWT_AUDIENCE on ${to.name} (no validation)` : '';
  return `${where}:${mint}${dev}`;
}

function inboundSelector(from: TopologyNode, to: TopologyNode): string {
  const shared = to.identity.groups.filter((group) => from.identity.groups.includes(group));
  return shared.length > 0 ? `group: ${shared[0]}` : `host: ${from.name}`;
}

/** Groups for a new outbound rule: the nearest existing group rule's groups the peer has, plus the peer's own service group. */
function ruleGroupsFor(firewall: Firewall, peer: TopologyNode): string[] {
  const own = peer.identity.groups[0];
  const nearest = firewall.outbound
    .map((rule) => rule.groups ?? [])
    .filter((groups) => groups.length > 0)
    .map((groups) => groups.filter((group) => peer.identity.groups.includes(group)))
    .sort((a, b) => b.length - a.length)[0] ?? [];
  return [...new Set([...nearest, ...(own ? [own] : [])])];
}
