import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../common/index.ts';
import { Conntrack } from './conntrack.ts';
import type { TrackedQuery } from './conntrack.ts';
import { evaluateFlow } from './evaluate.ts';
import { parseFirewall } from './firewall.ts';
import type { NodeIdentity } from './identity.ts';

const worker: NodeIdentity = { name: 'claude-worker', ip: '10.42.0.1', groups: ['dev'] };
const mcp: NodeIdentity = { name: 'monitoring-mcp', ip: '10.42.0.2', groups: ['dev', 'monitoring-mcp'] };
const MINUTE = 60_000;

/** The seed's shape: the worker may open 8000 to monitoring-mcp and has no inbound rule at all. */
function setup(options: { worker?: object; mcp?: object } = {}) {
  const clock = new ManualClock();
  const conntrack = new Conntrack({ clock });
  const query: TrackedQuery = {
    from: { identity: worker, firewall: parseFirewall({ outbound: [{ port: 8000, proto: 'tcp', group: 'monitoring-mcp' }], ...options.worker }) },
    to: { identity: mcp, firewall: parseFirewall({ inbound: [{ port: 8000, proto: 'tcp', group: 'dev' }], outbound: [{ port: 'any', proto: 'any', host: 'any' }], ...options.mcp }) },
    port: 8000,
    sourcePort: 51000,
    proto: 'tcp',
  };
  return { clock, conntrack, query };
}

