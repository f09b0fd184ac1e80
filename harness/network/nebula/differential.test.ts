import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { evaluateFlow, parseFirewall } from '../index.ts';
import type { FlowVerdict } from '../index.ts';
import { realNebulaUnavailableReason, startRealNebula } from './index.ts';
import type { RealFlowResult, RealNodeSpec, RealProto, StartedRealNebula } from './index.ts';

/*
 * The differential test: every case below goes through the shim (parseFirewall + evaluateFlow)
 * and through real Nebula (two nebula processes in two network namespaces, a real TCP connect or
 * UDP echo between them), and the two must agree. Each case also states what Nebula does, so a
 * case cannot silently stop testing what its name says.
 *
 * The lab runs Debian's Nebula 1.6.1, so the shim is set to its version (`nebula: '1.6'`): 1.6
 * has no reject action and no local_cidr (both ignored), and any cidr containing 0.0.0.0 is the
 * any-peer wildcard. The 1.6-only cases below fail if the shim judges with a newer version.
 */
const SHIM_NEBULA = '1.6';

const unavailable = realNebulaUnavailableReason();
if (unavailable !== undefined) {
  if (process.env['MTH_REQUIRE_NEBULA'] === '1') {
    throw new Error(`MTH_REQUIRE_NEBULA=1 but real Nebula cannot run here: ${unavailable}`);
  }
  console.warn(`[nebula differential] skipped: ${unavailable}`);
}

type CaShas = Readonly<Record<string, string>>;
/** A firewall section, or a function of the lab's CA fingerprints (for `ca_sha` rules). */
type FirewallSpec = unknown | ((shas: CaShas) => unknown);

interface Side {
  name: string;
  groups: string[];
  caName: string;
  ip?: string;
  firewall: FirewallSpec;
}

interface DifferentialCase {
  name: string;
  from: Side;
  to: Side;
  port: number;
  proto: RealProto;
  /** What Nebula does with this flow (from its firewall.go), checked against the real run. */
  nebula: 'allow' | 'drop';
}

const CA_DEV = 'ca-dev';
const CA_PROD = 'ca-prod';

const WORKER_GROUPS = ['monitoring-ai-slackbot-temporal-claude-worker', 'vault:monitoring-ai-slackbot-dev', 'dev', 'us-east-1', 'az-b'];
const MCP_GROUPS = ['monitoring-mcp', 'vault:monitoring-mcp-dev', 'dev', 'us-east-1'];
const AI_MCP_GROUPS = ['monitoring-ai-mcp', 'vault:monitoring-ai-mcp-dev', 'dev', 'us-east-1'];

const anyRule = { port: 'any', proto: 'any', host: 'any' };

/** The worker with only outbound rules: replies come back through conntrack, not inbound rules. */
const worker = (outbound: unknown[], extra: Partial<Side> = {}): Side => ({
  name: 'claude-worker',
  groups: WORKER_GROUPS,
  caName: CA_DEV,
  firewall: { outbound, inbound: [] },
  ...extra,
});
const openWorker = (extra: Partial<Side> = {}): Side => worker([anyRule], extra);

/** monitoring-mcp with only inbound rules. */
const monitoringMcp = (inbound: FirewallSpec, extra: Partial<Side> = {}): Side => ({
  name: 'monitoring-mcp',
  groups: MCP_GROUPS,
  caName: CA_DEV,
  firewall: typeof inbound === 'function' ? (shas: CaShas) => ({ outbound: [], inbound: inbound(shas) }) : { outbound: [], inbound },
  ...extra,
});
const openMcp = monitoringMcp([anyRule]);

const monitoringAiMcp: Side = {
  name: 'monitoring-ai-mcp',
  groups: AI_MCP_GROUPS,
  caName: CA_DEV,
  firewall: { outbound: [], inbound: [anyRule] },
};

/** worker -> monitoring-mcp:8000 where only the worker's outbound rules vary. */
const out = (name: string, rules: unknown[], nebula: 'allow' | 'drop', proto: RealProto = 'tcp'): DifferentialCase => ({
  name,
  from: worker(rules),
  to: openMcp,
  port: 8000,
  proto,
  nebula,
});

