import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../common/index.ts';
import { Conntrack } from './conntrack.ts';
import { evaluateFlow } from './evaluate.ts';
import type { FlowQuery } from './evaluate.ts';
import { parseFirewall } from './firewall.ts';
import type { NodeIdentity } from './identity.ts';

const worker: NodeIdentity = {
  name: 'claude-worker',
  ip: '10.10.0.5',
  groups: ['monitoring-ai-slackbot-temporal-claude-worker', 'vault:monitoring-ai-slackbot', 'dev', 'us-east-1', 'az-b'],
  caName: 'dev-ca',
  caSha: 'sha-dev',
};
const mcp: NodeIdentity = {
  name: 'monitoring-mcp',
  ip: '10.10.0.7',
  groups: ['monitoring-mcp', 'vault:monitoring-mcp-dev', 'dev', 'us-east-1'],
  caName: 'dev-ca',
  caSha: 'sha-dev',
};
const openAll = { outbound: [{ port: 'any', proto: 'any', host: 'any' }], inbound: [{ port: 'any', proto: 'any', host: 'any' }] };

function query(options: { from?: unknown; to?: unknown; port?: number; proto?: FlowQuery['proto'] }): FlowQuery {
  return {
    from: { identity: worker, firewall: parseFirewall(options.from ?? openAll) },
    to: { identity: mcp, firewall: parseFirewall(options.to ?? openAll) },
    port: options.port ?? 8000,
    proto: options.proto ?? 'tcp',
  };
}

/** Only worker's outbound rule varies; mcp lets everything in. */
const outbound = (rule: object, port = 8000, proto: FlowQuery['proto'] = 'tcp') =>
  evaluateFlow(query({ from: { outbound: [rule] }, port, proto }));

