import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadScenarioFile, type Topology } from '../topology/index.ts';
import { networkChecks, reachabilityMatrix } from './network-checks.ts';

const BASE = path.resolve('scenarios/topologies/monitoring-dev.yaml');
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'audit-net-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function topology(patch: string): Promise<Topology> {
  const file = path.join(dir, `${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(file, `extends: ${JSON.stringify(BASE)}\npatch:\n${patch}\n`);
  const [scenario] = await loadScenarioFile(file);
  return scenario!.topology;
}

function run(t: Topology) {
  const worker = t.nodes.find((node) => node.run === 'worker')!;
  const servers = [
    { name: 'grafana', node: t.nodes.find((node) => node.name === 'monitoring-ai-mcp') },
    { name: 'prometheus', node: t.nodes.find((node) => node.name === 'monitoring-mcp') },
  ];
  return networkChecks(reachabilityMatrix(t), { worker, servers, alsoNeeded: [], allNodes: t.nodes });
}

const PR_26 = `  nodes:
    claude-worker:
      firewall:
        outbound:
          - {port: "8000", proto: tcp, groups: [dev, monitoring-ai-mcp]}
          - {port: 8000, proto: tcp, groups: [dev, monitoring-mcp]}`;

describe('reachabilityMatrix', () => {
  it('gives every node against every service port, with the rule that decided', async () => {
    const t = await topology('  {}');
    const matrix = reachabilityMatrix(t);
    expect(matrix).toHaveLength(t.nodes.length * t.nodes.filter((node) => node.service).length - t.nodes.filter((node) => node.service).length);
    expect(matrix.find((row) => row.from === 'claude-worker' && row.to === 'monitoring-ai-mcp')).toMatchObject({
      verdict: 'allow',
      port: 8000,
      outbound: { rule: 'port 8000/tcp groups [dev, monitoring-ai-mcp]' },
      inbound: { rule: 'port 8000/tcp group dev' },
    });
    expect(matrix.find((row) => row.from === 'claude-worker' && row.to === 'monitoring-mcp')?.verdict).toBe('drop');
  });
});

describe('networkChecks', () => {
  it('net.worker-reaches fails for the server the worker\'s firewall drops and passes after PR #26', async () => {
    const before = run(await topology('  {}')).filter((result) => result.id === 'net.worker-reaches');
    expect(before.map((result) => [result.target, result.status])).toEqual([['claude-worker', 'pass'], ['claude-worker', 'fail']]);
    expect(before[1]!.message).toMatch(/^prometheus: drop claude-worker -> monitoring-mcp:8000\/tcp: outbound rule .*needs monitoring-ai-mcp/);
    const after = run(await topology(PR_26)).filter((result) => result.id === 'net.worker-reaches');
    expect(after.map((result) => result.status)).toEqual(['pass', 'pass']);
  });

  it('net.inbound-any fails for an MCP server whose inbound rule admits any host, and passes with group: dev', async () => {
    const good = run(await topology('  {}')).filter((result) => result.id === 'net.inbound-any');
    expect(good.map((result) => result.status)).toEqual(['pass', 'pass']);
    const broad = await topology(`  nodes:
    monitoring-mcp:
      firewall:
        inbound:
          - {port: any, proto: any, host: any}`);
    const results = run(broad).filter((result) => result.id === 'net.inbound-any' && result.status === 'fail');
    expect(results.map((result) => [result.target, result.severity])).toEqual([['monitoring-mcp', 'low']]);
    expect(results[0]!.message).toContain('host any');
  });

  it('net.worker-outbound-broad fails when a worker rule names only a shared group (reaching auth-server, trickster too)', async () => {
    expect(run(await topology(PR_26)).find((result) => result.id === 'net.worker-outbound-broad')?.status).toBe('pass');
    const broad = await topology(`  nodes:
    claude-worker:
      firewall:
        outbound:
          - {port: any, proto: tcp, groups: [dev]}`);
    const result = run(broad).find((r) => r.id === 'net.worker-outbound-broad')!;
    expect([result.status, result.severity]).toEqual(['fail', 'low']);
    expect(result.message).toMatch(/reaches auth-server:8080\/tcp by outbound port any\/tcp group(s)? (\[)?dev/);
    expect(result.message).toContain('prometheus:9090');
  });

  it('net.worker-outbound-unmatched fails for a worker rule whose groups no node serving its port has, and passes otherwise', async () => {
    expect(run(await topology(PR_26)).find((result) => result.id === 'net.worker-outbound-unmatched')?.status).toBe('pass');
    const typo = await topology(`  nodes:
    claude-worker:
      firewall:
        outbound:
          - {port: "8000", proto: tcp, groups: [dev, monitoring-ai-mcp]}
          - {port: 8000, proto: tcp, groups: [dev, monitoring-mpc]}`);
    const result = run(typo).find((r) => r.id === 'net.worker-outbound-unmatched')!;
    expect([result.status, result.severity]).toEqual(['fail', 'low']);
    expect(result.message).toMatch(/^outbound rule #1 port 8000\/tcp groups \[dev, monitoring-mpc\] matches none of monitoring-ai-mcp \[.*\], monitoring-mcp \[monitoring-mcp, vault:monitoring-mcp-dev, dev, us-east-1\]$/);
  });
});
