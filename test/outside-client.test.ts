import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { proxiedFetch } from '../common/index.ts';
import { simulatedClient } from '../harness/client/index.ts';
import { inProcessRuntime } from '../harness/runtime/index.ts';
import { loadScenarioFile } from '../harness/topology/index.ts';

// The public API an outside client uses to play the worker of a started topology.

const ROOT = path.resolve(import.meta.dirname, '../scenarios');
const VALID_TOKEN = path.join(ROOT, 'incidents/2025-10-01-prometheus-mcp/5-real-fix-valid-token.yaml');

async function scenario(file: string) {
  const [loaded] = await loadScenarioFile(file, { root: ROOT });
  return loaded!;
}

describe('a started topology, for outside clients', () => {
  it('exposes every node with its egress and service URLs', async () => {
    await using running = await inProcessRuntime.start((await scenario(VALID_TOKEN)).topology);
    const nodes = running.nodes();
    expect(nodes.map((node) => node.name)).toEqual(running.topology.nodes.map((node) => node.name));
    const worker = nodes.find((node) => node.run === 'worker')!;
    expect(worker.egressProxyUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(worker.serviceUrl).toBeUndefined();
    const mcp = nodes.find((node) => node.name === 'monitoring-mcp')!;
    expect(mcp.serviceUrl).toBe('http://monitoring-mcp.service.dev-us-east-1.consul:8000');
    // The local URL reaches the service directly: the strict server answers 401 without a token.
    const direct = await fetch(`${mcp.localUrl}/v1/mcp`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(direct.status).toBe(401);
    await direct.body?.cancel();
  });

  it('gives the worker its env with the minted tokens, its .mcp.json and its settings.json', async () => {
    await using running = await inProcessRuntime.start((await scenario(VALID_TOKEN)).topology);
    const launch = await running.worker();
    expect(launch.node).toBe('claude-worker');
    expect(launch.env.MONITORING_AI_MCP_URL).toBe('http://monitoring-ai-mcp.service.dev-us-east-1.consul:8000');
    expect(launch.env.PROMETHEUS_TOKEN?.split('.')).toHaveLength(3);
    expect(launch.mcpJson.mcpServers.prometheus).toEqual({
      type: 'http',
      url: 'http://monitoring-mcp.service.dev-us-east-1.consul:8000/v1/mcp',
      headers: { Authorization: 'Bearer ${PROMETHEUS_TOKEN:-orchestration-agent}' },
    });
    expect(launch.settingsJson?.permissions.allow).toEqual(['mcp__grafana', 'mcp__alertmanager', 'mcp__prometheus']);
    expect(launch.egressProxyUrl).toBe(running.nodes().find((node) => node.name === 'claude-worker')!.egressProxyUrl);
  });

  it('lets a client of its own connect through the egress with the minted token, as runWorker does', async () => {
    await using running = await inProcessRuntime.start((await scenario(VALID_TOKEN)).topology);
    const launch = await running.worker();
    const report = await simulatedClient.run(launch);
    expect(report.servers.map((server) => [server.name, server.status])).toEqual([
      ['grafana', 'connected'],
      ['alertmanager', 'connected'],
      ['prometheus', 'connected'],
    ]);
    const proxied = proxiedFetch(launch.egressProxyUrl);
    const answer = await proxied('http://monitoring-mcp.service.dev-us-east-1.consul:8000/v1/mcp', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${launch.env.PROMETHEUS_TOKEN}`, accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'outside', version: '1' } } }),
    });
    expect(answer.status).toBe(200);
    await answer.body?.cancel();
  });

  it('refuses, at the worker egress, a host outside the topology', async () => {
    await using running = await inProcessRuntime.start((await scenario(VALID_TOKEN)).topology);
    const launch = await running.worker();
    const answer = await proxiedFetch(launch.egressProxyUrl)('http://api.example.invalid/v1/messages').catch((error: unknown) => error);
    if (answer instanceof Response) {
      expect(answer.ok).toBe(false);
      await answer.body?.cancel();
    } else {
      expect(answer).toBeInstanceOf(Error);
    }
    expect(running.networkEvents().some((event) => event.destination.startsWith('api.example.invalid') && event.verdict === 'no-such-host')).toBe(true);
  });

  it('applies a live update of a firewall without restarting services, and refuses one that adds a node', async () => {
    const before = (await scenario(path.join(ROOT, 'incidents/2025-10-01-prometheus-mcp/0-as-reported.yaml'))).topology;
    const after = (await scenario(path.join(ROOT, 'incidents/2025-10-01-prometheus-mcp/1-after-firewall-fix.yaml'))).topology;
    await using running = await inProcessRuntime.start(before);
    const ports = running.nodes().map((node) => node.localUrl);
    expect(await running.update(after)).toEqual({ network: ['claude-worker'], restarted: [], worker: false });
    expect(running.nodes().map((node) => node.localUrl)).toEqual(ports);
    expect(running.topology).toBe(after);
    const report = await running.runWorker();
    expect(report.servers.find((server) => server.name === 'prometheus')?.status).toBe('failed');
    expect(running.networkEvents().filter((event) => event.source === 'claude-worker' && event.destinationNode === 'monitoring-mcp').map((event) => event.verdict)).toContain('allow');
    const extra = { ...after, nodes: [...after.nodes, { ...after.nodes[1]!, name: 'grafana' }] };
    await expect(running.update(extra)).rejects.toMatchObject({ code: 'ERR_RUNTIME_UPDATE' });
  });
});