describe('evaluateFlow', () => {
  it('drops worker -> monitoring-mcp:8000/tcp with the seed\'s original outbound rule, and says why', () => {
    const result = outbound({ port: '8000', proto: 'tcp', groups: ['dev', 'monitoring-ai-mcp'] });
    expect(result.verdict).toBe('drop');
    expect(result.outbound).toMatchObject({ node: 'claude-worker', direction: 'outbound', allowed: false });
    expect(result.outbound.reason).toBe(
      'outbound rule port 8000/tcp groups [dev, monitoring-ai-mcp] needs monitoring-ai-mcp; monitoring-mcp has [monitoring-mcp, vault:monitoring-mcp-dev, dev, us-east-1]',
    );
    expect(result.inbound.allowed).toBe(true);
  });

  it('allows it once PR #26 adds the monitoring-mcp rule, naming that rule', () => {
    const result = evaluateFlow(
      query({
        from: {
          outbound: [
            { port: '8000', proto: 'tcp', groups: ['dev', 'monitoring-ai-mcp'] },
            { port: 8000, proto: 'tcp', groups: ['dev', 'monitoring-mcp'] },
          ],
        },
      }),
    );
    expect(result.verdict).toBe('allow');
    expect(result.outbound).toMatchObject({ allowed: true, rule: 'port 8000/tcp groups [dev, monitoring-mcp]', ruleIndex: 1 });
    expect(result.outbound.misses).toEqual([
      { rule: 'port 8000/tcp groups [dev, monitoring-ai-mcp]', index: 0, why: expect.stringContaining('needs monitoring-ai-mcp') },
    ]);
  });

  it.each([
    // [name, rule, port, proto, allowed]
    ['port any', { port: 'any', proto: 'tcp', host: 'any' }, 8000, 'tcp', true],
    ['port 0 as any', { port: 0, proto: 'tcp', host: 'any' }, 8000, 'tcp', true],
    ['the exact port', { port: 8000, proto: 'tcp', host: 'any' }, 8000, 'tcp', true],
    ['another port', { port: 9090, proto: 'tcp', host: 'any' }, 8000, 'tcp', false],
    ['a range holding the port', { port: '200-901', proto: 'tcp', host: 'any' }, 901, 'tcp', true],
    ['a range missing the port', { port: '200-901', proto: 'tcp', host: 'any' }, 902, 'tcp', false],
    ['fragment (a connection is no fragment)', { port: 'fragment', proto: 'tcp', host: 'any' }, 8000, 'tcp', false],
    ['proto any', { port: 8000, proto: 'any', host: 'any' }, 8000, 'udp', true],
    ['proto udp for tcp', { port: 8000, proto: 'udp', host: 'any' }, 8000, 'tcp', false],
    ['proto icmp with port any', { port: 'any', proto: 'icmp', host: 'any' }, 0, 'icmp', true],
    ['proto icmp with a port (icmp has none)', { port: 8, proto: 'icmp', host: 'any' }, 8, 'icmp', false],
    ['host by name', { port: 8000, proto: 'tcp', host: 'monitoring-mcp' }, 8000, 'tcp', true],
    ['another host', { port: 8000, proto: 'tcp', host: 'grafana' }, 8000, 'tcp', false],
    ['group held', { port: 8000, proto: 'tcp', group: 'monitoring-mcp' }, 8000, 'tcp', true],
    ['group not held', { port: 8000, proto: 'tcp', group: 'monitoring-ai-mcp' }, 8000, 'tcp', false],
    ['group any', { port: 8000, proto: 'tcp', group: 'any' }, 8000, 'tcp', true],
    ['groups all held', { port: 8000, proto: 'tcp', groups: ['dev', 'us-east-1'] }, 8000, 'tcp', true],
    ['groups one missing', { port: 8000, proto: 'tcp', groups: ['dev', 'az-b'] }, 8000, 'tcp', false],
    ['groups with any', { port: 8000, proto: 'tcp', groups: ['nope', 'any'] }, 8000, 'tcp', true],
    ['cidr holding the peer', { port: 8000, proto: 'tcp', cidr: '10.10.0.0/24' }, 8000, 'tcp', true],
    ['cidr missing the peer', { port: 8000, proto: 'tcp', cidr: '10.20.0.0/16' }, 8000, 'tcp', false],
    ['cidr 0.0.0.0/0', { port: 8000, proto: 'tcp', cidr: '0.0.0.0/0' }, 8000, 'tcp', true],
    ['host OR groups: host matches', { port: 8000, proto: 'tcp', host: 'monitoring-mcp', groups: ['nope'] }, 8000, 'tcp', true],
    ['host OR cidr: neither', { port: 8000, proto: 'tcp', host: 'nope', cidr: '10.20.0.0/16' }, 8000, 'tcp', false],
    ['host any short-circuits groups', { port: 8000, proto: 'tcp', host: 'any', groups: ['nope'] }, 8000, 'tcp', true],
    ['local_cidr holding the local IP', { port: 8000, proto: 'tcp', local_cidr: '10.10.0.5/32' }, 8000, 'tcp', true],
    ['local_cidr missing the local IP', { port: 8000, proto: 'tcp', local_cidr: '10.10.0.7/32' }, 8000, 'tcp', false],
    ['local_cidr ANDed with a matching group', { port: 8000, proto: 'tcp', group: 'dev', local_cidr: '10.99.0.0/16' }, 8000, 'tcp', false],
    ['ca_name of the peer', { port: 8000, proto: 'tcp', ca_name: 'dev-ca' }, 8000, 'tcp', true],
    ['another ca_name', { port: 8000, proto: 'tcp', ca_name: 'prod-ca' }, 8000, 'tcp', false],
    ['ca_sha of the peer', { port: 8000, proto: 'tcp', ca_sha: 'sha-dev' }, 8000, 'tcp', true],
    ['another ca_sha', { port: 8000, proto: 'tcp', ca_sha: 'sha-prod' }, 8000, 'tcp', false],
    ['ca_name OR ca_sha', { port: 8000, proto: 'tcp', ca_name: 'prod-ca', ca_sha: 'sha-dev' }, 8000, 'tcp', true],
    ['ca_name ANDed with host', { port: 8000, proto: 'tcp', ca_name: 'dev-ca', host: 'grafana' }, 8000, 'tcp', false],
  ] as const)('outbound %s -> allowed %s', (_name, rule, port, proto, allowed) => {
    const result = outbound(rule, port, proto);
    expect(result.outbound.allowed).toBe(allowed);
    expect(result.verdict).toBe(allowed ? 'allow' : 'drop');
    if (!allowed) expect(result.outbound.misses[0]?.why).toBeTruthy();
  });

  it.each([
    ['groups of the source', { port: 8000, proto: 'tcp', groups: ['dev', 'az-b'] }, true],
    ['a group only the destination has', { port: 8000, proto: 'tcp', group: 'monitoring-mcp' }, false],
    ['host of the source', { port: 8000, proto: 'tcp', host: 'claude-worker' }, true],
    ['cidr of the source', { port: 8000, proto: 'tcp', cidr: '10.10.0.5/32' }, true],
    ['local_cidr of the destination', { port: 8000, proto: 'tcp', host: 'any', local_cidr: '10.10.0.7/32' }, true],
    ['local_cidr of the source', { port: 8000, proto: 'tcp', host: 'any', local_cidr: '10.10.0.5/32' }, false],
  ] as const)('matches inbound rules against the source: %s -> %s', (_name, rule, allowed) => {
    const result = evaluateFlow(query({ to: { inbound: [rule] } }));
    expect(result.inbound).toMatchObject({ node: 'monitoring-mcp', direction: 'inbound', allowed });
  });

  it('denies by default when a table is empty, saying so', () => {
    const result = evaluateFlow(query({ to: { outbound: [] } }));
    expect(result.verdict).toBe('drop');
    expect(result.inbound.reason).toBe('monitoring-mcp has no inbound rules (default deny)');
  });

  it.each([
    ['outbound denies', 'reject', 'drop', { outbound: [] }, openAll, 'reject'],
    ['inbound denies', 'drop', 'reject', openAll, { inbound: [] }, 'reject'],
    ['both deny: outbound wins', 'drop', 'reject', { outbound: [] }, { inbound: [] }, 'drop'],
    ['both deny, outbound rejects', 'reject', 'drop', { outbound: [] }, { inbound: [] }, 'reject'],
  ] as const)('uses the denying table\'s action when %s', (_name, outAction, inAction, from, to, verdict) => {
    const result = evaluateFlow(
      query({ from: { ...from, outbound_action: outAction }, to: { ...to, inbound_action: inAction } }),
    );
    expect(result.verdict).toBe(verdict);
  });

  it('lists every rule that missed when none matched', () => {
    const result = outbound({ port: 9090, proto: 'tcp', host: 'any' });
    expect(result.outbound.reason).toBe('outbound rule port 9090/tcp host any is for port 9090, flow is to 8000');
    const two = evaluateFlow(
      query({ from: { outbound: [{ port: 8000, proto: 'udp', host: 'any' }, { port: 8000, proto: 'tcp', host: 'grafana' }] } }),
    );
    expect(two.outbound.misses.map((m) => m.why)).toEqual(['is for udp, flow is tcp', 'is for host grafana, not monitoring-mcp']);
    expect(two.outbound.reason).toContain(' | ');
  });
});

