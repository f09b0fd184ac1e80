import { ROTATE_KEY_AFTER_JWKS_ENV } from '../../mocks/auth-server/index.ts';
import { describePyJwtBehaviour, parsePyJwtVersion, PYJWT_VERSION_ENV, pyJwtBehaviour } from '../../mocks/monitoring-mcp/index.ts';
import type { PyJwtBehaviour } from '../../mocks/monitoring-mcp/index.ts';
import { MCP_REVISIONS_ENV } from '../../mocks/shared/index.ts';
import { mcpToolPrefix } from '../client/index.ts';
import { describeDenial } from '../network/index.ts';
import type { Firewall } from '../network/index.ts';
import { revisionsSpokenBy, type ScenarioResult, type ServerOutcome } from '../runner/index.ts';
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
    const versions = [pyjwtBehaviourLine(scenario, server), revisionLine(scenario, server)].filter((found) => found !== undefined);
    const pyjwt = versions.find((found) => found.fix) ?? versions[0];
    if (server.status === 'connected') {
      lines.push(`  ${server.tools.length} tools: ${server.tools.join(', ')}`);
      for (const version of versions) lines.push(`  version: ${version.line}`);
      if (server.unpermitted.length > 0) {
        lines.push(`  not allowed by settings.json: ${server.unpermitted.join(', ')}`);
        lines.push(`  to pass: add "${mcpToolPrefix(server.name).slice(0, -2)}" (or the tools one by one) to permissions.allow`);
      }
    } else if (server.reason) {
      const hop = server.reason.hop;
      if (hop) lines.push(`  hop: ${hop.from} -> ${hop.to}:${hop.port}${hop.verdict ? ` (${hop.verdict}${hop.side ? ` by ${hop.from === hop.to ? '' : hop.side === 'outbound' ? `${hop.from}'s outbound` : `${hop.to}'s inbound`} rules` : ''})` : ''}`);
      lines.push(`  why: ${server.reason.kind}: ${server.reason.detail}`);
      for (const version of versions) lines.push(`  version: ${version.line}`);
      const nebula = denialVersion(scenario, server);
      if (nebula) lines.push(`  nebula: ${nebula}`);
      const fix = pyjwt?.fix ?? suggestion(scenario, server);
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
    case 'timeout': {
      if (server.status === 'pending') {
        const worker = nodes.find((node) => node.run === 'worker')!.worker!;
        return `raise the worker's MCP_TIMEOUT (now ${worker.env.MCP_TIMEOUT ?? '30000, the default'} ms) above the time the server takes to connect and list its tools, or make it answer sooner`;
      }
      return `the server did not answer within timeout_ms (${scenario.topology.timeoutMs} ms): check that it is up and not held by a firewall`;
    }
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

// The server's cause as the diagnosis words it: "(<node>: <cause>: ...".
function serverCause(server: ServerOutcome, node: string): string | undefined {
  return server.reason?.detail.match(new RegExp(`\\(${node}: ([a-z_]+)`))?.[1];
}

/**
 * The PyJWT behaviour of a strict monitoring-mcp that decided this server's verdict: the
 * unknown-kid refetch when the token's kid was not found (or when the auth server rotates, for a
 * server that connected), the fetch-failure or redirect behaviour when the JWKS could not be had.
 */
function pyjwtBehaviourLine(scenario: Scenario, server: ServerOutcome): { line: string; fix?: string } | undefined {
  const node = scenario.topology.nodes.find((candidate) => candidate.name === server.node);
  if (!node || node.run !== 'monitoring-mcp' || node.container || !node.env.MCP_JWT_AUDIENCE || node.env.MCP_AUTH_MODE === 'decode-only') return undefined;
  let behaviour: PyJwtBehaviour;
  try {
    behaviour = pyJwtBehaviour(parsePyJwtVersion(node.env[PYJWT_VERSION_ENV]));
  } catch {
    return undefined;
  }
  const source = node.env[PYJWT_VERSION_ENV] ? `${node.name}'s ${PYJWT_VERSION_ENV}` : `${node.name}'s default`;
  const line = (what: Parameters<typeof describePyJwtBehaviour>[1]) => `${describePyJwtBehaviour(behaviour, what)} (${source})`;
  if (server.status === 'connected') {
    const rotates = scenario.topology.nodes.some((candidate) => candidate.run === 'auth-server' && candidate.env[ROTATE_KEY_AFTER_JWKS_ENV]);
    return rotates ? { line: line('unknown-kid') } : undefined;
  }
  const cause = serverCause(server, node.name);
  if (cause === 'unknown_kid') {
    const rule = behaviour.unknownKidRefetch;
    if (rule.kind === 'always') return { line: line('unknown-kid') };
    return {
      line: line('unknown-kid'),
      fix: `publish a new key in the JWKS at least cooldown_duration (${rule.cooldownSeconds} s) before signing with it; the same token passes once ${rule.cooldownSeconds} s have passed since ${node.name}'s last JWKS fetch (${PYJWT_VERSION_ENV} 2.13 and older refetch at once)`,
    };
  }
  if (cause === 'jwks_unreachable' || cause === 'jwks_invalid') {
    const redirected = / HTTP Error 3\d\d/.test(server.reason?.detail ?? '');
    return { line: line(redirected && !behaviour.followsRedirects ? 'redirect' : 'fetch-failure') };
  }
  return undefined;
}

/**
 * The MCP revision behaviour behind a verdict: a server and a pinned worker that share no
 * revision (a -32022 refusal, or a 2026-07-28 probe the server did not offer), or a negotiating
 * worker whose server/discover probe was answered without a session, so that initialize followed
 * on the same attempt (the server's first request twice: a doubled JWKS wait, or four requests in
 * a row before the init line): a 2025-11-25-only server, or any server that refused the probe's
 * token (its auth comes before its revisions; measured with Claude Code 2.1.332, see the README).
 */
function revisionLine(scenario: Scenario, server: ServerOutcome): { line: string; fix?: string } | undefined {
  const node = scenario.topology.nodes.find((candidate) => candidate.name === server.node);
  const revisions = node && revisionsSpokenBy(node);
  if (!revisions) return undefined;
  const source = node.env[MCP_REVISIONS_ENV] ? `${node.name}'s ${MCP_REVISIONS_ENV}` : `${node.name}'s default`;
  const pinned = scenario.topology.nodes.find((candidate) => candidate.run === 'worker')?.worker?.revision;
  const requested = server.reason?.detail.match(/Unsupported protocol version:\s*(\S+?)["),]/)?.[1];
  if (server.reason?.kind === 'protocol.revision_mismatch' || (server.reason?.kind === 'protocol' && requested)) {
    const asked = pinned ? `the worker is pinned to ${pinned} (client_revision)` : `the worker asked for ${requested ?? 'another revision'}`;
    return {
      line: `MCP revision: ${node.name} speaks ${revisions.join(' and ')} (${source}); ${asked}`,
      fix: `set ${MCP_REVISIONS_ENV}: both on ${node.name} (a current server speaks both), or ${pinned ? 'remove the worker\'s client_revision (it then negotiates as Claude Code 2.1.332: probe, then fall back)' : `connect with a client that speaks ${revisions.join(' or ')}`}`,
    };
  }
  if (pinned || server.status === 'connected') return undefined;
  const probe = 'the worker probes with server/discover (2026-07-28) first, as Claude Code 2.1.332 does';
  if (!revisions.includes('2026-07-28')) {
    return { line: `MCP revision: ${probe}; ${node.name} speaks only 2025-11-25 (${source}), so initialize followed the probe: each of its first requests was handled twice` };
  }
  if (server.status === 'failed' && server.reason?.kind.startsWith('auth.')) {
    return { line: `MCP revision: ${probe}; ${node.name} refused the probe's token before reading its revision, so initialize followed with the same token: the token was checked twice` };
  }
  return undefined;
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
