import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { disposable, listen, proxiedFetch } from '../../common/index.ts';
import { LineCollector, type JsonLine } from '../runtime/containers/lines.ts';
import { NameRegistry } from './names.ts';
import { startShim, type ShimConfig } from './shim.ts';

const MCP = 'monitoring-mcp.service.dev-us-east-1.consul';
const node = process.execPath;
const main = path.join(import.meta.dirname, 'main.ts');

/** A worker allowed to reach monitoring-mcp on 8000, nothing else; the service is at `target`. */
function config(target: { host: string; port: number }, bind: ShimConfig['nodes'][number]['bind'] = { address: '127.0.0.1' }): ShimConfig {
  return {
    proxyPort: 0,
    dropHoldMs: 1_000,
    nodes: [
      {
        identity: { name: 'claude-worker', ip: '10.42.0.2', groups: ['dev'] },
        firewall: { outbound: [{ port: 8000, proto: 'tcp', group: 'monitoring-mcp' }] },
        bind,
      },
      {
        identity: { name: 'monitoring-mcp', ip: '10.42.0.3', groups: ['monitoring-mcp'] },
        firewall: { inbound: [{ port: 8000, proto: 'tcp', group: 'dev' }] },
        services: [{ name: MCP, port: 8000, target }],
        bind,
      },
    ],
  };
}

/** The JSON lines a shim process prints, and a wait for the first that matches (bounded: a missing line fails, never hangs). */
function shimLines(child: ReturnType<typeof spawn>) {
  const collector = new LineCollector();
  collector.attach(child.stdout!);
  return { lines: collector.json, next: (match: (line: JsonLine) => boolean) => collector.waitFor(match, 30_000, 'a shim line') };
}

describe('NameRegistry remoteTargets', () => {
  const identity = { name: 'monitoring-mcp', ip: '10.42.0.3', groups: [] };
  const service = { name: MCP, port: 8000, target: { host: 'mth-1a2b3c4d-monitoring-mcp', port: 8000 } };

  it('refuses a target off loopback by default', () => {
    const names = new NameRegistry([{ identity, firewall: { inbound: [], outbound: [], inboundAction: 'drop', outboundAction: 'drop' } as never }]);
    expect(() => names.addService('monitoring-mcp', service)).toThrow(expect.objectContaining({ code: 'ERR_NETWORK_CONFIG' }));
  });

  it('takes another container as the target when remoteTargets is on', () => {
    const names = new NameRegistry([{ identity, firewall: {} as never }], { remoteTargets: true });
    names.addService('monitoring-mcp', service);
    expect(names.resolve(MCP, 8000)?.target).toEqual({ host: 'mth-1a2b3c4d-monitoring-mcp', port: 8000 });
  });
});

