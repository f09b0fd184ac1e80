import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenarioFile, type Topology } from '../topology/index.ts';
import { planUpdate } from './update-plan.ts';

const root = path.resolve(import.meta.dirname, '../../scenarios');

async function topology(file: string): Promise<Topology> {
  const [scenario] = await loadScenarioFile(path.join(root, file), { root });
  return scenario!.topology;
}

const names = (plan: ReturnType<typeof planUpdate>) => ({ network: plan.network.map((node) => node.name), restarted: plan.restarted.map((node) => node.name), worker: plan.worker });

describe('planUpdate', () => {
  it('takes a firewall edit to the network only, and an env edit to a restart of that service only', async () => {
    const [asReported, fix, devMode] = await Promise.all(
      ['0-as-reported', '1-after-firewall-fix', '2-option-1-dev-mode'].map((step) => topology(`incidents/2025-10-01-prometheus-mcp/${step}.yaml`)),
    );
    expect(names(planUpdate(asReported!, fix!))).toEqual({ network: ['claude-worker'], restarted: [], worker: false });
    expect(names(planUpdate(fix!, devMode!))).toEqual({ network: [], restarted: ['monitoring-mcp'], worker: false });
    expect(names(planUpdate(fix!, fix!))).toEqual({ network: [], restarted: [], worker: false });
  });

  it('re-judges every node when the Nebula version changes (a firewall is parsed for one version)', async () => {
    const [v110, v111] = await Promise.all(['1.10', '1.11'].map((version) => topology(`versions/nebula-outbound-reject/${version}.yaml`)));
    expect(planUpdate(v110!, v111!).network.map((node) => node.name)).toEqual(v111!.nodes.map((node) => node.name));
  });

  it('refuses what cannot change while running, with ERR_RUNTIME_UPDATE', async () => {
    const base = await topology('incidents/2025-10-01-prometheus-mcp/1-after-firewall-fix.yaml');
    expect(() => planUpdate(base, { ...base, timeoutMs: base.timeoutMs + 1 })).toThrow(expect.objectContaining({ code: 'ERR_RUNTIME_UPDATE' }));
    expect(() => planUpdate(base, { ...base, nodes: base.nodes.slice(1) })).toThrow(expect.objectContaining({ code: 'ERR_RUNTIME_UPDATE' }));
    const renamed = base.nodes.map((node) => (node.service ? { ...node, service: { ...node.service, port: node.service.port + 1 } } : node));
    expect(() => planUpdate(base, { ...base, nodes: renamed })).toThrow(expect.objectContaining({ code: 'ERR_RUNTIME_UPDATE' }));
  });
});