/** worker -> monitoring-mcp:8000/tcp where only monitoring-mcp's inbound rules vary. */
const inb = (name: string, rules: FirewallSpec, nebula: 'allow' | 'drop', from: Side = openWorker()): DifferentialCase => ({
  name,
  from,
  to: monitoringMcp(rules),
  port: 8000,
  proto: 'tcp',
  nebula,
});

// Cases sharing certificates are kept together: the lab then only reloads firewalls (SIGHUP).
const cases: DifferentialCase[] = [
  {
    name: 'seed: worker outbound {8000/tcp, groups [dev, monitoring-ai-mcp]} does not reach monitoring-mcp',
    from: worker([{ port: '8000', proto: 'tcp', groups: ['dev', 'monitoring-ai-mcp'] }]),
    to: monitoringMcp([{ port: 8000, proto: 'tcp', group: 'dev' }]),
    port: 8000,
    proto: 'tcp',
    nebula: 'drop',
  },
  {
    name: 'PR #26: worker outbound {8000/tcp, groups [dev, monitoring-mcp]} reaches monitoring-mcp',
    from: worker([
      { port: '8000', proto: 'tcp', groups: ['dev', 'monitoring-ai-mcp'] },
      { port: 8000, proto: 'tcp', groups: ['dev', 'monitoring-mcp'] },
    ]),
    to: monitoringMcp([{ port: 8000, proto: 'tcp', group: 'dev' }]),
    port: 8000,
    proto: 'tcp',
    nebula: 'allow',
  },
  out('groups is all-of: one group the peer lacks drops', [{ port: 8000, proto: 'tcp', groups: ['dev', 'us-west-2'] }], 'drop'),
  out('groups is all-of: every group present allows', [{ port: 8000, proto: 'tcp', groups: ['monitoring-mcp', 'us-east-1', 'dev'] }], 'allow'),
  out(
    'rules are any-of: a later rule matching allows',
    [
      { port: 8000, proto: 'tcp', groups: ['monitoring-ai-mcp'] },
      { port: 8000, proto: 'tcp', groups: ['monitoring-mcp', 'us-east-1'] },
    ],
    'allow',
  ),
  out('group (single) the peer has allows', [{ port: 8000, proto: 'tcp', group: 'dev' }], 'allow'),
  out('group (single) the peer lacks drops', [{ port: 8000, proto: 'tcp', group: 'prod' }], 'drop'),
  out('group as a one-element list is read as that group', [{ port: 8000, proto: 'tcp', group: ['monitoring-mcp'] }], 'allow'),
  out('groups as a plain string is one group', [{ port: 8000, proto: 'tcp', groups: 'monitoring-mcp' }], 'allow'),
  out('group any matches every peer', [{ port: 8000, proto: 'tcp', group: 'any' }], 'allow'),
  out('host naming the peer allows', [{ port: 8000, proto: 'tcp', host: 'monitoring-mcp' }], 'allow'),
  out('host naming another node drops', [{ port: 8000, proto: 'tcp', host: 'monitoring-ai-mcp' }], 'drop'),
  out('cidr containing the peer allows', [{ port: 8000, proto: 'tcp', cidr: '10.42.0.2/32' }], 'allow'),
  out('cidr not containing the peer drops', [{ port: 8000, proto: 'tcp', cidr: '10.42.0.128/25' }], 'drop'),
  out('cidr 0.0.0.0/0 matches every peer', [{ port: 8000, proto: 'tcp', cidr: '0.0.0.0/0' }], 'allow'),
  out('host OR group in one rule: the group matching is enough', [{ port: 8000, proto: 'tcp', host: 'nobody', group: 'dev' }], 'allow'),
  out('port range containing the port allows', [{ port: '7000-8080', proto: 'tcp', group: 'dev' }], 'allow'),
  out('port range not containing the port drops', [{ port: '8001-9000', proto: 'tcp', group: 'dev' }], 'drop'),
  out('port range starting at 0 means any port', [{ port: '0-100', proto: 'tcp', group: 'dev' }], 'allow'),
  out('port any allows every port', [{ port: 'any', proto: 'tcp', group: 'dev' }], 'allow'),
  out('port 0 means any port', [{ port: 0, proto: 'tcp', group: 'dev' }], 'allow'),
  out('another single port drops', [{ port: 8001, proto: 'tcp', group: 'dev' }], 'drop'),
  out('a udp rule does not cover tcp', [{ port: 8000, proto: 'udp', group: 'dev' }], 'drop'),
  out('proto any covers tcp', [{ port: 8000, proto: 'any', group: 'dev' }], 'allow'),
  out('an icmp-only rule does not cover tcp', [{ port: 'any', proto: 'icmp', host: 'any' }], 'drop'),
  out('a fragment rule does not cover a first packet', [{ port: 'fragment', proto: 'tcp', host: 'any' }], 'drop'),
  out('no outbound rules at all drops (default deny)', [], 'drop'),
  out('udp: a udp rule allows a udp flow', [{ port: 8000, proto: 'udp', group: 'dev' }], 'allow', 'udp'),
  out('udp: a tcp rule does not cover udp', [{ port: 8000, proto: 'tcp', group: 'dev' }], 'drop', 'udp'),
  out('udp: proto any covers udp', [{ port: '7999-8001', proto: 'any', host: 'monitoring-mcp' }], 'allow', 'udp'),
  inb('inbound: a group the source lacks drops', [{ port: 8000, proto: 'tcp', group: 'monitoring-ai-mcp' }], 'drop'),
  inb('inbound: all groups present allows', [{ port: 8000, proto: 'tcp', groups: ['dev', 'us-east-1'] }], 'allow'),
  inb('inbound: host naming the source allows', [{ port: 8000, proto: 'tcp', host: 'claude-worker' }], 'allow'),
  inb('inbound: cidr of the source allows', [{ port: 8000, proto: 'tcp', cidr: '10.42.0.1/32' }], 'allow'),
  inb('inbound: a group with a colon matches verbatim', [{ port: 8000, proto: 'tcp', group: 'vault:monitoring-ai-slackbot-dev' }], 'allow'),
  inb('inbound: a rule for another port drops', [{ port: 9000, proto: 'tcp', host: 'any' }], 'drop'),
  inb('inbound: no inbound rules drops even when outbound allows', [], 'drop'),
  inb('ca_name of the issuing CA allows', [{ port: 'any', proto: 'tcp', ca_name: CA_DEV }], 'allow'),
  inb('ca_name of another CA drops', [{ port: 'any', proto: 'tcp', ca_name: CA_PROD }], 'drop'),
  inb('ca_name AND group: both must hold', [{ port: 8000, proto: 'tcp', ca_name: CA_DEV, group: 'prod' }], 'drop'),
  inb('ca_sha of the issuing CA allows', (shas: CaShas) => [{ port: 8000, proto: 'tcp', ca_sha: shas[CA_DEV] }], 'allow'),
  inb('ca_sha of another CA drops', (shas: CaShas) => [{ port: 8000, proto: 'tcp', ca_sha: shas[CA_PROD] }], 'drop'),
  inb(
    'ca_name OR ca_sha: the sha matching is enough',
    (shas: CaShas) => [{ port: 8000, proto: 'tcp', ca_name: CA_PROD, ca_sha: shas[CA_DEV], group: 'dev' }],
    'allow',
  ),
  {
    name: 'seed: the original worker rule does reach monitoring-ai-mcp (grafana, alertmanager)',
    from: worker([{ port: '8000', proto: 'tcp', groups: ['dev', 'monitoring-ai-mcp'] }]),
    to: monitoringAiMcp,
    port: 8000,
    proto: 'tcp',
    nebula: 'allow',
  },
  {
    name: 'PR #26 rule alone does not reach monitoring-ai-mcp',
    from: worker([{ port: 8000, proto: 'tcp', groups: ['dev', 'monitoring-mcp'] }]),
    to: monitoringAiMcp,
    port: 8000,
    proto: 'tcp',
    nebula: 'drop',
  },
  inb('a source signed by another CA passes a ca_name rule for that CA', [{ port: 8000, proto: 'tcp', ca_name: CA_PROD }], 'allow', openWorker({ caName: CA_PROD })),
  inb('a source signed by another CA fails a ca_name rule for ours', [{ port: 8000, proto: 'tcp', ca_name: CA_DEV }], 'drop', openWorker({ caName: CA_PROD })),
  inb('inbound cidr containing a moved source allows', [{ port: 8000, proto: 'tcp', cidr: '10.42.0.64/26' }], 'allow', openWorker({ ip: '10.42.0.77' })),
  // What 1.6 does differently from the versions after it (see versions.ts).
  out('1.6: a cidr containing 0.0.0.0 (0.0.0.0/8) is the any-peer wildcard', [{ port: 8000, proto: 'tcp', cidr: '0.0.0.0/8' }], 'allow'),
  out('1.6: local_cidr is not read, so a local_cidr missing the node does not deny', [{ port: 8000, proto: 'tcp', group: 'dev', local_cidr: '10.99.0.0/16' }], 'allow'),
  {
    name: '1.6: outbound_action reject is not read; a denied flow is dropped',
    from: { ...worker([]), firewall: { outbound: [], inbound: [], outbound_action: 'reject', inbound_action: 'reject' } },
    to: openMcp,
    port: 8000,
    proto: 'tcp',
    nebula: 'drop',
  },
  inb('inbound cidr not containing a moved source drops', [{ port: 8000, proto: 'tcp', cidr: '10.42.0.0/26' }], 'drop', openWorker({ ip: '10.42.0.77' })),
];

