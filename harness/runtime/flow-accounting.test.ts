import { describe, expect, it } from 'vitest';
import { delayed, VirtualClock, type Fetch } from '../../common/index.ts';
import { FlowAccounting } from './flow-accounting.ts';

const NODES: Record<string, string> = {
  'monitoring-mcp.service.dev.consul:8000': 'monitoring-mcp',
  'auth-server.service.dev.consul:8080': 'auth-server',
  'monitoring-ai-mcp.service.dev.consul:8000': 'monitoring-ai-mcp',
};
const MCP = 'http://monitoring-mcp.service.dev.consul:8000/v1/mcp';
const JWKS = 'http://auth-server.service.dev.consul:8080/.well-known/jwks.json';

/** A fetch whose answers the test hands out by hand: no network needed to count requests. */
function manualFetch() {
  const pending: { url: string; answer: (response: Response) => void }[] = [];
  const fetch = ((input: Parameters<Fetch>[0]) =>
    new Promise<Response>((resolve) => pending.push({ url: String(input), answer: resolve }))) as Fetch;
  return { fetch, pending };
}

function setUp() {
  const clock = new VirtualClock();
  const accounting = new FlowAccounting(clock, (host, port) => NODES[`${host}:${port}`]);
  const base = manualFetch();
  return { clock, accounting, base, [Symbol.dispose]: () => { accounting.close(); clock.close(); } };
}

const turns = (n: number) => new Promise<void>((resolve) => {
  const step = (left: number) => (left === 0 ? resolve() : setImmediate(() => step(left - 1)));
  step(n);
});

const held = (accounting: FlowAccounting, source: string, url: string) => {
  const { hostname, port } = new URL(url);
  return accounting.onHold({ source, destination: hostname, port: Number(port) });
};

