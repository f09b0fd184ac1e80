import http from 'node:http';
import net from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fetch as undiciFetch, ProxyAgent } from 'undici';
import { listen, ManualClock, proxiedFetch } from '../../common/index.ts';
import type { Listening } from '../../common/index.ts';
import { startNetwork } from './egress.ts';
import type { NetworkEvent, StartedNetwork } from './egress.ts';
import { parseFirewall } from './firewall.ts';
import type { NetworkNode } from './names.ts';

const MCP = 'monitoring-mcp.service.dev-us-east-1.consul';
const GRAFANA = 'monitoring-ai-mcp.service.dev-us-east-1.consul';
const VAULT = 'vault.service.dev-us-east-1.consul';

function nodes(): NetworkNode[] {
  const openIn = { inbound: [{ port: 'any', proto: 'any', host: 'any' }] };
  return [
    {
      identity: { name: 'claude-worker', ip: '10.10.0.5', groups: ['claude-worker', 'dev', 'us-east-1', 'az-b'] },
      firewall: parseFirewall({
        outbound: [
          { port: 8000, proto: 'tcp', groups: ['dev', 'monitoring-mcp'] }, // PR #26
          { port: 8200, proto: 'tcp', host: 'vault' },
          { port: 9000, proto: 'tcp', host: 'monitoring-mcp' },
        ],
      }),
    },
    { identity: { name: 'monitoring-mcp', ip: '10.10.0.7', groups: ['monitoring-mcp', 'dev', 'us-east-1'] }, firewall: parseFirewall(openIn) },
    { identity: { name: 'monitoring-ai-mcp', ip: '10.10.0.8', groups: ['monitoring-ai-mcp', 'dev'] }, firewall: parseFirewall(openIn) },
    {
      identity: { name: 'vault', ip: '10.10.0.9', groups: ['vault'] },
      firewall: parseFirewall({ inbound: [{ port: 8200, proto: 'tcp', group: 'admins' }], inbound_action: 'reject' }),
    },
  ];
}

/** Opens a raw CONNECT tunnel through `proxyPort`; resolves when the proxy closes it, with what it said. */
function rawConnect(proxyPort: number, authority: string): { socket: net.Socket; closed: Promise<{ data: string; error?: string }> } {
  const socket = net.connect(proxyPort, '127.0.0.1');
  let data = '';
  let error: string | undefined;
  socket.on('data', (chunk) => (data += chunk.toString()));
  socket.on('error', (e: NodeJS.ErrnoException) => (error = e.code));
  socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
  const closed = new Promise<{ data: string; error?: string }>((resolve) =>
    socket.once('close', () => resolve(error === undefined ? { data } : { data, error })),
  );
  return { socket, closed };
}

/** Sends one absolute-form request through the proxy; resolves with status + body, or the socket error code. */
function rawProxyGet(proxyPort: number, url: string): Promise<{ status?: number; body?: string; header?: string; error?: string }> {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port: proxyPort, path: url, agent: false, headers: { host: new URL(url).host } });
    req.once('response', (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode, body, header: String(res.headers['x-harness-network'] ?? '') }));
    });
    req.once('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
    req.end();
  });
}

function nextEvent(network: StartedNetwork): Promise<NetworkEvent> {
  return new Promise((resolve) => {
    const off = network.onEvent((event) => {
      off();
      resolve(event);
    });
  });
}

