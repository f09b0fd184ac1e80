import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { disposable, listen, proxiedFetch } from '../../common/index.ts';
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
    ['a subnet the shim has no address in', config({ host: 'localhost', port: 1 }, { subnet: '192.0.2.0/24' })],
    ['a subnet that is not one', config({ host: 'localhost', port: 1 }, { subnet: 'dev-net' })],
    ['no nodes', { proxyPort: 0, nodes: [] }],
    ['an unknown field', { ...config({ host: 'localhost', port: 1 }), dns: true }],
  ])('refuses %s with ERR_NETWORK_CONFIG', async (_what, bad) => {
    await expect(startShim(bad, ['127.0.0.1'])).rejects.toMatchObject({ code: 'ERR_NETWORK_CONFIG' });
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
    const lines: Record<string, unknown>[] = [];
    const waiters: { match: (line: Record<string, unknown>) => boolean; resolve: (line: Record<string, unknown>) => void }[] = [];
    let partial = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      for (const text of parts) {
        const line = JSON.parse(text) as Record<string, unknown>;
        lines.push(line);
        for (const waiter of waiters.filter((w) => w.match(line))) waiter.resolve(line);
      }
    });
    const next = (match: (line: Record<string, unknown>) => boolean) =>
      new Promise<Record<string, unknown>>((resolve) => {
        const seen = lines.find(match);
        if (seen) resolve(seen);
        else waiters.push({ match, resolve });
      });
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

  it('exits 2 with the coded reason when its config is bad', async () => {
    const child = spawn(node, [main], { env: { ...process.env, NETWORK_SHIM_CONFIG: '{"nodes":[],"proxyPort":0}' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    expect(stderr).toMatch(/^network-shim: ERR_NETWORK_CONFIG: /);
  });
});