describe('FlowAccounting', () => {
  it('counts a request as real from the call until its body is read to the end', async () => {
    using t = setUp();
    const fetch = t.accounting.fetchOf('claude-worker', t.base.fetch);
    const answered = fetch(MCP, { method: 'POST' });
    expect(t.accounting.describe()).toEqual(['claude-worker -> monitoring-mcp.service.dev.consul:8000 (real)']);
    t.base.pending[0]!.answer(new Response('{"jsonrpc":"2.0"}', { status: 200 }));
    const response = await answered;
    expect(t.accounting.active()).toBe(true); // headers came, the body is still on its way
    expect(await response.text()).toBe('{"jsonrpc":"2.0"}');
    expect(t.accounting.active()).toBe(false);
  });

  it('releases a cancelled body, an aborted request, and a GET event stream at its headers', async () => {
    using t = setUp();
    const fetch = t.accounting.fetchOf('claude-worker', t.base.fetch);
    const cancelled = fetch(MCP, { method: 'POST' });
    t.base.pending[0]!.answer(new Response('unread', { status: 401 }));
    await (await cancelled).body!.cancel();
    expect(t.accounting.active()).toBe(false);

    const controller = new AbortController();
    void fetch(MCP, { method: 'POST', signal: controller.signal });
    expect(t.accounting.active()).toBe(true);
    controller.abort();
    expect(t.accounting.active()).toBe(false);

    const stream = fetch(MCP, { method: 'GET', headers: { accept: 'text/event-stream' } });
    t.base.pending[2]!.answer(new Response(new ReadableStream(), { headers: { 'content-type': 'text/event-stream' } }));
    await stream;
    expect(t.accounting.active()).toBe(false);
  });

  it('counts a request the egress holds as waiting, and only once each request there is held', () => {
    using t = setUp();
    const fetch = t.accounting.fetchOf('claude-worker', t.base.fetch);
    void fetch(MCP, { method: 'POST' });
    void fetch(MCP, { method: 'POST' });
    const first = held(t.accounting, 'claude-worker', MCP);
    // One CONNECT held, the second still on its way to the egress: it may still be answered.
    expect(t.accounting.active()).toBe(true);
    const second = held(t.accounting, 'claude-worker', MCP);
    expect(t.accounting.active()).toBe(false);
    first();
    expect(t.accounting.active()).toBe(true);
    second();
  });

  it('a hold of another node or address does not count', () => {
    using t = setUp();
    void t.accounting.fetchOf('claude-worker', t.base.fetch)(MCP, { method: 'POST' });
    held(t.accounting, 'monitoring-ai-mcp', MCP);
    held(t.accounting, 'claude-worker', JWKS);
    expect(t.accounting.active()).toBe(true);
  });

  it('counts a request forwarded to a node as waiting while that node waits only on held flows', () => {
    using t = setUp();
    void t.accounting.fetchOf('claude-worker', t.base.fetch)(MCP, { method: 'POST' });
    // monitoring-mcp is working on it (verifying the token) and has nothing out: real.
    expect(t.accounting.active()).toBe(true);
    void t.accounting.fetchOf('monitoring-mcp', t.base.fetch)(JWKS);
    // Its JWKS request is on its way: still real.
    expect(t.accounting.active()).toBe(true);
    const release = held(t.accounting, 'monitoring-mcp', JWKS);
    expect(t.accounting.describe()).toEqual([
      'claude-worker -> monitoring-mcp.service.dev.consul:8000 (waiting)',
      'monitoring-mcp -> auth-server.service.dev.consul:8080 (waiting)',
    ]);
    expect(t.accounting.active()).toBe(false);
    release();
    expect(t.accounting.active()).toBe(true);
  });

  it('a node with more requests in than held flows out is still working on one of them', () => {
    using t = setUp();
    const worker = t.accounting.fetchOf('claude-worker', t.base.fetch);
    void worker(MCP, { method: 'POST' });
    void worker(MCP, { method: 'POST' });
    void t.accounting.fetchOf('monitoring-mcp', t.base.fetch)(JWKS);
    held(t.accounting, 'monitoring-mcp', JWKS);
    expect(t.accounting.active()).toBe(true);
    void t.accounting.fetchOf('monitoring-mcp', t.base.fetch)(JWKS);
    held(t.accounting, 'monitoring-mcp', JWKS);
    expect(t.accounting.active()).toBe(false);
  });

  it("counts a request forwarded to a node as waiting while the node waits on purpose (delayed), not on its other timers", async () => {
    using t = setUp();
    void t.accounting.fetchOf('claude-worker', t.base.fetch)(MCP, { method: 'POST' });
    const clock = t.accounting.clockOf('monitoring-mcp');
    // A fetch's timeout is a deadline of the node, not a wait: the node is still working.
    clock.setTimeout(() => {}, 30_000);
    expect(t.accounting.active()).toBe(true);
    let answered = false;
    const cancel = delayed(clock, 4_700, () => {
      answered = true;
    });
    expect(t.accounting.describe()).toEqual(['claude-worker -> monitoring-mcp.service.dev.consul:8000 (waiting)']);
    expect(t.accounting.active()).toBe(false);
    // The clock jumps to the delay (the earliest timer), and the node works again from there.
    await turns(10);
    expect(answered).toBe(true);
    expect(t.clock.elapsed).toBe(4_700);
    expect(t.accounting.active()).toBe(true);
    cancel();
    expect(t.accounting.active()).toBe(true);
  });

  it('a node with two requests in and one deliberate wait is still working on the other', () => {
    using t = setUp();
    const worker = t.accounting.fetchOf('claude-worker', t.base.fetch);
    void worker(MCP, { method: 'POST' });
    void worker(MCP, { method: 'POST' });
    const cancel = delayed(t.accounting.clockOf('monitoring-mcp'), 1_000, () => {});
    expect(t.accounting.active()).toBe(true);
    delayed(t.accounting.clockOf('monitoring-mcp'), 1_000, () => {});
    expect(t.accounting.active()).toBe(false);
    cancel();
    cancel();
    expect(t.accounting.active()).toBe(true);
  });

  it('nodes waiting on each other in a cycle count as real work', () => {
    using t = setUp();
    void t.accounting.fetchOf('claude-worker', t.base.fetch)(MCP, { method: 'POST' });
    void t.accounting.fetchOf('monitoring-mcp', t.base.fetch)('http://monitoring-ai-mcp.service.dev.consul:8000/');
    void t.accounting.fetchOf('monitoring-ai-mcp', t.base.fetch)(MCP);
    expect(t.accounting.active()).toBe(true);
  });

  it('moves the clock only once every request is waiting', async () => {
    using t = setUp();
    void t.accounting.fetchOf('claude-worker', t.base.fetch)(MCP, { method: 'POST' });
    let fired = false;
    const deadline = new Promise<void>((resolve) => t.clock.setTimeout(() => resolve(void (fired = true)), 30_000));
    await turns(20);
    expect(fired).toBe(false);
    held(t.accounting, 'claude-worker', MCP);
    await deadline;
    expect(t.clock.elapsed).toBe(30_000);
  });
});