function resolveFirewall(spec: FirewallSpec, shas: CaShas): unknown {
  return typeof spec === 'function' ? (spec as (s: CaShas) => unknown)(shas) : spec;
}

function toRealSpec(side: Side, shas: CaShas): RealNodeSpec {
  const spec: RealNodeSpec = { name: side.name, groups: side.groups, caName: side.caName, firewall: resolveFirewall(side.firewall, shas) };
  if (side.ip !== undefined) spec.ip = side.ip;
  return spec;
}

/** Every way the shim and real Nebula disagree on one case; empty when they agree. */
function disagreements(real: RealFlowResult, shim: FlowVerdict, nebula: 'allow' | 'drop'): string[] {
  const problems: string[] = [];
  const shimVerdict = shim.verdict === 'allow' ? 'allow' : 'drop';
  if (shimVerdict !== real.verdict) problems.push(`verdict: shim ${shim.verdict}, real nebula ${real.verdict}`);
  if (real.verdict !== nebula) problems.push(`real nebula gave ${real.verdict}, the case says nebula does ${nebula}`);
  if (real.droppedBy === 'outbound' && shim.outbound.allowed) {
    problems.push('real nebula dropped on the source\'s outbound table; the shim lets it out');
  }
  if (real.droppedBy === 'inbound' && (!shim.outbound.allowed || shim.inbound.allowed)) {
    problems.push('real nebula dropped on the destination\'s inbound table; the shim disagrees on where');
  }
  return problems;
}

