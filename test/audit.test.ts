// harness audit through its public entry point: the audit really goes through the worker's egress
// (the shim sees and judges its flows), and goes around it only where the worker's firewall blocks.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { auditTopology, findings } from '../harness/audit/index.ts';
import type { NetworkEvent } from '../harness/network/index.ts';
import { inProcessRuntime, type Runtime, type StartedTopology } from '../harness/runtime/index.ts';
import { loadScenarioFile } from '../harness/topology/index.ts';

const root = path.resolve(import.meta.dirname, '..');

/** The in-process runtime, keeping what the shim saw once the audit has closed the topology. */
function recording(): { runtime: Runtime; events: () => readonly NetworkEvent[] } {
  let started: StartedTopology | undefined;
  return {
    runtime: { name: 'inprocess', start: async (topology) => (started = await inProcessRuntime.start(topology)) },
    events: () => started?.networkEvents() ?? [],
  };
}

describe('auditTopology', () => {
  it('sends its probes through the worker\'s egress where the firewall allows, and directly only where it would drop', async () => {
    const [scenario] = await loadScenarioFile(path.join(root, 'scenarios/topologies/monitoring-dev.yaml'));
    const { runtime, events } = recording();
    const report = await auditTopology(scenario!.topology, { runtime, source: 'monitoring-dev.yaml' });
    const flows = events().filter((event) => event.source === 'claude-worker');
    expect(flows.length).toBeGreaterThan(0);
    expect(new Set(flows.map((event) => `${event.destinationNode}:${event.verdict}`))).toEqual(new Set(['monitoring-ai-mcp:allow']));
    expect(report.servers.map((server) => [server.name, server.via.startsWith('direct') ? 'direct' : 'egress'])).toEqual([
      ['grafana', 'egress'],
      ['alertmanager', 'egress'],
      ['prometheus', 'direct'],
    ]);
    const critical = findings(report).filter((finding) => finding.severity === 'critical');
    expect(new Set(critical.map((finding) => finding.target))).toEqual(new Set(['grafana', 'alertmanager']));
  }, 30_000);

  it('reports nothing above info for spec-mode monitoring-mcp, and its metadata names the auth server it checks', async () => {
    const [scenario] = await loadScenarioFile(path.join(root, 'scenarios/spec-mode/1-rfc8707-token-connects.yaml'));
    const report = await auditTopology(scenario!.topology);
    const prometheus = report.checks.filter((check) => check.target === 'prometheus');
    expect(prometheus.filter((check) => check.status === 'fail')).toEqual([]);
    expect(report.servers.find((server) => server.name === 'prometheus')).toMatchObject({
      audience: 'http://monitoring-mcp.service.dev-us-east-1.consul:8000/v1/mcp',
      via: "claude-worker's egress",
    });
    expect(report.checks.filter((check) => check.id.startsWith('as.')).map((check) => [check.target, check.id, check.status])).toEqual([
      ['http://auth-server.service.dev-us-east-1.consul:8080', 'as.metadata', 'pass'],
      ['http://auth-server.service.dev-us-east-1.consul:8080', 'as.issuer', 'pass'],
    ]);
  }, 30_000);
});