describe('Conntrack', () => {
  it('passes return traffic to the initiator, which has no inbound rule, through both nodes\' entries', () => {
    const { conntrack, query } = setup();
    // Judged by the rules alone, the reply is a new flow monitoring-mcp -> worker:51000, and the worker drops it.
    expect(evaluateFlow({ from: query.to, to: query.from, port: 51000, proto: 'tcp' }).verdict).toBe('drop');
    const flow = conntrack.track(query);
    expect(flow.packet('return')).toEqual({ verdict: 'allow', sender: 'conntrack', receiver: 'conntrack' });
    expect(flow.packet('forward')).toEqual({ verdict: 'allow', sender: 'conntrack', receiver: 'conntrack' });
    expect([conntrack.size('claude-worker'), conntrack.size('monitoring-mcp')]).toEqual([1, 1]);
  });

  it('keeps an idle flow past its timeout while its node adds nothing new: Nebula\'s wheel turns only on new entries', () => {
    const { clock, conntrack, query } = setup();
    const flow = conntrack.track(query);
    clock.advance(60 * MINUTE);
    expect(flow.packet('return').verdict).toBe('allow');
  });

  it('forgets an idle 12m tcp flow once a new entry turns the wheel past its slot (15m: 4 ticks of 3m, plus one)', () => {
    const { clock, conntrack, query } = setup();
    const flow = conntrack.track(query);
    clock.advance(15 * MINUTE);
    conntrack.track({ ...query, sourcePort: 51001 });
    const late = flow.packet('return');
    expect(late.verdict).toBe('drop');
    // monitoring-mcp's outbound rules pass it (and re-add its entry); the worker's empty inbound table denies it.
    expect(late.sender).toMatchObject({ node: 'monitoring-mcp', direction: 'outbound', allowed: true });
    expect(late.denied).toMatchObject({ node: 'claude-worker', direction: 'inbound', allowed: false, reason: 'claude-worker has no inbound rules (default deny)' });
  });

  it('can forget a flow 12m01s after it was filed, when the wheel\'s tick was nearly over at filing', () => {
    const { clock, conntrack, query } = setup();
    conntrack.track({ ...query, sourcePort: 50999 }); // the worker's wheel starts ticking at 0
    clock.advance(2 * MINUTE + 59_000);
    const flow = conntrack.track(query); // filed in the same slot as a flow of 0
    clock.advance(12 * MINUTE + 1_000);
    const other = conntrack.track({ ...query, sourcePort: 51001 }); // turns the wheel past that slot
    // Each checked packet evicts one entry, oldest first: this one takes the flow of 0 off both nodes.
    expect(other.packet('forward').verdict).toBe('allow');
    expect(flow.packet('return').verdict).toBe('drop');
  });

  it('still holds the flow when the wheel turned short of its slot (14m59s)', () => {
    const { clock, conntrack, query } = setup();
    const flow = conntrack.track(query);
    clock.advance(15 * MINUTE - 1_000);
    conntrack.track({ ...query, sourcePort: 51001 });
    expect(flow.packet('return').verdict).toBe('allow');
  });

  it('puts a refreshed entry back on the wheel for the time it has left, so a flow that keeps talking stays', () => {
    const { clock, conntrack, query } = setup();
    const flow = conntrack.track(query);
    clock.advance(10 * MINUTE);
    expect(flow.packet('return').verdict).toBe('allow'); // expiry now 22m
    clock.advance(5 * MINUTE);
    conntrack.track({ ...query, sourcePort: 51001 }); // the wheel reaches the flow's slot at 15m
    expect(flow.packet('return')).toEqual({ verdict: 'allow', sender: 'conntrack', receiver: 'conntrack' });
  });

  it('re-admits an expired flow when the initiator sends again, which lets the held return traffic through', () => {
    const { clock, conntrack, query } = setup();
    const flow = conntrack.track(query);
    clock.advance(15 * MINUTE);
    conntrack.track({ ...query, sourcePort: 51001 });
    expect(flow.packet('return').verdict).toBe('drop');
    let reopened = 0;
    flow.onceReopened(() => reopened++);
    const forward = flow.packet('forward');
    expect(forward.verdict).toBe('allow');
    expect(forward.sender).toMatchObject({ node: 'claude-worker', direction: 'outbound', allowed: true, rule: 'port 8000/tcp group monitoring-mcp' });
    expect(reopened).toBe(1);
    expect(flow.packet('return')).toEqual({ verdict: 'allow', sender: 'conntrack', receiver: 'conntrack' });
  });

  it('expires each node\'s entry with that node\'s own firewall.conntrack timeouts (worker tcp 30s: gone at 60s)', () => {
    const { clock, conntrack, query } = setup({ worker: { conntrack: { tcp_timeout: '30s' } } });
    const flow = conntrack.track(query);
    clock.advance(60_000);
    conntrack.track({ ...query, sourcePort: 51001 });
    const late = flow.packet('return');
    // monitoring-mcp (12m) still holds it; the worker (30s) does not.
    expect(late.sender).toBe('conntrack');
    expect(late.denied).toMatchObject({ node: 'claude-worker', direction: 'inbound' });
  });

  it.each([
    [6 * MINUTE - 1_000, 'allow'],
    [6 * MINUTE, 'drop'],
  ])('uses udp_timeout (3m) for udp flows: after %d ms and a new entry, %s', (ms, verdict) => {
    const { clock, conntrack, query } = setup({
      worker: { outbound: [{ port: 8000, proto: 'udp', group: 'monitoring-mcp' }] },
      mcp: { inbound: [{ port: 8000, proto: 'udp', group: 'dev' }] },
    });
    const udp = { ...query, proto: 'udp' as const };
    const flow = conntrack.track(udp);
    clock.advance(ms);
    conntrack.track({ ...udp, sourcePort: 51001 });
    expect(flow.packet('return').verdict).toBe(verdict);
  });

  it('answers an expired flow\'s denied packet with the denying table\'s action (1.11: inbound_action)', () => {
    const { clock, conntrack, query } = setup({ worker: { inbound_action: 'reject' } });
    const flow = conntrack.track(query);
    clock.advance(15 * MINUTE);
    conntrack.track({ ...query, sourcePort: 51001 });
    expect(flow.packet('return').verdict).toBe('reject');
  });

  it('keeps the return traffic when the initiator has an inbound rule for it', () => {
    const { clock, conntrack, query } = setup({ worker: { inbound: [{ port: 'any', proto: 'tcp', group: 'monitoring-mcp' }] } });
    const flow = conntrack.track(query);
    clock.advance(60 * MINUTE);
    conntrack.track({ ...query, sourcePort: 51001 });
    expect(flow.packet('return')).toMatchObject({ verdict: 'allow', receiver: { node: 'claude-worker', allowed: true } });
  });
});
