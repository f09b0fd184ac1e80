// In-process, a scenario runs on its own virtual clock: deadlines (the worker's MCP_TIMEOUT, the
// egress's hold of a dropped flow, monitoring-mcp's JWKS timeout) fire only when every request
// between nodes is held or waits on a held flow. So the real components' 30 s defaults cost no wall
// time, a slow but answering server is always waited for, and verdicts are those of real time.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startMonitoringAiMcp, loadFixtures } from '../mocks/monitoring-ai-mcp/index.ts';
import { proxiedFetch, VirtualClock } from '../common/index.ts';
import { connectWorker } from '../harness/client/index.ts';
import { parseFirewall, startNetwork } from '../harness/network/index.ts';
import { runScenario, withBounds, type ScenarioResult } from '../harness/runner/index.ts';
import { FlowAccounting } from '../harness/runtime/index.ts';
import { loadScenarioFile, type Scenario } from '../harness/topology/index.ts';
import { startSlowFront } from './slow-front.ts';

const incident = (file: string) => path.resolve(import.meta.dirname, '../scenarios/incidents/2025-10-01-prometheus-mcp', file);

async function scenario(file: string, id?: string) {
  const scenarios = await loadScenarioFile(incident(file));
  return id ? scenarios.find((entry) => entry.id.endsWith(id))! : scenarios[0]!;
}

const verdict = (result: ScenarioResult, name: string) => {
  const server = result.servers.find((entry) => entry.name === name)!;
  return { status: server.status, kind: server.reason?.kind, hop: server.reason?.hop && `${server.reason.hop.from} -> ${server.reason.hop.to}` };
};

describe('a slow but answering server on a virtual clock', () => {
  it('is waited for and connected, though it answers later in wall time than the virtual MCP_TIMEOUT', async () => {
    const DELAY_MS = 300;
    const MCP_TIMEOUT_MS = 100;
    using clock = new VirtualClock();
    const accounting = new FlowAccounting(clock, (host) => (host.startsWith('monitoring-ai-mcp') ? 'monitoring-ai-mcp' : host.startsWith('blackhole') ? 'blackhole' : undefined));
    await using ai = await startMonitoringAiMcp({ host: '127.0.0.1', port: 0, fixtures: await loadFixtures() });
    await using slow = await startSlowFront(ai.url, DELAY_MS);
    const open = parseFirewall({ outbound: [{ port: 'any', proto: 'any', host: 'any' }], inbound: [{ port: 'any', proto: 'any', host: 'any' }] });
    const closed = parseFirewall({ outbound: [{ port: 'any', proto: 'any', host: 'any' }], inbound: [] });
    await using network = await startNetwork({
      nodes: [
        { identity: { name: 'claude-worker', ip: '10.42.0.2', groups: ['dev'] }, firewall: open },
        { identity: { name: 'monitoring-ai-mcp', ip: '10.42.0.3', groups: ['dev'] }, firewall: open },
        { identity: { name: 'blackhole', ip: '10.42.0.4', groups: ['dev'] }, firewall: closed },
      ],
      dropHoldMs: 30_000,
      clock,
      onHold: accounting.onHold,
    });
    network.addService('monitoring-ai-mcp', { name: 'monitoring-ai-mcp.service.dev.consul', aliases: [], port: 8000, target: { host: '127.0.0.1', port: slow.port } });
    network.addService('blackhole', { name: 'blackhole.service.dev.consul', aliases: [], port: 8000, target: { host: '127.0.0.1', port: slow.port } });
    const started = performance.now();
    const report = await connectWorker({
      servers: [
        { name: 'grafana', type: 'http', url: 'http://monitoring-ai-mcp.service.dev.consul:8000/monitoring/v1/mcp?toolset=grafana', headers: {} },
        // Dropped: its deadline is pending (and its flow held) all the time grafana is answering.
        { name: 'dropped', type: 'http', url: 'http://blackhole.service.dev.consul:8000/v1/mcp', headers: {} },
      ],
      env: {},
      fetch: accounting.fetchOf('claude-worker', proxiedFetch(network.egress('claude-worker').proxyUrl)),
      timeoutMs: MCP_TIMEOUT_MS,
      clock,
    });
    const wallMs = performance.now() - started;
    const [grafana, dropped] = report.servers;
    expect(grafana).toMatchObject({ status: 'connected', elapsedMs: 0 });
    expect(grafana!.tools.length).toBeGreaterThan(0);
    // initialize and tools/list each waited DELAY_MS of wall time: past the virtual deadline, which never fired.
    expect(wallMs).toBeGreaterThanOrEqual(2 * DELAY_MS);
    // The dropped server's init wait ended once nothing real was left, at exactly its bound: its probe
    // had timed out (a third of it) and the reconnect was still held, so it is pending, as in Claude Code.
    expect(dropped).toMatchObject({ status: 'pending', elapsedMs: MCP_TIMEOUT_MS, reason: { kind: 'timeout' } });
    expect(clock.elapsed).toBe(MCP_TIMEOUT_MS);
    accounting.close();
  });
});