describe('Conntrack', () => {
  const seedBefore = { outbound: [{ port: 8000, proto: 'tcp', groups: ['dev', 'monitoring-mcp'] }] };
  // monitoring-mcp may not open anything to the worker by itself.
  const mcpInboundOnly = { inbound: [{ port: 8000, proto: 'tcp', host: 'any' }] };

  function flows() {
    const w = { identity: worker, firewall: parseFirewall(seedBefore) };
    const m = { identity: mcp, firewall: parseFirewall(mcpInboundOnly) };
    const forward: FlowQuery = { from: w, to: m, port: 8000, sourcePort: 51000, proto: 'tcp' };
    const reply: FlowQuery = { from: m, to: w, port: 51000, sourcePort: 8000, proto: 'tcp' };
    return { forward, reply };
  }

  it('allows the return traffic of an allowed flow that the rules alone would drop', () => {
    const { forward, reply } = flows();
    expect(evaluateFlow(reply).verdict).toBe('drop');
    const conntrack = new Conntrack({ clock: new ManualClock() });
    expect(conntrack.evaluate(forward).verdict).toBe('allow');
    const back = conntrack.evaluate(reply);
    expect(back.verdict).toBe('allow');
    expect(back.outbound.reason).toBe('conntrack: packet of established flow claude-worker:51000 -> monitoring-mcp:8000/tcp');
  });

  it('forgets a flow after the tcp timeout and does not track denied flows', () => {
    const { forward, reply } = flows();
    const clock = new ManualClock();
    const conntrack = new Conntrack({ clock });
    conntrack.evaluate(forward);
    clock.advance(12 * 60_000);
    expect(conntrack.evaluate(reply).verdict).toBe('drop');
    expect(conntrack.size).toBe(0);
  });
});