describe('startNetwork', () => {
  let upstream: Listening;
  let network: StartedNetwork;

  beforeEach(async () => {
    upstream = await listen((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ service: 'monitoring-mcp', path: req.url, host: req.headers.host }));
    });
    network = await startNetwork({ nodes: nodes(), dropHoldMs: 5_000, clock: new ManualClock(Date.parse('2025-10-01T18:00:00Z')) });
    network.addService('monitoring-mcp', { name: MCP, port: 8000, target: { host: '127.0.0.1', port: upstream.port } });
    network.addService('monitoring-ai-mcp', { name: GRAFANA, port: 8000, target: { host: '127.0.0.1', port: upstream.port } });
    network.addService('vault', { name: VAULT, port: 8200, target: { host: '127.0.0.1', port: upstream.port } });
  });

  afterEach(async () => {
    await network.close();
    await upstream.close();
  });

  it('forwards an allowed fetch (undici ProxyAgent) to the service and records why', async () => {
    const fetch = proxiedFetch(network.egress('claude-worker').proxyUrl);
    const res = await fetch(`http://${MCP}:8000/v1/mcp?x=1`);
    expect(await res.json()).toEqual({ service: 'monitoring-mcp', path: '/v1/mcp?x=1', host: `${MCP}:8000` });
    expect(network.events).toEqual([
      expect.objectContaining({
        time: '2025-10-01T18:00:00.000Z',
        source: 'claude-worker',
        destination: MCP,
        destinationNode: 'monitoring-mcp',
        port: 8000,
        proto: 'tcp',
        verdict: 'allow',
        outcome: 'forwarded',
        reason: 'claude-worker outbound rule port 8000/tcp groups [dev, monitoring-mcp]; monitoring-mcp inbound rule port any/any host any',
      }),
    ]);
  });

  it('forwards through a CONNECT tunnel when the client tunnels http:// targets', async () => {
    const dispatcher = new ProxyAgent({ uri: network.egress('claude-worker').proxyUrl, proxyTunnel: true });
    try {
      const res = await undiciFetch(`http://${MCP}:8000/`, { dispatcher });
      expect(res.status).toBe(200);
      await res.text();
      expect(network.events[0]).toMatchObject({ verdict: 'allow', via: 'connect', outcome: 'forwarded' });
    } finally {
      await dispatcher.close();
    }
  });

  it('resolves node names and overlay IPs as well as consul names', async () => {
    const port = network.egress('claude-worker').port;
    expect((await rawProxyGet(port, 'http://10.10.0.7:8000/a')).status).toBe(200);
    expect((await rawProxyGet(port, 'http://monitoring-mcp:8000/b')).status).toBe(200);
    expect(network.events.map((e) => [e.destination, e.destinationNode, e.verdict, e.via])).toEqual([
      ['10.10.0.7', 'monitoring-mcp', 'allow', 'http'],
      ['monitoring-mcp', 'monitoring-mcp', 'allow', 'http'],
    ]);
  });

  it('holds a dropped connection silently so the client times out on its own', async () => {
    const fetch = proxiedFetch(network.egress('claude-worker').proxyUrl);
    const event = nextEvent(network);
    await expect(fetch(`http://${GRAFANA}:8000/`, { signal: AbortSignal.timeout(200) })).rejects.toThrow(/abort|timeout/i);
    expect(await event).toMatchObject({
      verdict: 'drop',
      destinationNode: 'monitoring-ai-mcp',
      reason: expect.stringContaining('claude-worker outbound: outbound rule port 8000/tcp groups [dev, monitoring-mcp] needs monitoring-mcp; monitoring-ai-mcp has [monitoring-ai-mcp, dev]'),
    });
  });

  it('resets a rejected CONNECT without answering', async () => {
    const { closed } = rawConnect(network.egress('claude-worker').port, `${VAULT}:8200`);
    expect(await closed).toEqual({ data: '', error: 'ECONNRESET' });
    expect(network.events[0]).toMatchObject({ verdict: 'reject', via: 'connect', reason: expect.stringMatching(/^vault inbound: inbound rule port 8200\/tcp group admins needs admins/) });
  });

  it('fails a rejected fetch as a refused connection', async () => {
    const fetch = proxiedFetch(network.egress('claude-worker').proxyUrl);
    await expect(fetch(`http://${VAULT}:8200/`)).rejects.toThrow();
    expect(network.events[0]?.verdict).toBe('reject');
  });

  it('answers an unknown name as a DNS failure, for both proxy forms', async () => {
    const port = network.egress('claude-worker').port;
    const http = await rawProxyGet(port, 'http://prometheus.service.dev-us-east-1.consul:9090/');
    expect(http).toMatchObject({ status: 502, header: 'no-such-host', body: 'getaddrinfo ENOTFOUND prometheus.service.dev-us-east-1.consul\n' });
    const { closed } = rawConnect(port, 'example.com:443');
    expect((await closed).data).toMatch(/^HTTP\/1\.1 502 Bad Gateway\r\n[\s\S]*x-harness-network: no-such-host/);
    expect(network.events.map((e) => [e.destination, e.verdict, e.destinationNode])).toEqual([
      ['prometheus.service.dev-us-east-1.consul', 'no-such-host', undefined],
      ['example.com', 'no-such-host', undefined],
    ]);
  });

  it('never forwards to loopback or any address outside the topology', async () => {
    const port = network.egress('claude-worker').port;
    const result = await rawProxyGet(port, `http://127.0.0.1:${upstream.port}/`);
    expect(result.status).toBe(502);
    expect(network.events[0]).toMatchObject({ verdict: 'no-such-host', reason: expect.stringContaining('not the overlay IP of any node') });
  });

  it('refuses an allowed connection to a port no service is registered on', async () => {
    const { closed } = rawConnect(network.egress('claude-worker').port, 'monitoring-mcp:9000');
    expect(await closed).toEqual({ data: '', error: 'ECONNRESET' });
    expect(network.events[0]).toMatchObject({
      verdict: 'allow',
      outcome: 'no-listener',
      reason: expect.stringContaining('nothing listens on monitoring-mcp:9000 (connection refused)'),
    });
  });

  it('refuses an allowed connection when the service behind it is gone', async () => {
    const gone = await listen((_req, res) => res.end());
    await gone.close();
    network.addService('monitoring-mcp', { name: 'gone.service.dev-us-east-1.consul', port: 9000, target: { host: '127.0.0.1', port: gone.port } });
    const { closed } = rawConnect(network.egress('claude-worker').port, 'gone.service.dev-us-east-1.consul:9000');
    expect(await closed).toEqual({ data: '', error: 'ECONNRESET' });
    const http = await rawProxyGet(network.egress('claude-worker').port, 'http://gone.service.dev-us-east-1.consul:9000/');
    expect(http.error).toBe('ECONNRESET');
    expect(network.events.map((e) => [e.verdict, e.outcome, e.via])).toEqual([
      ['allow', 'no-listener', 'connect'],
      ['allow', 'no-listener', 'http'],
    ]);
  });

  it('tells listeners about each decision until they unsubscribe', async () => {
    const seen: string[] = [];
    const off = network.onEvent((e) => seen.push(e.verdict));
    const port = network.egress('claude-worker').port;
    await rawProxyGet(port, `http://${MCP}:8000/`);
    off();
    await rawProxyGet(port, 'http://nowhere.consul/');
    expect(seen).toEqual(['allow']);
    expect(network.events).toHaveLength(2);
  });

  it('throws ERR_UNKNOWN_NODE for an egress or a service of a node it does not know', () => {
    expect(() => network.egress('nobody')).toThrow(expect.objectContaining({ code: 'ERR_UNKNOWN_NODE' }));
    expect(() => network.addService('nobody', { name: 'x.consul', port: 1, target: { host: '127.0.0.1', port: 1 } })).toThrow(
      expect.objectContaining({ code: 'ERR_UNKNOWN_NODE' }),
    );
  });

  it('throws ERR_NETWORK_CONFIG for a service target off loopback', () => {
    expect(() => network.addService('vault', { name: 'v.consul', port: 1, target: { host: '10.0.0.1', port: 80 } })).toThrow(
      expect.objectContaining({ code: 'ERR_NETWORK_CONFIG' }),
    );
  });
});