describe('a dropped flow on a virtual clock', () => {
  it('held for 30 s ends in milliseconds of wall time, with the verdict of the short bound', async () => {
    const step = await scenario('0-as-reported.yaml');
    const short = await runScenario(step);
    const long = await runScenario(withBounds(step, { timeoutMs: 30_000 }));
    for (const result of [short, long]) expect(result.ok).toBe(true);
    expect(verdict(long, 'prometheus')).toEqual(verdict(short, 'prometheus'));
    expect(verdict(long, 'prometheus')).toEqual({ status: 'failed', kind: 'network.dropped', hop: 'claude-worker -> monitoring-mcp' });
    // The hold ended at 30 s on the scenario's clock; MCP_TIMEOUT (30 s, set before the flow) came first, same verdict.
    expect(long.waitedMs).toBe(30_000);
    // Short: the probe's flow held 1.5 s, then initialize's (as Claude Code 2.1.332 does it).
    expect(short.waitedMs).toBe(3_000);
    // Wall time: the topology's start and handshakes, not the 30 s (loose, for a loaded 2-core machine).
    expect(long.elapsedMs).toBeLessThan(10_000);
    console.log(`0-as-reported with a 30 s hold: ${Math.round(long.elapsedMs)} ms of wall time, ${long.waitedMs} ms waited on the virtual clock`);
  });

  it('in real time (--real-time) waits the bound out, with the same verdict', async () => {
    const step = await scenario('0-as-reported.yaml');
    const real = await runScenario(withBounds(step, { timeoutMs: 300 }), { time: 'real' });
    const virtual = await runScenario(withBounds(step, { timeoutMs: 300 }));
    expect(real.waitedMs).toBeUndefined();
    expect(real.elapsedMs).toBeGreaterThanOrEqual(300);
    expect(verdict(real, 'prometheus')).toEqual(verdict(virtual, 'prometheus'));
  });
});

describe('a blocked JWKS behind monitoring-mcp with the real components\' timeouts', () => {
  // The worker sends its version probe and then initialize, each with the configured token: monitoring-mcp
  // waits for its JWKS once per request (a failed fetch caches nothing), so the wait is doubled.
  it.each([
    // [hold (timeout_ms), monitoring-mcp's JWKS timeout]: the worker's MCP_TIMEOUT is Claude Code's default 30 s throughout.
    [1_500, undefined, 3_000],
    [30_000, undefined, 10_000],
    // Twice the JWKS timeout just under MCP_TIMEOUT: the 401 to initialize still comes first.
    [30_000, 14_999, 29_998],
  ])('is a 401 naming the JWKS hop while the JWKS gives up before the worker (hold %i, JWKS timeout %s)', async (timeoutMs, jwksTimeoutMs, waited) => {
    const step = await scenario('6-jwks-blocked.yaml', 'token=valid');
    const result = await runScenario(withBounds(step, { timeoutMs, ...(jwksTimeoutMs ? { jwksTimeoutMs } : {}) }));
    expect(verdict(result, 'prometheus')).toEqual({ status: 'failed', kind: 'auth.invalid_token', hop: 'monitoring-mcp -> auth-server' });
    expect(result.ok).toBe(true);
    expect(result.waitedMs).toBe(waited);
  });

  it.each([15_000, 30_000])("is the worker's timeout when twice a JWKS timeout of %i ms reaches Claude Code's 30 s: the worker's deadline was set first", async (jwksTimeoutMs) => {
    const step = await scenario('6-jwks-blocked.yaml', 'token=valid');
    const result = await runScenario(withBounds(step, { timeoutMs: 30_000, jwksTimeoutMs }));
    // Still failed, as every short-bound run says; but the 401 comes after the worker gave up, so
    // the worker saw no answer: the diagnosis follows monitoring-mcp's wait to its dropped JWKS flow.
    expect(verdict(result, 'prometheus')).toEqual({ status: 'failed', kind: 'network.dropped', hop: 'monitoring-mcp -> auth-server' });
    expect(result.servers.find((server) => server.name === 'prometheus')?.reason?.detail).toMatch(/monitoring-mcp was waiting on a dropped flow: drop monitoring-mcp -> auth-server:8080/);
    expect(result.ok).toBe(true);
    expect(result.waitedMs).toBe(30_000);
    expect(result.elapsedMs).toBeLessThan(10_000);
  });
});

