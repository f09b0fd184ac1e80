import { expandEnv } from '../client/index.ts';
import { inProcessRuntime, type Runtime, type TopologyProbe } from '../runtime/index.ts';
import type { Topology, TopologyNode } from '../topology/index.ts';
import { AuditError } from './errors.ts';
import type { Route, Router } from './exchange.ts';
import { AuditReportVersion, type AuditReport, type CheckResult, type Reachability } from './finding.ts';
import { networkChecks, reachabilityMatrix } from './network-checks.ts';
import { checkAuthServer, checkInsufficientScope, checkOrigin, discover, type Discovery } from './protocol-checks.ts';
import type { AuditContext, ServerUnderAudit } from './target.ts';
import { runTokenBattery } from './token-checks.ts';

export interface AuditOptions {
  /** Default in-process: the only runtime that gives the audit a way in (StartedTopology.probe) for now. */
  runtime?: Runtime;
  /** What the topology came from, for the report (a file path). */
  source?: string;
}

function defaultPort(url: URL): number {
  return Number(url.port || (url.protocol === 'https:' ? 443 : 80));
}

/**
 * Routes every request as the worker sends it: through its egress when the firewall lets the
 * flow through; directly to the service's loopback address when it would not, so the server's
 * own behaviour can still be judged (the evidence says so, and `net.worker-reaches` reports the block).
 */
function workerRouter(worker: TopologyNode, probe: TopologyProbe, matrix: readonly Reachability[]): Router {
  const egress = probe.fetchAs(worker.name);
  return (logical: string): Route => {
    const url = new URL(logical);
    const resolved = probe.resolve(url.hostname, defaultPort(url));
    const row = resolved && matrix.find((entry) => entry.from === worker.name && entry.to === resolved.node && entry.port === defaultPort(url));
    if (!resolved?.target || !row || row.verdict === 'allow') return { fetch: egress, via: `${worker.name}'s egress`, url: logical };
    const direct = new URL(logical);
    direct.hostname = resolved.target.host;
    direct.port = String(resolved.target.port);
    return {
      fetch: globalThis.fetch,
      via: `direct to ${resolved.node} (${worker.name}'s firewall would ${row.verdict} ${worker.name} -> ${resolved.node}:${row.port}/tcp)`,
      url: direct.href,
    };
  };
}

function resourceOf(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}

/**
 * Brings `topology` up and audits every HTTP MCP server its worker lists, acting as the worker:
 * protected resource metadata discovery, the token battery, a foreign Origin, the authorization
 * servers' metadata, and the network findings (reachability matrix, broad rules).
 *
 * @example
 * const [scenario] = await loadScenarioFile('scenarios/topologies/monitoring-dev.yaml');
 * const report = await auditTopology(scenario.topology, { source: scenario.file });
 * findings(report).filter((finding) => finding.severity === 'critical');
 */
export async function auditTopology(topology: Topology, options: AuditOptions = {}): Promise<AuditReport> {
  const worker = topology.nodes.find((node) => node.run === 'worker');
  if (!worker?.worker) throw new AuditError('ERR_AUDIT_NOTHING_TO_AUDIT', 'the topology has no node with run: worker');
  const listed = worker.worker.servers.filter((server) => server.type === 'http');
  if (listed.length === 0) throw new AuditError('ERR_AUDIT_NOTHING_TO_AUDIT', `${worker.name} lists no HTTP MCP server`);
  if (!topology.nodes.some((node) => node.run === 'auth-server')) {
    throw new AuditError('ERR_AUDIT_NO_AUTH_SERVER', 'the token battery needs a node with run: auth-server to mint its tokens');
  }
  const runtime = options.runtime ?? inProcessRuntime;
  await using running = await runtime.start(topology);
  const probe = running.probe;
  if (!probe) throw new AuditError('ERR_AUDIT_RUNTIME', `the ${runtime.name} runtime gives the audit no way in; use --runtime inprocess`);
  const mint = probe.mint;
  if (!mint) throw new AuditError('ERR_AUDIT_NO_AUTH_SERVER', 'the topology has no auth server to mint from');

  const matrix = reachabilityMatrix(topology);
  const context: AuditContext = { router: workerRouter(worker, probe, matrix), mint };
  const env = { ...worker.worker.env };
  const nodeOf = (url: string) => {
    const parsed = new URL(url);
    const resolved = probe.resolve(parsed.hostname, defaultPort(parsed));
    return resolved && topology.nodes.find((node) => node.name === resolved.node);
  };

  const checks: CheckResult[] = [];
  const usable = listed.filter((server) => {
    const { value, missing } = expandEnv(server.url, env);
    if (URL.canParse(value) && /^https?:$/.test(new URL(value).protocol)) return true;
    checks.push({
      id: 'config.url',
      title: "the worker's URL for the server expands to an http(s) URL",
      target: server.name,
      status: 'fail',
      severity: 'medium',
      message: `${server.url} expands to ${JSON.stringify(value)}${missing.length ? ` (${missing.join(', ')} not set in the worker's env)` : ''}: the worker cannot connect, nothing to audit`,
      evidence: [],
    });
    return false;
  });
  const servers = usable.map((server) => {
    const url = expandEnv(server.url, env).value;
    const node = nodeOf(url);
    // What the audit takes as the server's audience until its metadata says: the audience it is configured with, else its URL.
    return { name: server.name, url, node, audience: node?.env.MCP_JWT_AUDIENCE || resourceOf(url) };
  });
  const discovered = new Map<string, Discovery>();
  for (const server of servers) {
    const discovery = await discover({ name: server.name, url: server.url, audience: server.audience }, context);
    discovered.set(server.name, discovery);
    if (discovery.metadata) server.audience = discovery.metadata.resource;
    checks.push(...discovery.results);
  }
  for (const server of servers) {
    const other = servers.find((candidate) => candidate.node !== server.node && candidate.audience !== server.audience);
    const scope = discovered.get(server.name)!.scope;
    const target: ServerUnderAudit = {
      name: server.name,
      url: server.url,
      audience: server.audience,
      ...(scope ? { scope } : {}),
      ...(other ? { otherAudience: { server: other.name, audience: other.audience } } : {}),
    };
    checks.push(await checkOrigin(target, context));
    checks.push(await checkInsufficientScope(target, context));
    checks.push(...(await runTokenBattery(target, context)));
  }
  const issuers = [...new Set([...discovered.values()].flatMap((discovery) => discovery.metadata?.authorization_servers ?? []))];
  for (const issuer of issuers) checks.push(...(await checkAuthServer(issuer, context)));
  const alsoNeeded = issuers.map((issuer) => nodeOf(issuer)?.name).filter((name): name is string => name !== undefined);
  checks.push(...networkChecks(matrix, { worker, servers: servers.map(({ name, node }) => ({ name, node })), alsoNeeded, allNodes: topology.nodes }));

  return {
    version: AuditReportVersion,
    source: options.source ?? '',
    worker: worker.name,
    servers: servers.map((server) => ({ name: server.name, url: server.url, node: server.node?.name, via: context.router(server.url).via, audience: server.audience })),
    checks,
    reachability: matrix,
  };
}