describe('startNetwork clean-up', () => {
  it('leaves no socket, server or timer behind after close, even with held connections', async () => {
    const before = await settledResources();
    const timers = vi.spyOn(globalThis, 'setTimeout');
    const cleared = vi.spyOn(globalThis, 'clearTimeout');
    const network = await startNetwork({ nodes: nodes(), dropHoldMs: 60_000 });
    const dropped = nextEvent(network);
    const held = rawConnect(network.egress('claude-worker').port, 'monitoring-ai-mcp:8000');
    await dropped;
    const { port } = network.egress('claude-worker');
    await network.close();
    expect((await held.closed).data).toBe('');
    // The 60 s hold timer is gone at once (other timers of the process come and go: not counted).
    const holds = timers.mock.calls.flatMap((call, index) => (call[1] === 60_000 ? [timers.mock.results[index]!.value] : []));
    expect(holds).toHaveLength(1);
    expect(cleared).toHaveBeenCalledWith(holds[0]);
    timers.mockRestore();
    cleared.mockRestore();
    expect(await settledResources(before)).toEqual(before);
    expect((await rawProxyGet(port, 'http://monitoring-mcp:8000/')).error).toBe('ECONNREFUSED');
  });
});

describe('startNetwork, once a hold passes', () => {
  it('answers a held CONNECT, once the hold passes, as a proxy whose connect timed out', async () => {
    await using network = await startNetwork({ nodes: nodes(), dropHoldMs: 50 });
    const started = performance.now();
    const { closed } = rawConnect(network.egress('claude-worker').port, 'monitoring-ai-mcp:8000');
    const { data } = await closed;
    expect(performance.now() - started).toBeGreaterThanOrEqual(45);
    expect(data).toMatch(/^HTTP\/1\.1 504 Gateway Timeout\r\n/);
    expect(data).toMatch(/\r\nproxy-status: mth-egress; error=connection_timeout\r\n/);
    expect(data).toMatch(/\r\nx-harness-network: dropped\r\n/);
    expect(network.events.map((event) => event.verdict)).toEqual(['drop']);
  });

  it('answers a held absolute-form request the same way once the hold passes', async () => {
    await using network = await startNetwork({ nodes: nodes(), dropHoldMs: 50 });
    const answer = await rawProxyGet(network.egress('claude-worker').port, 'http://monitoring-ai-mcp:8000/');
    expect(answer).toMatchObject({ status: 504, header: 'dropped', body: expect.stringContaining('held this dropped flow for 50 ms') });
  });
});

/**
 * Active handles once libuv has finished closing what was closed: a closed server's handle leaves
 * the list a few loop turns after its close callback, and handles closed by an earlier test may
 * still be leaving. Without a target: the counts once they held for 50 turns in a row. Bounded:
 * at most 1000 turns.
 */
async function settledResources(target?: Record<string, number>): Promise<Record<string, number>> {
  let current = resources();
  let steady = 0;
  for (let turn = 0; turn < 1000; turn++) {
    await new Promise((resolve) => setImmediate(resolve));
    const next = resources();
    if (target && JSON.stringify(next) === JSON.stringify(target)) return next;
    steady = JSON.stringify(next) === JSON.stringify(current) ? steady + 1 : 0;
    if (!target && steady >= 50) return next;
    current = next;
  }
  return current;
}

/** Sockets and servers: timers are checked by spying on them, since other parts of the process have some too. */
function resources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) {
    if (r === 'TCPSocketWrap' || r === 'TCPServerWrap') counts[r] = (counts[r] ?? 0) + 1;
  }
  return counts;
}
