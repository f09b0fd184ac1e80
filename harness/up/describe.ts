import type { Provenance } from '../incident/index.ts';
import type { TopologyEvent } from '../runtime/index.ts';
import { exportLines, type StartedUp } from './start-up.ts';

/** What `harness up --json` prints: everything a client needs to reach the running topology. */
export interface UpDocument {
  scenario: string;
  file: string;
  runtime: string;
  /** With the user's own material: where each part came from. */
  inputs: Provenance[];
  nodes: Array<{
    name: string;
    run: string;
    ip: string;
    groups: string[];
    /** Consul service name, its overlay name and port (absent for the worker). */
    service: { name: string; host: string; port: number } | null;
    /** The service as the topology names it, reached through an egress. */
    serviceUrl: string | null;
    /** Where this machine reaches the service directly, past the network (null where it cannot). */
    url: string | null;
    egressProxyUrl: string;
  }>;
  worker: {
    node: string;
    egressProxyUrl: string;
    /** The environment to run a client as the worker with: env, minted tokens, proxies, file paths. */
    env: Record<string, string>;
    mcpJson: string;
    settingsJson: string | null;
    envSh: string;
  };
}

/**
 * The document `harness up` prints, as data.
 *
 * @example
 * process.stdout.write(JSON.stringify(upDocument(up)));
 */
export function upDocument(up: StartedUp): UpDocument {
  const started = new Map(up.running.nodes().map((node) => [node.name, node]));
  return {
    scenario: up.scenario.id,
    file: up.scenario.file,
    runtime: up.runtime,
    inputs: up.provenance,
    nodes: up.scenario.topology.nodes.map((node) => {
      const reach = started.get(node.name)!;
      return {
        name: node.name,
        run: node.run,
        ip: node.identity.ip,
        groups: node.identity.groups,
        service: node.service ? { name: node.service.name, host: node.service.host, port: node.service.port } : null,
        serviceUrl: reach.serviceUrl ?? null,
        url: reach.localUrl ?? null,
        egressProxyUrl: reach.egressProxyUrl,
      };
    }),
    worker: {
      node: up.launch.node,
      egressProxyUrl: up.launch.egressProxyUrl,
      env: up.workerEnv,
      mcpJson: up.files.mcpJson,
      settingsJson: up.files.settingsJson ?? null,
      envSh: up.files.envSh,
    },
  };
}

/**
 * `harness up`'s text: a block per node, then the worker's export lines and file paths.
 *
 * @example
 * process.stdout.write(formatUp(upDocument(up)));
 */
export function formatUp(doc: UpDocument): string {
  const lines = [`harness up: ${doc.scenario} (${doc.runtime})`, ''];
  for (const node of doc.nodes) {
    lines.push(`${node.name}  ${node.ip}  [${node.run}]`);
    lines.push(`  groups:  ${node.groups.join(', ')}`);
    if (node.service) lines.push(`  service: ${node.service.name} (${node.serviceUrl})`);
    if (node.url) lines.push(`  url:     ${node.url}  (from this machine, past the network)`);
    lines.push(`  egress:  ${node.egressProxyUrl}`);
  }
  lines.push('', `worker ${doc.worker.node}: run a client as it with`);
  for (const line of exportLines(doc.worker.env)) lines.push(`  ${line}`);
  lines.push(`  .mcp.json:     ${doc.worker.mcpJson}`);
  if (doc.worker.settingsJson) lines.push(`  settings.json: ${doc.worker.settingsJson}`);
  lines.push(`  or: source ${doc.worker.envSh}`, '', 'Up until Ctrl-C; everything is removed then.', '');
  return lines.join('\n');
}

/**
 * One event as `--events` prints it: a shim decision or a service's log line.
 *
 * @example
 * formatEvent({ kind: 'flow', flow }); // "flow  claude-worker -> monitoring-mcp.service...:8000  drop  claude-worker outbound: ..."
 */
export function formatEvent(event: TopologyEvent): string {
  if (event.kind === 'flow') {
    const { flow } = event;
    const to = flow.destinationNode && flow.destinationNode !== flow.destination ? `${flow.destination} (${flow.destinationNode})` : flow.destination;
    return `flow  ${flow.source} -> ${to}:${flow.port}  ${flow.verdict}${flow.outcome ? `/${flow.outcome}` : ''}  ${flow.reason}`;
  }
  const { time: _time, service: _service, event: name, ...fields } = event.entry;
  const detail = Object.entries(fields)
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
  return `log   ${event.node}  ${name}${detail ? `  ${detail}` : ''}`;
}