describe('startShim', () => {
  it('forwards an allowed flow to a target named by host name, not address', async () => {
    await using service = disposable(await listen((_req, res) => res.end('up'), { host: '127.0.0.1', port: 0 }));
    await using shim = await startShim(config({ host: 'localhost', port: service.port }));
    const response = await proxiedFetch(shim.egress['claude-worker']!.proxyUrl)(`http://${MCP}:8000/`);
    expect(await response.text()).toBe('up');
    expect(shim.network.events).toMatchObject([{ source: 'claude-worker', destinationNode: 'monitoring-mcp', verdict: 'allow', outcome: 'forwarded' }]);
  });

  it('binds a node to its own address in the subnet of its network', async () => {
    await using shim = await startShim(config({ host: 'localhost', port: 1 }, { subnet: '127.0.0.0/8' }), ['10.0.0.4', '127.0.0.1']);
    expect(shim.egress['claude-worker']).toMatchObject({ host: '127.0.0.1', proxyUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/) });
  });

  it.each([
    ['1.10', 'drop'],
    ['1.11', 'reject'],
  ] as const)('judges with the Nebula version of its config (%s: outbound_action reject answers an outbound denial with %s)', async (nebula, verdict) => {
    const base = config({ host: 'localhost', port: 1 });
    const worker = { ...base.nodes[0]!, firewall: { outbound: [], outbound_action: 'reject' } };
    await using shim = await startShim({ ...base, nebula, nodes: [worker, base.nodes[1]!] });
    const decided = new Promise((resolve) => shim.network.onEvent(resolve));
    const attempt = proxiedFetch(shim.egress['claude-worker']!.proxyUrl)(`http://${MCP}:8000/`).catch(() => undefined);
    expect(await decided).toMatchObject({ source: 'claude-worker', verdict });
    await shim.close();
    await attempt;
  });

  it.each([
    ['1.9', 'allow'],
    ['1.11', 'drop'],
  ] as const)('routes an address of a node\'s unsafe network to it, where a rule without local_cidr covers it on %s: %s', async (nebula, verdict) => {
    await using service = disposable(await listen((_req, res) => res.end('routed'), { host: '127.0.0.1', port: 0 }));
    const base = config({ host: '127.0.0.1', port: service.port });
    const worker = { ...base.nodes[0]!, firewall: { outbound: [{ port: 8000, proto: 'tcp', host: 'any' }] } };
    const router = { ...base.nodes[1]!, identity: { ...base.nodes[1]!.identity, subnets: ['192.168.50.0/24'] } };
    await using shim = await startShim({ ...base, nebula, nodes: [worker, router] });
    const decided = new Promise((resolve) => shim.network.onEvent(resolve));
    const attempt = proxiedFetch(shim.egress['claude-worker']!.proxyUrl)('http://192.168.50.7:8000/').then((r) => r.text(), () => undefined);
    expect(await decided).toMatchObject({ destinationNode: 'monitoring-mcp', verdict });
    if (verdict === 'allow') expect(await attempt).toBe('routed');
    await shim.close();
    await attempt;
  });

  it.each([
    ['an unknown Nebula version', { ...config({ host: 'localhost', port: 1 }), nebula: '1.7' }],
    ['a subnet the shim has no address in', config({ host: 'localhost', port: 1 }, { subnet: '192.0.2.0/24' })],
    ['a subnet that is not one', config({ host: 'localhost', port: 1 }, { subnet: 'dev-net' })],
    ['no nodes', { proxyPort: 0, nodes: [] }],
    ['an unknown field', { ...config({ host: 'localhost', port: 1 }), dns: true }],
  ])('refuses %s with ERR_NETWORK_CONFIG', async (_what, bad) => {
    await expect(startShim(bad, ['127.0.0.1'])).rejects.toMatchObject({ code: 'ERR_NETWORK_CONFIG' });
  });
});

describe('StartedShim.update', () => {
  const closedWorker = (base: ShimConfig) => ({ identity: base.nodes[0]!.identity, firewall: { outbound: [] } });

  it("judges the next flow by a node's new firewall", async () => {
    await using service = disposable(await listen((_req, res) => res.end('up'), { host: '127.0.0.1', port: 0 }));
    const base = config({ host: '127.0.0.1', port: service.port });
    await using shim = await startShim(base);
    const fetch = proxiedFetch(shim.egress['claude-worker']!.proxyUrl);
    expect(await (await fetch(`http://${MCP}:8000/`)).text()).toBe('up');
    expect(shim.update({ n: 1, nodes: [closedWorker(base)] })).toBe(1);
    // Held for the config's 1 s, then answered as a proxy's connect timeout (the tunnel fails).
    await expect(fetch(`http://${MCP}:8000/`)).rejects.toThrow();
    expect(shim.network.events.map((event) => event.verdict)).toEqual(['allow', 'drop']);
  });

  it('with reset, ends a held flow at once instead of at its hold', async () => {
    const base = { ...config({ host: '127.0.0.1', port: 1 }), dropHoldMs: 600_000 };
    await using shim = await startShim({ ...base, nodes: [{ ...base.nodes[0]!, firewall: { outbound: [] } }, base.nodes[1]!] });
    const decided = new Promise((resolve) => shim.network.onEvent(resolve));
    const attempt = proxiedFetch(shim.egress['claude-worker']!.proxyUrl)(`http://${MCP}:8000/`).then(
      () => 'answered',
      () => 'ended',
    );
    expect(await decided).toMatchObject({ verdict: 'drop' });
    shim.update({ n: 1, nodes: [], reset: true });
    // Held for ten minutes otherwise: the test's own timeout says if reset did not end it.
    expect(await attempt).toBe('ended');
  });

  it('applies nothing of an update with one bad firewall', async () => {
    await using service = disposable(await listen((_req, res) => res.end('up'), { host: '127.0.0.1', port: 0 }));
    const base = config({ host: '127.0.0.1', port: service.port });
    await using shim = await startShim(base);
    expect(() =>
      shim.update({ n: 1, nodes: [closedWorker(base), { identity: base.nodes[1]!.identity, firewall: { inbound: [{ port: 'eight', proto: 'tcp' }] } }] }),
    ).toThrow(expect.objectContaining({ code: 'ERR_FIREWALL_CONFIG' }));
    expect(await (await proxiedFetch(shim.egress['claude-worker']!.proxyUrl)(`http://${MCP}:8000/`)).text()).toBe('up');
  });
});

