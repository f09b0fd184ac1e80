import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseWorkerConfig, parseWorkerSettings } from '../../client/index.ts';
import { loadScenarioFile, type Scenario } from '../../topology/index.ts';
import { DEFAULT_IMAGE, HARNESS_LABEL, planTopology, RUN_LABEL, SESSION_LABEL } from './plan.ts';

const scenarios = path.resolve(import.meta.dirname, '../../../scenarios');
const load = async (file: string) => ((await loadScenarioFile(path.join(scenarios, file), { root: scenarios })) as [Scenario])[0];
const options = { runId: '1a2b3c4d', sessionId: 'session-1' };

describe('planTopology', () => {
  it('gives every node its own container and network, and the shim a name no node can have', async () => {
    const plan = planTopology((await load('incidents/2025-10-01-prometheus-mcp/0-as-reported.yaml')).topology, options);
    const names = [plan.shimName, plan.worker.name, ...plan.services.map((service) => service.name)];
    expect(new Set(names).size).toBe(names.length);
    expect(plan.shimName).toBe('mth-1a2b3c4d--shim');
    expect(plan.services.map((service) => [service.node, service.network])).toEqual(
      plan.services.map((service) => [service.node, `mth-1a2b3c4d-${service.node}`]),
    );
    expect(plan.networks.map((network) => network.name).sort()).toEqual([plan.worker.network, ...plan.services.map((service) => service.network)].sort());
    expect(plan.labels).toEqual({ [HARNESS_LABEL]: '1', [SESSION_LABEL]: 'session-1', [RUN_LABEL]: '1a2b3c4d' });
  });

  it('lets the shim answer to every Consul name, alias and node name on each network', async () => {
    const plan = planTopology((await load('incidents/2025-10-01-prometheus-mcp/0-as-reported.yaml')).topology, options);
    expect(plan.networks[0]!.shimAliases).toEqual(
      expect.arrayContaining([
        'monitoring-mcp.service.dev-us-east-1.consul',
        'auth-server.service.dev-us-east-1.consul',
        'trickster-dev.internal.ec2.tinyspeck.com',
        'claude-worker',
      ]),
    );
    expect(plan.namePorts).toEqual([8000, 8080, 9090]);
    expect(plan.proxyPort).toBe(3128);
  });

  it('runs each simulated service from its main.ts with the in-process defaults and the shim as proxy', async () => {
    const plan = planTopology((await load('incidents/2025-10-01-prometheus-mcp/5-real-fix-valid-token.yaml')).topology, options);
    const byNode = Object.fromEntries(plan.services.map((service) => [service.node, service]));
    expect(byNode['monitoring-mcp']).toMatchObject({
      image: DEFAULT_IMAGE,
      command: ['node', 'mocks/monitoring-mcp/main.ts'],
      env: { PORT: '8000', HOST: '0.0.0.0', HTTP_PROXY: 'http://mth-1a2b3c4d--shim:3128' },
      ready: { log: '"event":"listening"' },
      publish: undefined,
    });
    // No JWKS timeout derived from the scenario's bound: the service's own default applies, as in-process.
    expect(byNode['monitoring-mcp']!.env).not.toHaveProperty('MCP_JWKS_TIMEOUT_MS');
    expect(byNode['auth-server']!.env.ISSUER).toBe('http://auth-server.service.dev-us-east-1.consul:8080');
    // The worker has a token to mint: the auth server's admin API is published (127.0.0.1), so its network is not internal.
    expect(byNode['auth-server']!.publish).toBe(8080);
    expect(plan.networks.filter((network) => !network.internal).map((network) => network.node)).toEqual(['auth-server']);
  });

  it('keeps every network internal when nothing is published', async () => {
    const plan = planTopology((await load('incidents/2025-10-01-prometheus-mcp/0-as-reported.yaml')).topology, options);
    expect(plan.networks.every((network) => network.internal)).toBe(true);
  });

  it('hands the worker its servers and settings in files it reads back unchanged', async () => {
    const { topology } = await load('incidents/2025-10-01-prometheus-mcp/7-tools-not-allowed.yaml');
    const spec = topology.nodes.find((node) => node.run === 'worker')!.worker!;
    const { worker } = planTopology(topology, options);
    const file = (target: string) => worker.files.find((entry) => entry.target === target)!.content;
    expect(parseWorkerConfig(file(worker.env.WORKER_CONFIG!), { file: 'mcp.json' }).servers).toEqual(spec.servers);
    expect(parseWorkerSettings(file(worker.env.WORKER_SETTINGS!), { file: 'settings.json' })).toEqual(spec.settings);
    expect(worker.env).toMatchObject({ MONITORING_AI_MCP_URL: 'http://monitoring-ai-mcp.service.dev-us-east-1.consul:8000' });
  });

  it("hands the worker its pinned MCP revision (client_revision) in WORKER_CLIENT_REVISION, and none when it negotiates", async () => {
    const pinned = planTopology((await load('incidents/2026-12-01-mcp-2026-07-28/0-new-only-servers.yaml')).topology, options);
    expect(pinned.worker.env.WORKER_CLIENT_REVISION).toBe('2025-11-25');
    const negotiating = planTopology((await load('incidents/2026-12-01-mcp-2026-07-28/2-worker-negotiates.yaml')).topology, options);
    expect(negotiating.worker.env).not.toHaveProperty('WORKER_CLIENT_REVISION');
  });

  it('runs a brought server as given, its env over the proxy settings, and sends the shim to its container port', async () => {
    const { topology } = await load('byo/echo-mcp-token-required.yaml');
    const brought = { ...topology.nodes.find((node) => node.name === 'monitoring-mcp')! };
    brought.env = { ...brought.env, HTTP_PROXY: '' };
    brought.container = { ...brought.container!, port: 9000 };
    const plan = planTopology({ ...topology, nodes: topology.nodes.map((node) => (node.name === brought.name ? brought : node)) }, options);
    const service = plan.services.find((entry) => entry.node === 'monitoring-mcp')!;
    expect(service).toMatchObject({ brought: true, command: ['node', 'scenarios/byo/files/echo-mcp/server.mjs'], ready: { http: '/healthz' }, publish: 9000 });
    expect(service.env).toMatchObject({ PORT: '9000', HTTP_PROXY: '', ECHO_TOKEN: 'the-teams-own-token' });
    const shimNode = plan.shimConfig(Object.fromEntries(plan.networks.map((network) => [network.node, '172.30.0.0/24']))).nodes.find(
      (node) => node.identity.name === 'monitoring-mcp',
    );
    expect(shimNode?.services?.[0]?.target).toEqual({ host: 'mth-1a2b3c4d-monitoring-mcp', port: 9000 });
  });

  it('hands the shim the topology\'s Nebula version, which its firewalls are then parsed with', async () => {
    for (const version of ['1.10', '1.11']) {
      const plan = planTopology((await load(`versions/nebula-outbound-reject/${version}.yaml`)).topology, options);
      const config = plan.shimConfig(Object.fromEntries(plan.networks.map((network) => [network.node, '172.30.0.0/24'])));
      expect(config.nebula).toBe(version);
    }
  });
});
