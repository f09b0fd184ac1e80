import { describe, expect, it } from 'vitest';
import { isHarnessError } from '../../common/index.ts';
import { evaluateFlow } from './evaluate.ts';
import type { FlowQuery } from './evaluate.ts';
import { parseFirewall } from './firewall.ts';
import type { NodeIdentity } from './identity.ts';
import { NEBULA_VERSIONS, NebulaVersionSchema, denyAnsweredBy, nebulaBehaviour } from './versions.ts';
import type { NebulaVersion } from './versions.ts';

const worker: NodeIdentity = { name: 'claude-worker', ip: '10.42.0.1', groups: ['dev'] };
const mcp: NodeIdentity = { name: 'monitoring-mcp', ip: '10.42.0.2', groups: ['dev', 'monitoring-mcp'] };
/** A node routing an unsafe network, as a Nebula certificate's `subnets` says. */
const router: NodeIdentity = { name: 'router', ip: '10.42.0.3', groups: ['dev'], subnets: ['192.168.50.0/24'] };
const openAll = { outbound: [{ port: 'any', proto: 'any', host: 'any' }], inbound: [{ port: 'any', proto: 'any', host: 'any' }] };

function flow(nebula: NebulaVersion, options: { from?: unknown; to?: unknown; toNode?: NodeIdentity; toIp?: string; port?: number; proto?: FlowQuery['proto'] }) {
  const query: FlowQuery = {
    from: { identity: worker, firewall: parseFirewall(options.from ?? openAll, { nebula }) },
    to: { identity: options.toNode ?? mcp, firewall: parseFirewall(options.to ?? openAll, { nebula }) },
    port: options.port ?? 8000,
    proto: options.proto ?? 'tcp',
  };
  if (options.toIp !== undefined) query.toIp = options.toIp;
  return evaluateFlow(query);
}

function parseError(raw: unknown, nebula: NebulaVersion): string {
  try {
    parseFirewall(raw, { nebula });
  } catch (error) {
    if (!isHarnessError(error)) throw error;
    expect(error.code).toBe('ERR_FIREWALL_CONFIG');
    return error.message;
  }
  throw new Error('expected parseFirewall to throw');
}

const outRule = (rule: object) => ({ outbound: [rule] });
type Row = [string, Record<NebulaVersion, string>];