describe("the seed's blocked-JWKS step, every member, at both bounds", () => {
  // Its file accepts either reason (the bounds decide the race); here each bound pins its own.
  const keyed = (id: string) => !/token=(alg-none|hs256-key-confusion|not-a-jwt|empty)$/.test(id);
  it.each([
    ['its own bounds (a 1.5 s hold, the mock\'s 5 s JWKS timeout)', {}, 'auth.invalid_token'],
    ["Claude Code's and PyJWKClient's 30 s", { timeoutMs: 30_000, mcpTimeoutMs: 30_000, jwksTimeoutMs: 30_000 }, 'network.dropped'],
  ])('with %s, is %s on monitoring-mcp -> auth-server for every token that needs a key', async (_bounds, overrides, kind) => {
    const members = (await loadScenarioFile(incident('6-jwks-blocked.yaml'))).filter((member) => keyed(member.id));
    expect(members).toHaveLength(10);
    for (const member of members) {
      const result = await runScenario(withBounds(member, overrides));
      expect({ id: member.id, ...verdict(result, 'prometheus') }).toEqual({ id: member.id, status: 'failed', kind, hop: 'monitoring-mcp -> auth-server' });
    }
  });
});

describe('a server slow on purpose (MCP_RESPONSE_DELAY_MS) on a virtual clock', () => {
  const step = async () =>
    (await loadScenarioFile(path.resolve(import.meta.dirname, '../scenarios/incidents/2026-12-01-mcp-probe-timing/1-slow-server-pending.yaml')))[0]!;
  const withDelay = (scenario: Scenario, delayMs: number) => ({
    ...scenario,
    topology: {
      ...scenario.topology,
      nodes: scenario.topology.nodes.map((node) => (node.name === 'monitoring-mcp' ? { ...node, env: { ...node.env, MCP_RESPONSE_DELAY_MS: String(delayMs) } } : node)),
    },
  });

  // Four requests (probe, initialize, initialized, tools/list), each answered after the delay, against the
  // worker's init wait of MCP_TIMEOUT 17 s: the delays cost no wall time, and the edge is exact.
  it.each([
    [4_249, 'connected', 4 * 4_249],
    [4_251, 'pending', 17_000],
  ])('with a delay of %i ms per request, prometheus is %s after %i ms of virtual time', async (delayMs, status, waited) => {
    const result = await runScenario(withDelay(await step(), delayMs));
    expect(result.servers.find((server) => server.name === 'prometheus')?.status).toBe(status);
    expect(result.waitedMs).toBe(waited);
    // Wall time: the start and handshakes, not the 17 s (loose, for a loaded 2-core machine).
    expect(result.elapsedMs).toBeLessThan(10_000);
  });

  it('in real time (--real-time) the same scenario waits the delays out, with the same verdict', async () => {
    const scenario = withDelay(await step(), 300);
    const real = await runScenario(scenario, { time: 'real' });
    const virtual = await runScenario(scenario);
    expect(real.elapsedMs).toBeGreaterThanOrEqual(4 * 300);
    expect(virtual.waitedMs).toBe(4 * 300);
    expect(real.servers.map((server) => server.status)).toEqual(virtual.servers.map((server) => server.status));
    expect(virtual.servers.find((server) => server.name === 'prometheus')?.status).toBe('connected');
  });
});

