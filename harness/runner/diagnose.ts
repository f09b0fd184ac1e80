import type { LogEntry } from '../../common/index.ts';
import { MCP_REVISIONS_ENV, parseMcpRevisions } from '../../mocks/shared/index.ts';
import type { McpServerReport, WorkerReport } from '../client/index.ts';
import type { NetworkEvent } from '../network/index.ts';
import type { Topology, TopologyNode } from '../topology/index.ts';
import type { Hop, Reason, ServerResult } from './result.ts';

export interface DiagnoseInput {
  topology: Topology;
  report: WorkerReport;
  events: readonly NetworkEvent[];
  serviceLog(node: string): readonly LogEntry[];
}

/**
 * Explains each server's outcome from the three things that saw it: the worker's own view, the
 * network shim's decisions, and the servers' logs. A worker timeout becomes `network.dropped`
 * when the shim dropped that flow, or a flow out of the server's node that the server was waiting on
 * (its JWKS, with PyJWKClient's 30 s against Claude Code's 30 s); a 401 names the JWKS hop when the
 * server could not fetch its keys.
 */
export function diagnose(input: DiagnoseInput): ServerResult[] {
  const worker = input.topology.nodes.find((node) => node.run === 'worker')!;
  return input.report.servers.map((server) => {
    const host = parseTarget(server.url)?.host;
    const node = host === undefined ? undefined : nodeServing(input.topology, host)?.name;
    return {
      name: server.name,
      status: server.status,
      url: server.url,
      ...(node ? { node } : {}),
      elapsedMs: server.elapsedMs,
      tools: server.tools,
      // The server's own tool list, not its name: tool names are normalised (`graf.ana` -> mcp__graf_ana__...).
      unpermitted: input.report.unpermitted.filter((tool) => server.tools.includes(tool)),
      ...(server.status === 'connected' ? {} : { reason: explain(server, worker, input) }),
    };
  });
}

function explain(server: McpServerReport, worker: TopologyNode, input: DiagnoseInput): Reason {
  const fallback: Reason = server.reason ?? { kind: 'protocol', detail: server.error?.message ?? 'no reason given' };
  const target = parseTarget(server.url);
  if (!target) return fallback;
  const destination = nodeServing(input.topology, target.host);
  const blocked = lastBlocked(input.events, worker.name, target.host, target.port);
  if (blocked) return networkReason(blocked, worker.name, destination?.name ?? target.host);
  const hop: Hop = { from: worker.name, to: destination?.name ?? target.host, port: target.port };
  const held = fallback.kind === 'timeout' && destination ? lastDropFrom(input.events, destination.name) : undefined;
  if (held && destination) {
    const host = hostOf(held.destination);
    const upstream = networkReason(held, destination.name, held.destinationNode ?? nodeServing(input.topology, host)?.name ?? host);
    return { kind: 'network.dropped', detail: `${fallback.detail}; ${destination.name} was waiting on a dropped flow: ${upstream.detail}`, hop: upstream.hop! };
  }
  const mismatch = fallback.kind === 'protocol' && destination ? revisionMismatch(worker, destination) : undefined;
  if (mismatch) return { kind: 'protocol.revision_mismatch', detail: `${mismatch}; the worker saw: ${fallback.detail}`, hop };
  if (!fallback.kind.startsWith('auth.') || !destination) return { ...fallback, hop };
  const rejection = input.serviceLog(destination.name).findLast((entry) => entry.event === 'auth.rejected');
  const cause = typeof rejection?.cause === 'string' ? rejection.cause : undefined;
  const detail = cause ? `${fallback.detail} (${destination.name}: ${cause}${rejection?.detail ? `: ${String(rejection.detail)}` : ''})` : fallback.detail;
  if (cause?.startsWith('jwks') && typeof rejection?.jwksUrl === 'string') {
    const jwks = parseTarget(rejection.jwksUrl);
    const jwksBlocked = jwks && lastBlocked(input.events, destination.name, jwks.host, jwks.port);
    if (jwks && jwksBlocked) {
      const upstream = networkReason(jwksBlocked, destination.name, nodeServing(input.topology, jwks.host)?.name ?? jwks.host);
      return { kind: fallback.kind, detail: `${detail}; ${destination.name} cannot fetch its JWKS: ${upstream.detail}`, hop: upstream.hop! };
    }
  }
  return { kind: fallback.kind, detail, hop };
}