describe('harness/network/main.ts', () => {
  it('prints listening, one flow per decision, a mark on SIGUSR2, and exits 0 on SIGTERM', async () => {
    await using service = disposable(await listen((_req, res) => res.end('up'), { host: '127.0.0.1', port: 0 }));
    const child = spawn(node, [main], {
      env: { ...process.env, NETWORK_SHIM_CONFIG: JSON.stringify(config({ host: '127.0.0.1', port: service.port })) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const { lines, next } = shimLines(child);
    try {
      const ready = (await next((line) => line.event === 'listening')) as { egress: Record<string, { proxyUrl: string }> };
      const fetch = proxiedFetch(ready.egress['claude-worker']!.proxyUrl);
      expect(await (await fetch(`http://${MCP}:8000/`)).text()).toBe('up');
      // A name no node serves: the shim answers the tunnel request with a DNS failure.
      await expect(proxiedFetch(ready.egress['monitoring-mcp']!.proxyUrl)('http://nowhere.consul:80/')).rejects.toThrow();
      child.kill('SIGUSR2');
      await next((line) => line.event === 'mark' && line.n === 1);
      const flows = lines.filter((line) => line.event === 'flow').map((line) => line.flow);
      expect(flows).toMatchObject([
        { source: 'claude-worker', destination: MCP, verdict: 'allow', outcome: 'forwarded' },
        { source: 'monitoring-mcp', destination: 'nowhere.consul', verdict: 'no-such-host' },
      ]);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });

  it('on SIGHUP applies the update in its update file and says so with its n (or why not)', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'mth-shim-update-'));
    const file = path.join(dir, 'update.json');
    await using service = disposable(await listen((_req, res) => res.end('up'), { host: '127.0.0.1', port: 0 }));
    const base = config({ host: '127.0.0.1', port: service.port });
    const child = spawn(node, [main], {
      env: { ...process.env, NETWORK_SHIM_CONFIG: JSON.stringify(base), NETWORK_SHIM_UPDATE_FILE: file },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const { next } = shimLines(child);
    try {
      const ready = (await next((line) => line.event === 'listening')) as { egress: Record<string, { proxyUrl: string }> };
      await writeFile(file, JSON.stringify({ n: 7, nodes: [{ identity: base.nodes[0]!.identity, firewall: { outbound: [] } }] }));
      child.kill('SIGHUP');
      expect(await next((line) => line.n === 7)).toMatchObject({ event: 'updated', n: 7 });
      await writeFile(file, JSON.stringify({ n: 8, nodes: [{ identity: { ...base.nodes[0]!.identity, name: 'nobody' } }] }));
      child.kill('SIGHUP');
      expect(await next((line) => line.n === 8)).toMatchObject({ event: 'update-failed', n: 8, error: expect.stringMatching(/^ERR_UNKNOWN_NODE: /) });
      const attempt = proxiedFetch(ready.egress['claude-worker']!.proxyUrl)(`http://${MCP}:8000/`).catch(() => undefined);
      expect(await next((line) => line.event === 'flow')).toMatchObject({ flow: { verdict: 'drop' } });
      await attempt;
    } finally {
      child.kill('SIGTERM');
      await rm(dir, { recursive: true, force: true });
    }
    expect(await exited).toBe(0);
  }, 60_000);

  it('exits 2 with the coded reason when its config is bad', async () => {
    const child = spawn(node, [main], { env: { ...process.env, NETWORK_SHIM_CONFIG: '{"nodes":[],"proxyPort":0}' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    expect(stderr).toMatch(/^network-shim: ERR_NETWORK_CONFIG: /);
  });
});
