import type { ScenarioResult } from '../runner/index.ts';
import type { Scenario } from '../topology/index.ts';

/**
 * A picture of a scenario run as a Mermaid flowchart (GitHub renders it in issues and PRs): the
 * nodes with their certificate groups, every flow the network shim saw with its verdict, and each
 * MCP server's status as the worker reported it.
 *
 * @example
 * process.stdout.write(toMermaid(scenario, result)); // flowchart LR ...
 */
export function toMermaid(scenario: Scenario, result: ScenarioResult): string {
  const id = (name: string) => name.replace(/[^A-Za-z0-9_]/g, '_');
  const lines = ['flowchart LR'];
  for (const node of scenario.topology.nodes) {
    const label = [node.name, node.run === 'worker' ? 'claude-worker' : node.run, node.identity.groups.join(', ')]
      .filter((part, index, parts) => parts.indexOf(part) === index)
      .map(escape)
      .join('<br/>');
    lines.push(`  ${id(node.name)}["${label}"]`);
  }
  const flows = new Map<string, { from: string; to: string; label: string; blocked: boolean }>();
  for (const event of result.network) {
    const to = event.destinationNode ?? event.destination;
    // A later packet the firewall denied (conntrack had forgotten the flow) is labelled as such.
    const verdict = event.packet ? `${event.verdict} (${event.packet} traffic)` : event.verdict;
    const key = `${event.source} ${to} ${event.port} ${verdict}`;
    flows.set(key, { from: event.source, to, label: `${event.port}/${event.proto} ${verdict}`, blocked: event.verdict !== 'allow' });
  }
  const worker = scenario.topology.nodes.find((node) => node.run === 'worker');
  for (const flow of flows.values()) {
    const known = scenario.topology.nodes.some((node) => node.name === flow.to);
    if (!known) lines.push(`  ${id(flow.to)}(["${escape(flow.to)}"])`);
    lines.push(`  ${id(flow.from)} -- "${escape(flow.label)}" ${flow.blocked ? '--x' : '-->'} ${id(flow.to)}`);
  }
  if (worker) {
    for (const server of result.servers) {
      const kind = server.reason ? `: ${server.reason.kind}` : '';
      if (server.node) lines.push(`  ${id(worker.name)} -. "${escape(`${server.name}: ${server.status}${kind}`)}" .-> ${id(server.node)}`);
    }
  }
  lines.push('  classDef failed stroke:#c00,stroke-width:2px;');
  const failed = new Set(result.servers.flatMap((server) => (server.reason?.hop ? [server.reason.hop.to] : [])));
  if (failed.size > 0) lines.push(`  class ${[...failed].map(id).join(',')} failed;`);
  return `${lines.join('\n')}\n`;
}

function escape(text: string): string {
  return text.replace(/"/g, '#quot;');
}
