// Reuse within a run: scenarios whose nodes are the same run one after another on the same
// containers, and nothing of one crosses to the next: the auth server signs with new keys, monitoring-mcp
// starts with an empty JWKS cache, the shim holds no connection and no conntrack entry of the last
// scenario, and each scenario's flows and logs are its own.
import path from 'node:path';
import { decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';
import { formatScenarioTable } from '../../harness/report/index.ts';
import { compare, diagnose, runScenario } from '../../harness/runner/index.ts';
import { reusingContainersRuntime, type ReusingRuntime } from '../../harness/runtime/index.ts';
import { loadScenarioFile, type Scenario } from '../../harness/topology/index.ts';
import { containersUnavailable, dockerLines } from './docker-available.ts';
import { processSession } from './suite-sessions.ts';

const root = path.resolve(import.meta.dirname, '../../scenarios');
const INCIDENT = path.join(root, 'incidents/2025-10-01-prometheus-mcp');
const skip = containersUnavailable();
if (skip) console.warn(`test/containers/reuse.test.ts skipped: ${skip}`);

async function scenario(file: string, id?: string): Promise<Scenario> {
  const members = await loadScenarioFile(path.join(INCIDENT, file), { root });
  return id ? members.find((member) => member.id === id)! : members[0]!;
}

/** One scenario on the reusing runtime, with what shows whether anything crossed from the one before. */
async function runOn(runtime: ReusingRuntime, target: Scenario) {
  await using running = await runtime.start(target.topology);
  const launch = await running.worker();
  const report = await running.runWorker();
  const servers = compare(
    diagnose({ topology: target.topology, report, events: running.networkEvents(), serviceLog: (node) => running.serviceLog(node) }),
    target.expect,
  );
  const flows = running.networkEvents().map((event) => `${event.source} -> ${event.destinationNode ?? event.destination} ${event.verdict}`);
  return {
    ok: servers.every((server) => server.ok),
    servers,
    kid: decodeProtectedHeader(launch.env.PROMETHEUS_TOKEN!).kid,
    runId: running.runId,
    containers: ['auth-server', 'monitoring-mcp', 'prometheus', 'monitoring-ai-mcp'].map((node) => running.containerName(node)),
    flows: [...new Set(flows)].sort(),
    mcpLog: running.serviceLog('monitoring-mcp').map((entry) => entry.event),
  };
}

describe.skipIf(skip !== undefined)('reusing containers within a run', () => {
  it("lets no state of one scenario reach the next on the same containers (keys, JWKS cache, connections, flows, logs)", async () => {
    const [valid, jwksBlocked] = await Promise.all([
      scenario('5-real-fix-valid-token.yaml'),
      scenario('6-jwks-blocked.yaml', 'incidents/2025-10-01-prometheus-mcp/6-jwks-blocked/token=valid'),
    ]);
    expect(jwksBlocked).toBeDefined();
    await using runtime = reusingContainersRuntime({ capacity: 1 });
    expect(runtime.affinity(valid.topology)).toBe(runtime.affinity(jwksBlocked.topology));

    // A: monitoring-mcp fetches the JWKS (its outbound rule allows the auth server) and caches it.
    const a = await runOn(runtime, valid);
    expect(a.ok, JSON.stringify(a.servers)).toBe(true);
    expect(a.flows).toContain('monitoring-mcp -> auth-server allow');
    expect(a.mcpLog).toContain('auth.allowed');

    // B, on the same containers: the JWKS hop is blocked now. Had A's cached keys, A's kept-alive
    // connection or A's conntrack entry survived, the valid token would pass; it must fail at that hop.
    const b = await runOn(runtime, jwksBlocked);
    expect(b.runId).toBe(a.runId);
    expect(b.containers).toEqual(a.containers);
    expect(b.ok, JSON.stringify(b.servers)).toBe(true);
    expect(b.servers.find((server) => server.name === 'prometheus')).toMatchObject({ status: 'failed', reason: { hop: { from: 'monitoring-mcp', to: 'auth-server' } } });
    expect(b.kid).not.toBe(a.kid);
    // B's flows and monitoring-mcp's log are B's own: a fresh instance (its start) and none of A's requests.
    expect(b.flows).not.toContain('monitoring-mcp -> auth-server allow');
    expect(b.flows).toContain('monitoring-mcp -> auth-server drop');
    expect(b.mcpLog.filter((event) => event === 'server.started')).toHaveLength(1);
    expect(b.mcpLog).not.toContain('auth.allowed');

    // A again: the JWKS hop is open again, and the keys are new once more.
    const again = await runOn(runtime, valid);
    expect(again.ok, JSON.stringify(again.servers)).toBe(true);
    expect(again.runId).toBe(a.runId);
    expect([a.kid, b.kid]).not.toContain(again.kid);
    expect(runtime.stats()).toEqual({ started: 1, reused: 2, restartedServices: 0 });
  });

  it('resolves close() only once a start under way is over and its topology gone', async () => {
    const target = await scenario('1-after-firewall-fix.yaml');
    // Nothing else of this process runs now (the tests above closed theirs): its session is this start's.
    const label = `label=mcp-topology-harness.session=${processSession()}`;
    const left = () => [...dockerLines('ps', '-a', '--filter', label, '--format', '{{.Names}}'), ...dockerLines('network', 'ls', '--filter', label, '--format', '{{.Name}}')];
    const runtime = reusingContainersRuntime({ capacity: 1 });
    let settled = false;
    const outcome = runtime.start(target.topology).then(
      () => 'started',
      (error: { code?: string }) => error.code,
    );
    void outcome.finally(() => (settled = true));
    try {
      // Close once the start has made something (its networks come first): bounded, awaited on Docker.
      const deadline = performance.now() + 60_000;
      while (left().length === 0) {
        if (settled || performance.now() > deadline) throw new Error(`the start made nothing to see (settled: ${settled})`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await runtime.close();
      // A process may exit right after close(): nothing of the start may be left by then.
      expect(left()).toEqual([]);
    } finally {
      await outcome;
    }
    expect(await outcome).toBe('ERR_RUNTIME_START');
    expect(left()).toEqual([]);
  });

  it('restarts only the service whose env differs, and gives the same verdicts as a fresh start', async () => {
    const [firewallFix, devMode] = await Promise.all([scenario('1-after-firewall-fix.yaml'), scenario('2-option-1-dev-mode.yaml')]);
    await using runtime = reusingContainersRuntime({ capacity: 1 });
    for (const target of [firewallFix, devMode]) {
      const result = await runScenario(target, { runtime });
      expect(result.ok, formatScenarioTable(result)).toBe(true);
    }
    expect(runtime.stats()).toEqual({ started: 1, reused: 1, restartedServices: 1 });
  });
});