describe('Nebula versions', () => {
  // One row per behaviour that differs between versions; each cell is that version's verdict.
  // 'error': that version's firewall does not load (the stand-in refuses what it does not model).
  it.each<[string, Parameters<typeof flow>[1], Record<NebulaVersion, 'allow' | 'drop' | 'reject' | 'error'>]>([
    [
      'cidr 0.0.0.0/8 (contains 0.0.0.0) as the only selector: the wildcard before 1.9.4',
      { from: outRule({ port: 8000, proto: 'tcp', cidr: '0.0.0.0/8' }) },
      { '1.6': 'allow', '1.9': 'drop', '1.10': 'drop', '1.11': 'drop' },
    ],
    [
      'cidr ::/0: a wildcard of both families in 1.9, only IPv6 from 1.10',
      { from: outRule({ port: 8000, proto: 'tcp', cidr: '::/0' }) },
      { '1.6': 'error', '1.9': 'allow', '1.10': 'drop', '1.11': 'drop' },
    ],
    [
      'cidr 0.0.0.0/0 covers an IPv4 peer in every version',
      { from: outRule({ port: 8000, proto: 'tcp', cidr: '0.0.0.0/0' }) },
      { '1.6': 'allow', '1.9': 'allow', '1.10': 'allow', '1.11': 'allow' },
    ],
    [
      'local_cidr not holding the node: ignored on 1.6, denies from 1.7',
      { from: outRule({ port: 8000, proto: 'tcp', group: 'dev', local_cidr: '10.99.0.0/16' }) },
      { '1.6': 'allow', '1.9': 'drop', '1.10': 'drop', '1.11': 'drop' },
    ],
    [
      'outbound_action: reject on an outbound denial: ignored on 1.6, swapped to inbound_action until 1.11',
      { from: { outbound: [], outbound_action: 'reject' } },
      { '1.6': 'drop', '1.9': 'drop', '1.10': 'drop', '1.11': 'reject' },
    ],
    [
      'inbound_action: reject on an outbound denial: answers it until 1.11 (#1798)',
      { from: { outbound: [], inbound_action: 'reject' } },
      { '1.6': 'drop', '1.9': 'reject', '1.10': 'reject', '1.11': 'drop' },
    ],
    [
      'outbound_action: reject on an inbound denial: answers it until 1.11',
      { to: { inbound: [], outbound_action: 'reject' } },
      { '1.6': 'drop', '1.9': 'reject', '1.10': 'reject', '1.11': 'drop' },
    ],
    [
      'inbound_action: reject on an inbound denial: from 1.11',
      { to: { inbound: [], inbound_action: 'reject' } },
      { '1.6': 'drop', '1.9': 'drop', '1.10': 'drop', '1.11': 'reject' },
    ],
    [
      'an icmp rule with a port: only port any matched icmp before 1.11',
      { from: outRule({ port: 8, proto: 'icmp', host: 'any' }), port: 0, proto: 'icmp' },
      { '1.6': 'drop', '1.9': 'drop', '1.10': 'drop', '1.11': 'allow' },
    ],
    [
      'a rule without local_cidr on a router, to an address of its unsafe network: default_local_cidr_any true in 1.9, false from 1.10',
      { to: { inbound: [{ port: 8000, proto: 'tcp', group: 'dev' }] }, toNode: router, toIp: '192.168.50.7' },
      { '1.6': 'allow', '1.9': 'allow', '1.10': 'drop', '1.11': 'drop' },
    ],
    [
      'the same rule to the router\'s own address passes in every version',
      { to: { inbound: [{ port: 8000, proto: 'tcp', group: 'dev' }] }, toNode: router },
      { '1.6': 'allow', '1.9': 'allow', '1.10': 'allow', '1.11': 'allow' },
    ],
    [
      'default_local_cidr_any: false set on 1.9 keeps the rule to the router\'s own address',
      { to: { default_local_cidr_any: false, inbound: [{ port: 8000, proto: 'tcp', group: 'dev' }] }, toNode: router, toIp: '192.168.50.7' },
      { '1.6': 'allow', '1.9': 'drop', '1.10': 'drop', '1.11': 'drop' },
    ],
    [
      'default_local_cidr_any: true set on 1.11 opens the unsafe network to rules without local_cidr',
      { to: { default_local_cidr_any: true, inbound: [{ port: 8000, proto: 'tcp', group: 'dev' }] }, toNode: router, toIp: '192.168.50.7' },
      { '1.6': 'allow', '1.9': 'allow', '1.10': 'allow', '1.11': 'allow' },
    ],
    [
      'an explicit local_cidr for the unsafe network passes wherever local_cidr exists',
      { to: { inbound: [{ port: 8000, proto: 'tcp', group: 'dev', local_cidr: '192.168.50.0/24' }] }, toNode: router, toIp: '192.168.50.7' },
      { '1.6': 'allow', '1.9': 'allow', '1.10': 'allow', '1.11': 'allow' },
    ],
  ])('%s', (_name, options, verdicts) => {
    for (const version of NEBULA_VERSIONS) {
      let verdict: string;
      try {
        verdict = flow(version, options).verdict;
      } catch (error) {
        if (!isHarnessError(error)) throw error;
        verdict = 'error';
      }
      expect({ version, verdict }).toEqual({ version, verdict: verdicts[version] });
    }
  });

  it.each<Row>([
    [
      'cidr: any',
      { '1.6': 'cidr did not parse; invalid CIDR address: any', '1.9': 'cidr did not parse; netip.ParsePrefix("any"): no \'/\'', '1.10': '', '1.11': '' },
    ],
    [
      'a rule with only local_cidr',
      {
        '1.6': 'at least one of host, group, cidr, ca_name, or ca_sha must be provided',
        '1.9': '',
        '1.10': '',
        '1.11': '',
      },
    ],
    [
      'port 70000',
      { '1.6': '', '1.9': '', '1.10': '', '1.11': 'port out of range [0,65535]; `70000`' },
    ],
    [
      'a bad proto and a bad port',
      {
        '1.6': 'port was not a number; `x`',
        '1.9': 'port was not a number; `x`',
        '1.10': 'port was not a number; `x`',
        '1.11': 'proto was not understood; `sctp`',
      },
    ],
  ])('parses %s as each version does', (name, errors) => {
    const rule = {
      'cidr: any': { port: 80, proto: 'tcp', cidr: 'any' },
      'a rule with only local_cidr': { port: 80, proto: 'tcp', local_cidr: '10.0.0.0/8' },
      'port 70000': { port: 70000, proto: 'tcp', host: 'any' },
      'a bad proto and a bad port': { port: 'x', proto: 'sctp', host: 'any' },
    }[name]!;
    for (const version of NEBULA_VERSIONS) {
      const expected = errors[version];
      if (expected === '') expect(() => parseFirewall(outRule(rule), { nebula: version })).not.toThrow();
      else expect({ version, message: parseError(outRule(rule), version) }).toEqual({ version, message: `firewall.outbound rule #0; ${expected}` });
    }
  });

  it('warns, as the harness, that 1.6 ignores fields it does not know', () => {
    const fw = parseFirewall(
      { outbound_action: 'reject', default_local_cidr_any: false, outbound: [{ port: 80, proto: 'tcp', group: 'dev', local_cidr: '10.0.0.0/8' }] },
      { nebula: '1.6' },
    );
    expect(fw.warnings).toEqual([
      'harness: Nebula 1.6.1 does not read firewall.outbound_action (it arrived in 1.7.0) and ignores it',
      'harness: Nebula 1.6.1 does not read firewall.default_local_cidr_any (it arrived in 1.9.0) and ignores it',
      'harness: firewall.outbound rule #0; Nebula 1.6.1 does not read local_cidr (it arrived in 1.7.0) and ignores it',
    ]);
    expect(fw.outbound[0]?.localCidr).toBeUndefined();
  });

  it('gives 1.10\'s sanity warning for an `any` that makes other selectors pointless, and not on 1.9', () => {
    const raw = outRule({ port: 80, proto: 'tcp', host: 'any', groups: ['dev'] });
    expect(parseFirewall(raw, { nebula: '1.10' }).warnings).toEqual([
      'firewall.outbound rule #0; groups specified as [dev], but host=any will match any host, regardless of groups',
    ]);
    expect(parseFirewall(raw, { nebula: '1.9' }).warnings).toEqual([]);
  });

  it('warns that 1.11 ignores an icmp rule\'s port', () => {
    expect(parseFirewall(outRule({ port: 8, proto: 'icmp', host: 'any' }), { nebula: '1.11' }).warnings).toEqual([
      'firewall.outbound rule #0; ignoring port specification for ICMP firewall rule; port=8',
    ]);
  });

  it('refuses an IPv6 cidr on 1.6 with a clear error instead of guessing its IPv4-only tree', () => {
    expect(parseError(outRule({ port: 80, proto: 'tcp', cidr: 'fd00::/8' }), '1.6')).toMatch(/IPv4-only tree; the stand-in does not model the IPv6 cidr fd00::\/8$/);
  });

  it('names which setting answers each table\'s denial', () => {
    expect(NEBULA_VERSIONS.map((v) => [v, denyAnsweredBy(nebulaBehaviour(v), 'outbound'), denyAnsweredBy(nebulaBehaviour(v), 'inbound')])).toEqual([
      ['1.6', undefined, undefined],
      ['1.9', 'inbound_action', 'outbound_action'],
      ['1.10', 'inbound_action', 'outbound_action'],
      ['1.11', 'outbound_action', 'inbound_action'],
    ]);
  });

  it.each([
    ['1.10', true, '1.10'],
    ['1.7', false, 'unknown Nebula version "1.7"; known versions: 1.6, 1.9, 1.10, 1.11'],
    [1.1, false, 'write the Nebula version as a quoted string (YAML reads 1.1 as a number; 1.10 would be 1.1); known versions: 1.6, 1.9, 1.10, 1.11'],
  ])('reads the version %j', (value, ok, expected) => {
    const result = NebulaVersionSchema.safeParse(value);
    expect(result.success).toBe(ok);
    expect(result.success ? result.data : result.error.issues[0]?.message).toBe(expected);
  });
});
