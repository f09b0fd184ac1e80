// Live edits of a running containers topology (what `harness up --runtime containers` applies when
// the scenario file is saved): a firewall edit reaches the shim container without restarting it
// or any service, and an env edit restarts only that service, in its own container (or, for env Node
// reads only at its start, in a new container under the same name).
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { containersRuntime } from '../../harness/runtime/index.ts';
import { loadScenarioFile, type Scenario } from '../../harness/topology/index.ts';
import { containersUnavailable, dockerLines } from './docker-available.ts';

const root = path.resolve(import.meta.dirname, '../../scenarios');
const INCIDENT = path.join(root, 'incidents/2025-10-01-prometheus-mcp');
const skip = containersUnavailable();
if (skip) console.warn(`test/containers/live.test.ts skipped: ${skip}`);

async function step(name: string): Promise<Scenario> {
  const [scenario] = await loadScenarioFile(path.join(INCIDENT, `${name}.yaml`), { root });
  return scenario!;
}

/** `scenario` with more env on one service node. */
function withServiceEnv(scenario: Scenario, node: string, env: Record<string, string>): Scenario {
  return {
    ...scenario,
    topology: { ...scenario.topology, nodes: scenario.topology.nodes.map((entry) => (entry.name === node ? { ...entry, env: { ...entry.env, ...env } } : entry)) },
  };
}

/** Each service's container id and start time: a restart in a new container would change both. */
function containerIds(names: string[]): string[] {
  return dockerLines('inspect', '--format', '{{.Id}} {{.State.StartedAt}}', ...names);
}

describe.skipIf(skip !== undefined)('StartedTopology.update in containers', () => {
  it("flips the worker's flow on a firewall edit without restarting anything, and restarts only the service whose env changed", async () => {
    const [asReported, firewallFix, devMode] = await Promise.all([step('0-as-reported'), step('1-after-firewall-fix'), step('2-option-1-dev-mode')]);
    await using running = await containersRuntime.start(asReported.topology);
    const services = ['auth-server', 'prometheus', 'monitoring-ai-mcp', 'monitoring-mcp'];
    const names = () => services.map((node) => running.containerName(node));
    const firstNames = names();
    const first = containerIds([...firstNames, running.shimName]);
    const verdictOfPrometheusFlow = () =>
      running
        .networkEvents()
        .filter((event) => event.source === 'claude-worker' && event.destinationNode === 'monitoring-mcp')
        .map((event) => event.verdict);
    const prometheus = async () => (await running.runWorker()).servers.find((server) => server.name === 'prometheus')!.status;

    expect(await prometheus()).toBe('failed');
    // Every attempt dropped (the worker's revision probe, then its initialize).
    expect([...new Set(verdictOfPrometheusFlow())]).toEqual(['drop']);
    const before = verdictOfPrometheusFlow().length;

    // PR #26's outbound rule: only the worker's firewall changes, in the shim; nothing restarts.
    expect(await running.update(firewallFix.topology)).toEqual({ network: ['claude-worker'], restarted: [], worker: false });
    expect(await prometheus()).toBe('failed'); // on the fake token now: the flow passes
    expect([...new Set(verdictOfPrometheusFlow().slice(before))]).toEqual(['allow']);
    expect(containerIds([...firstNames, running.shimName])).toEqual(first);
    expect(running.topology).toBe(firewallFix.topology);

    // Option 1: MCP_JWT_AUDIENCE unset on monitoring-mcp, which restarts alone, in its own container, and lets the token in.
    expect(await running.update(devMode.topology)).toEqual({ network: [], restarted: ['monitoring-mcp'], worker: false });
    expect(await prometheus()).toBe('connected');
    expect(names()).toEqual(firstNames);
    expect(containerIds([...firstNames, running.shimName])).toEqual(first);
    expect(running.serviceLog('monitoring-mcp').some((entry) => entry.event === 'auth.skipped')).toBe(true);
    expect(running.serviceLog('monitoring-mcp').find((entry) => entry.event === 'server.started')).toMatchObject({ audience: null, authMode: 'development' });

    // A variable Node reads only at its start: a new container, under the old name on its network; the old one goes.
    const nodeOptions = withServiceEnv(devMode, 'monitoring-mcp', { NODE_OPTIONS: '--max-old-space-size=256' });
    expect(await running.update(nodeOptions.topology)).toEqual({ network: [], restarted: ['monitoring-mcp'], worker: false });
    expect(await prometheus()).toBe('connected');
    const after = names();
    expect(after.slice(0, 3)).toEqual(firstNames.slice(0, 3));
    expect(after[3]).not.toBe(firstNames[3]);
    expect(containerIds([...after.slice(0, 3), running.shimName])).toEqual([...first.slice(0, 3), first[4]]);
    expect(dockerLines('ps', '-aq', '--filter', `name=^${firstNames[3]}$`)).toEqual([]);
    expect(dockerLines('inspect', '--format', '{{json .Config.Env}}', after[3]!).join('')).toContain('NODE_OPTIONS=--max-old-space-size=256');

    // What cannot change live is refused, and nothing changes.
    const renamed = { ...nodeOptions.topology, timeoutMs: nodeOptions.topology.timeoutMs + 1 };
    await expect(running.update(renamed)).rejects.toMatchObject({ code: 'ERR_RUNTIME_UPDATE' });
    expect(running.topology).toBe(nodeOptions.topology);
  });
});