/**
 * Whether the worker and a simulated MCP server share no revision, from the topology: the worker
 * pinned (`client_revision`) to one the server's MCP_REVISIONS leaves out. A worker that
 * negotiates speaks both. Catches what a client's words do not say (Claude Code logs a -32022
 * answer to monitoring-ai-mcp as a bare HTTP 400).
 */
/**
 * The MCP revisions a simulated MCP server node speaks (its MCP_REVISIONS), or undefined for a node
 * that is no simulated MCP server (or whose setting does not parse: its own start says why).
 */
export function revisionsSpokenBy(node: TopologyNode): readonly string[] | undefined {
  if (node.container || (node.run !== 'monitoring-mcp' && node.run !== 'monitoring-ai-mcp')) return undefined;
  try {
    return parseMcpRevisions(node.env[MCP_REVISIONS_ENV]);
  } catch {
    return undefined;
  }
}

function revisionMismatch(worker: TopologyNode, destination: TopologyNode): string | undefined {
  const pinned = worker.worker?.revision;
  const speaks = pinned ? revisionsSpokenBy(destination) : undefined;
  if (!pinned || !speaks) return undefined;
  if (speaks.includes(pinned)) return undefined;
  return `${destination.name} speaks MCP ${speaks.join(' and ')} (its ${MCP_REVISIONS_ENV}); the worker is pinned to ${pinned} (client_revision)`;
}

function networkReason(event: NetworkEvent, from: string, to: string): Reason {
  const side = event.outbound && !event.outbound.allowed ? event.outbound : event.inbound && !event.inbound.allowed ? event.inbound : undefined;
  const hop: Hop = {
    from,
    to,
    port: event.port,
    verdict: event.verdict,
    ...(side ? { side: side.direction, ...(side.rule ? { rule: side.rule } : {}) } : {}),
  };
  const kind = event.verdict === 'drop' ? 'network.dropped' : event.verdict === 'reject' ? 'network.refused' : 'network.no_such_host';
  const what = event.verdict === 'no-such-host' ? `no such host ${event.destination}` : `${event.verdict} ${from} -> ${to}:${event.port}/${event.proto}`;
  return { kind, detail: `${what}: ${side?.reason ?? event.reason}`, hop };
}

function lastBlocked(events: readonly NetworkEvent[], source: string, host: string, port: number): NetworkEvent | undefined {
  return events.findLast(
    (event) => event.source === source && hostOf(event.destination) === host && event.port === port && event.verdict !== 'allow',
  );
}

/** The last flow out of `source` that the shim dropped: one only a deadline ends. */
function lastDropFrom(events: readonly NetworkEvent[], source: string): NetworkEvent | undefined {
  return events.findLast((event) => event.source === source && event.verdict === 'drop');
}

function nodeServing(topology: Topology, host: string): TopologyNode | undefined {
  return topology.nodes.find(
    (node) => node.identity.ip === host || (node.service && [node.service.host, ...node.service.aliases].includes(host)),
  );
}

function parseTarget(url: string): { host: string; port: number } | undefined {
  try {
    const parsed = new URL(url);
    return { host: parsed.hostname, port: Number(parsed.port) || (parsed.protocol === 'https:' ? 443 : 80) };
  } catch {
    return undefined;
  }
}

/** Events may name a destination with its port (`host:port`); compare hosts only. */
function hostOf(destination: string): string {
  return destination.replace(/:\d+$/, '');
}
