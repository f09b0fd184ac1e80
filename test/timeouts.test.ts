// The scenario's bound (timeout_ms) ends flows the network drops; servers that answer are waited
// for up to the worker's MCP_TIMEOUT (Claude Code's default 30 s), so a slow but healthy server,
// as on a busy machine, is never failed for being slow.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startMonitoringAiMcp, loadFixtures } from '../mocks/monitoring-ai-mcp/index.ts';
import { proxiedFetch } from '../common/index.ts';
import { connectWorker } from '../harness/client/index.ts';
import { parseFirewall, startNetwork } from '../harness/network/index.ts';
import { runScenario } from '../harness/runner/index.ts';
import { loadScenarioFile } from '../harness/topology/index.ts';
import { startSlowFront } from './slow-front.ts';

const file = path.resolve(import.meta.dirname, '../scenarios/incidents/2025-10-01-prometheus-mcp/0-as-reported.yaml');

async function asReported(changes: { timeoutMs?: number; workerEnv?: Record<string, string> }) {
  const [scenario] = await loadScenarioFile(file);
  const topology = scenario!.topology;
  const nodes = topology.nodes.map((node) =>
    node.run === 'worker' && changes.workerEnv ? { ...node, worker: { ...node.worker!, env: { ...node.worker!.env, ...changes.workerEnv } } } : node,
  );
  return { ...scenario!, topology: { ...topology, nodes, timeoutMs: changes.timeoutMs ?? topology.timeoutMs } };
}

describe('a dropped flow', () => {
  it.each([300, 1500])('ends within twice timeout_ms (%i ms) when the shim drops it: the version probe, then initialize', async (timeoutMs) => {
    const result = await runScenario(await asReported({ timeoutMs }));
    const prometheus = result.servers.find((server) => server.name === 'prometheus')!;
    expect(prometheus.reason?.kind).toBe('network.dropped');
    // As Claude Code 2.1.332: the probe is held and answered 504, then initialize is held too.
    expect(prometheus.elapsedMs).toBeGreaterThanOrEqual(2 * timeoutMs - 5);
    expect(prometheus.elapsedMs).toBeLessThan(2 * timeoutMs + 1000);
    expect(result.elapsedMs).toBeLessThan(2 * timeoutMs + 5000);
  });

  it("ends at the worker's MCP_TIMEOUT when that comes first: pending, its reconnect after the probe has at least 1 s", async () => {
    const result = await runScenario(await asReported({ timeoutMs: 5_000, workerEnv: { MCP_TIMEOUT: '300' } }));
    const prometheus = result.servers.find((server) => server.name === 'prometheus')!;
    expect(prometheus).toMatchObject({ status: 'pending', reason: { kind: 'network.dropped' } });
    expect(prometheus.elapsedMs).toBeGreaterThanOrEqual(295);
    expect(prometheus.elapsedMs).toBeLessThan(2_000);
  });
});

describe('a server that answers slower than timeout_ms', () => {
  it('is connected in a scenario whose bound is shorter than any handshake', async () => {
    const step = path.resolve(import.meta.dirname, '../scenarios/incidents/2025-10-01-prometheus-mcp/2-option-1-dev-mode.yaml');
    const [scenario] = await loadScenarioFile(step);
    // 50 ms is less than a topology's handshakes take here; none of these flows is dropped.
    const result = await runScenario({ ...scenario!, topology: { ...scenario!.topology, timeoutMs: 50 } });
    expect(result.servers.map((server) => [server.name, server.status])).toEqual([
      ['grafana', 'connected'],
      ['alertmanager', 'connected'],
      ['prometheus', 'connected'],
    ]);
    expect(result.ok).toBe(true);
  });

  it('is connected: the bound ends held flows only, the worker waits up to its MCP_TIMEOUT', async () => {
    const HOLD_MS = 200;
    const DELAY_MS = 400;
    await using ai = await startMonitoringAiMcp({ host: '127.0.0.1', port: 0, fixtures: await loadFixtures() });
    await using slow = await startSlowFront(ai.url, DELAY_MS);
    const firewall = parseFirewall({ outbound: [{ port: 'any', proto: 'any', host: 'any' }], inbound: [{ port: 'any', proto: 'any', host: 'any' }] });
    await using network = await startNetwork({
      nodes: [
        { identity: { name: 'claude-worker', ip: '10.42.0.2', groups: ['dev'] }, firewall },
        { identity: { name: 'monitoring-ai-mcp', ip: '10.42.0.3', groups: ['dev'] }, firewall },
      ],
      dropHoldMs: HOLD_MS,
    });
    network.addService('monitoring-ai-mcp', { name: 'monitoring-ai-mcp.service.dev.consul', aliases: [], port: 8000, target: { host: '127.0.0.1', port: slow.port } });
    const report = await connectWorker({
      servers: [{ name: 'grafana', type: 'http', url: 'http://monitoring-ai-mcp.service.dev.consul:8000/monitoring/v1/mcp?toolset=grafana', headers: {} }],
      env: {},
      fetch: proxiedFetch(network.egress('claude-worker').proxyUrl),
      timeoutMs: 30_000,
    });
    const [grafana] = report.servers;
    expect(grafana).toMatchObject({ status: 'connected' });
    expect(grafana!.tools.length).toBeGreaterThan(0);
    // initialize and tools/list each waited DELAY_MS, well past the network's hold.
    expect(grafana!.elapsedMs).toBeGreaterThanOrEqual(2 * DELAY_MS);
    expect(network.events.map((event) => event.verdict)).not.toContain('drop');
  });
});