function report(c: DifferentialCase, real: RealFlowResult, shim: FlowVerdict, fromFw: unknown, toFw: unknown, problems: string[]): string {
  return [
    `case: ${c.name}`,
    ...problems.map((p) => `  - ${p}`),
    `real nebula: ${real.verdict}${real.droppedBy ? ` (dropped by ${real.droppedBy}: ${real.reason})` : ''}`,
    `shim: ${shim.verdict}; outbound: ${shim.outbound.reason}; inbound: ${shim.inbound.reason}`,
    `flow: ${real.from.name} ${JSON.stringify(real.from)} -> ${real.to.name}:${c.port}/${c.proto} ${JSON.stringify(real.to)}`,
    `from firewall:\n${stringify(fromFw)}`,
    `to firewall:\n${stringify(toFw)}`,
  ].join('\n');
}

function nebulaVersion(): string {
  try {
    return execFileSync('nebula', ['-version'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

describe.skipIf(unavailable !== undefined)('real nebula vs the shim (differential)', () => {
  let lab: StartedRealNebula | undefined;
  const shas: Record<string, string> = {};

  beforeAll(async () => {
    lab = await startRealNebula();
    for (const name of [CA_DEV, CA_PROD]) shas[name] = (await lab.ca(name)).sha;
  });

  afterAll(async () => {
    await lab?.close();
  });

  it('runs the Nebula line the shim is set to', () => {
    expect(nebulaVersion()).toMatch(new RegExp(`^Version: ${SHIM_NEBULA.replace('.', '\\.')}\\.`));
  });

  it('has the rule-by-group table the brief asks for', () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
    expect(new Set(cases.map((c) => c.nebula))).toEqual(new Set(['allow', 'drop']));
  });

  it.each(cases)('agrees: $name', async (c) => {
    if (!lab) throw new Error('lab did not start');
    const from = toRealSpec(c.from, shas);
    const to = toRealSpec(c.to, shas);
    const real = await lab.run({ from, to, port: c.port, proto: c.proto });
    // The shim sees exactly the identities that real Nebula's certificates carry.
    const shim = evaluateFlow({
      from: { identity: real.from, firewall: parseFirewall(from.firewall, { source: `${c.name} (from)`, nebula: SHIM_NEBULA }) },
      to: { identity: real.to, firewall: parseFirewall(to.firewall, { source: `${c.name} (to)`, nebula: SHIM_NEBULA }) },
      port: c.port,
      proto: c.proto,
    });
    const problems = disagreements(real, shim, c.nebula);
    expect(problems, `${nebulaVersion()}\n${report(c, real, shim, from.firewall, to.firewall, problems)}`).toEqual([]);
  });
});

describe.skipIf(unavailable !== undefined)('startRealNebula', () => {
  it('refuses a case outside the overlay network with ERR_NEBULA_CASE_INVALID', async () => {
    await using lab = await startRealNebula();
    const side = { name: 'x', groups: [], firewall: { outbound: [anyRule], inbound: [anyRule] } };
    await expect(lab.run({ from: { ...side, ip: '192.168.1.1' }, to: side, port: 8000, proto: 'tcp' })).rejects.toMatchObject({
      code: 'ERR_NEBULA_CASE_INVALID',
    });
    await expect(lab.run({ from: side, to: side, port: 0, proto: 'tcp' })).rejects.toMatchObject({ code: 'ERR_NEBULA_CASE_INVALID' });
  });

  it('leaves no namespace or process behind once closed, and refuses use after that', async () => {
    const lab = await startRealNebula();
    const { from, to } = lab.namespaces;
    const side = { name: 'x', groups: ['g'], firewall: { outbound: [anyRule], inbound: [anyRule] } };
    const result = await lab.run({ from: side, to: { ...side, name: 'y' }, port: 8000, proto: 'tcp' });
    expect(result.verdict).toBe('allow');
    const pids = execFileSync('ip', ['netns', 'pids', from], { encoding: 'utf8' }).trim().split(/\s+/).map(Number);
    expect(pids.length).toBeGreaterThanOrEqual(2); // nebula and the socket agent

    await lab.close();

    const namespaces = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    expect(namespaces).not.toContain(from);
    expect(namespaces).not.toContain(to);
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
    await expect(lab.run({ from: side, to: side, port: 8000, proto: 'tcp' })).rejects.toMatchObject({ code: 'ERR_NEBULA_CLOSED' });
  });

  it('fails with ERR_NEBULA_START when nebula refuses the firewall section', async () => {
    await using lab = await startRealNebula();
    const bad = { name: 'x', groups: ['g'], firewall: { outbound: [{ port: 'eighty', proto: 'tcp', host: 'any' }], inbound: [] } };
    const good = { name: 'y', groups: ['g'], firewall: { outbound: [], inbound: [anyRule] } };
    await expect(lab.run({ from: bad, to: good, port: 8000, proto: 'tcp' })).rejects.toMatchObject({ code: 'ERR_NEBULA_START' });
    // And the shim refuses the same section.
    expect(() => parseFirewall(bad.firewall)).toThrow(expect.objectContaining({ code: 'ERR_FIREWALL_CONFIG' }));
  });
});
