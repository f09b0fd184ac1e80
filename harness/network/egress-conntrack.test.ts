import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../common/index.ts';
import { startNetwork } from './egress.ts';
import type { NetworkEvent } from './egress.ts';
import { parseFirewall } from './firewall.ts';
import type { FirewallConfig } from './firewall.ts';

const MCP = 'monitoring-mcp.service.dev-us-east-1.consul';
const MINUTE = 60_000;

/** A TCP service whose accepted sockets the test drives by hand; closes with everything it accepted. */
async function rawService() {
  const sockets: net.Socket[] = [];
  const waiting: ((socket: net.Socket) => void)[] = [];
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    sockets.push(socket);
    waiting.shift()?.(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    accepted: () => new Promise<net.Socket>((resolve) => (sockets[0] ? resolve(sockets[0]) : waiting.push(resolve))),
    async [Symbol.asyncDispose]() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Collects a socket's bytes; `until(text)` resolves once they contain `text`. */
function reader(socket: net.Socket) {
  let data = '';
  const waiters: { text: string; resolve: () => void }[] = [];
  socket.on('data', (chunk: Buffer) => {
    data += chunk.toString();
    for (const w of waiters.filter((w) => data.includes(w.text))) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  });
  return {
    get data() {
      return data;
    },
    until: (text: string) => new Promise<void>((resolve) => (data.includes(text) ? resolve() : waiters.push({ text, resolve }))),
  };
}

/** The seed's worker: may open 8000 to monitoring-mcp, has no inbound rule, so replies live on conntrack alone. */
async function setup(worker: FirewallConfig = {}, dropHoldMs?: number) {
  const clock = new ManualClock();
  const service = await rawService();
  const network = await startNetwork({
    clock,
    ...(dropHoldMs === undefined ? {} : { dropHoldMs }),
    nodes: [
      {
        identity: { name: 'claude-worker', ip: '10.42.0.1', groups: ['dev'] },
        firewall: parseFirewall({ outbound: [{ port: 8000, proto: 'tcp', group: 'monitoring-mcp' }], ...worker }),
      },
      {
        identity: { name: 'monitoring-mcp', ip: '10.42.0.2', groups: ['monitoring-mcp'] },
        firewall: parseFirewall({ inbound: [{ port: 8000, proto: 'tcp', group: 'dev' }], outbound: [{ port: 'any', proto: 'any', host: 'any' }] }),
      },
    ],
  });
  network.addService('monitoring-mcp', { name: MCP, port: 8000, target: { host: '127.0.0.1', port: service.port } });
  const clients: net.Socket[] = [];
  /** A new tunnel from the worker: a new conntrack entry, which is what turns Nebula's wheel. */
  const tunnel = async () => {
    const client = net.connect(network.egress('claude-worker').port, '127.0.0.1');
    clients.push(client);
    client.on('error', () => {});
    const fromShim = reader(client);
    client.write(`CONNECT ${MCP}:8000 HTTP/1.1\r\nHost: ${MCP}:8000\r\n\r\n`);
    await fromShim.until('200 Connection Established\r\n\r\n');
    return { client, fromShim };
  };
  const { client, fromShim } = await tunnel();
  const server = await service.accepted();
  const atServer = reader(server);
  const events = network.events;
  const nextEvent = () => new Promise<NetworkEvent>((resolve) => {
    const off = network.onEvent((event) => {
      off();
      resolve(event);
    });
  });
  return {
    clock, client, server, fromShim, atServer, events, nextEvent, tunnel,
    async [Symbol.asyncDispose]() {
      for (const socket of clients) socket.destroy();
      await network.close();
      await service[Symbol.asyncDispose]();
    },
  };
}

describe('the live shim\'s conntrack', () => {
  it('passes the responder\'s return traffic to a worker without inbound rules while the flow is live', async () => {
    await using t = await setup();
    t.client.write('ping');
    await t.atServer.until('ping');
    t.clock.advance(11 * MINUTE);
    t.server.write('pong');
    await t.fromShim.until('pong');
    expect(t.events.map((e) => [e.verdict, e.packet])).toEqual([['allow', undefined]]);
  });

  it('keeps an idle flow while the worker opens nothing new, as Nebula\'s lazy wheel does', async () => {
    await using t = await setup();
    t.clock.advance(60 * MINUTE);
    t.server.write('late');
    await t.fromShim.until('late');
    expect(t.events.filter((e) => e.packet)).toEqual([]);
  });

  it('holds return traffic once the idle flow was forgotten, until the worker sends again', async () => {
    await using t = await setup();
    t.client.write('ping');
    await t.atServer.until('ping');
    // 12m tcp_timeout: Nebula's wheel reaches the entry at 15m, when the worker opens something new.
    t.clock.advance(15 * MINUTE);
    await t.tunnel();
    const dropped = t.nextEvent();
    t.server.write('late');
    const event = await dropped;
    expect(event).toMatchObject({ source: 'claude-worker', destinationNode: 'monitoring-mcp', port: 8000, verdict: 'drop', packet: 'return' });
    expect(event.reason).toMatch(/^return traffic of claude-worker:\d+ -> monitoring-mcp:8000\/tcp no longer matched a conntrack entry .* claude-worker inbound: claude-worker has no inbound rules \(default deny\)$/);
    expect(t.fromShim.data).not.toContain('late');
    // The worker's next packet passes its outbound rules and re-creates both entries, as in Nebula; the held bytes follow.
    t.client.write('again');
    await Promise.all([t.atServer.until('again'), t.fromShim.until('late')]);
  });

  it('gives up a held tunnel after dropHoldMs, as it does a dropped first packet', async () => {
    await using t = await setup({}, 50);
    t.clock.advance(15 * MINUTE);
    await t.tunnel();
    const closed = new Promise((resolve) => t.client.once('close', resolve));
    t.server.write('late');
    await closed;
    expect(t.events.at(-1)).toMatchObject({ verdict: 'drop', packet: 'return' });
    expect(t.fromShim.data).not.toContain('late');
  });

  it('follows the node\'s own conntrack.tcp_timeout', async () => {
    await using t = await setup({ conntrack: { tcp_timeout: '30s' } });
    t.clock.advance(60_000);
    await t.tunnel();
    const dropped = t.nextEvent();
    t.server.write('late');
    expect(await dropped).toMatchObject({ verdict: 'drop', packet: 'return' });
  });

  it('resets the connection when the denying table rejects (1.11: the worker\'s inbound_action)', async () => {
    await using t = await setup({ inbound_action: 'reject' });
    t.clock.advance(15 * MINUTE);
    await t.tunnel();
    const closed = new Promise((resolve) => t.client.once('close', resolve));
    t.server.write('late');
    await closed;
    expect(t.events.at(-1)).toMatchObject({ verdict: 'reject', packet: 'return' });
    expect(t.fromShim.data).not.toContain('late');
  });

  it('keeps return traffic flowing when the worker has an inbound rule for it', async () => {
    await using t = await setup({ inbound: [{ port: 'any', proto: 'tcp', group: 'monitoring-mcp' }] });
    t.clock.advance(60 * MINUTE);
    await t.tunnel();
    t.server.write('late');
    await t.fromShim.until('late');
    expect(t.events.filter((e) => e.packet)).toEqual([]);
  });

  it('gates a proxied HTTP response the same way, answering 504 once the hold passes', async () => {
    const clock = new ManualClock();
    let respond: (() => void) | undefined;
    const answered = new Promise<void>((resolve) => (respond = resolve));
    const service = http.createServer((_req, res) => {
      // The server answers only after the test moved the clock past the flow's timeout.
      void answered.then(() => res.end('late'));
    });
    await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
    await using network = await startNetwork({
      clock,
      dropHoldMs: 50,
      nodes: [
        { identity: { name: 'claude-worker', ip: '10.42.0.1', groups: ['dev'] }, firewall: parseFirewall({ outbound: [{ port: 8000, proto: 'tcp', group: 'monitoring-mcp' }] }) },
        { identity: { name: 'monitoring-mcp', ip: '10.42.0.2', groups: ['monitoring-mcp'] }, firewall: parseFirewall({ inbound: [{ port: 8000, proto: 'tcp', host: 'any' }], outbound: [{ port: 'any', proto: 'any', host: 'any' }] }) },
      ],
    });
    try {
      network.addService('monitoring-mcp', { name: MCP, port: 8000, target: { host: '127.0.0.1', port: (service.address() as AddressInfo).port } });
      const req = http.request({ host: '127.0.0.1', port: network.egress('claude-worker').port, path: `http://${MCP}:8000/`, agent: false });
      req.on('error', () => {});
      const answer = new Promise<http.IncomingMessage>((resolve) => req.once('response', resolve));
      const forwarded = new Promise<NetworkEvent>((resolve) => network.onEvent(resolve));
      req.end();
      expect(await forwarded).toMatchObject({ verdict: 'allow', outcome: 'forwarded' });
      clock.advance(15 * MINUTE);
      // A second request from the worker is a new entry: it turns the wheel past the first flow's slot.
      const second = http.request({ host: '127.0.0.1', port: network.egress('claude-worker').port, path: `http://${MCP}:8000/`, agent: false });
      second.on('error', () => {});
      const forwardedAgain = new Promise<NetworkEvent>((resolve) => network.onEvent(resolve));
      second.end();
      expect(await forwardedAgain).toMatchObject({ verdict: 'allow', outcome: 'forwarded' });
      const dropped = new Promise<NetworkEvent>((resolve) => network.onEvent(resolve));
      respond!();
      expect(await dropped).toMatchObject({ verdict: 'drop', packet: 'return', via: 'http' });
      const held = await answer;
      expect([held.statusCode, held.headers['x-harness-network']]).toEqual([504, 'dropped']);
      req.destroy();
      second.destroy();
    } finally {
      service.closeAllConnections();
      await new Promise<void>((resolve) => service.close(() => resolve()));
    }
  });
});
