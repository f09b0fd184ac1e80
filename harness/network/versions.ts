import { z } from 'zod';

/** The Nebula versions the stand-in models, oldest first. Each stands for the last release of its line. */
export const NEBULA_VERSIONS = ['1.6', '1.9', '1.10', '1.11'] as const;
export type NebulaVersion = (typeof NEBULA_VERSIONS)[number];

/** The current Nebula line, what a topology without `nebula:` gets. */
export const CURRENT_NEBULA: NebulaVersion = '1.11';

/**
 * A topology's `nebula:` field. A YAML number is refused with a hint: YAML reads `1.10` as 1.1.
 *
 * @example
 * NebulaVersionSchema.parse('1.10'); // '1.10'
 */
export const NebulaVersionSchema = z.unknown().transform((value, ctx): NebulaVersion => {
  const known = NEBULA_VERSIONS.join(', ');
  if (typeof value === 'string' && (NEBULA_VERSIONS as readonly string[]).includes(value)) return value as NebulaVersion;
  ctx.addIssue({
    code: 'custom',
    message:
      typeof value === 'number'
        ? `write the Nebula version as a quoted string (YAML reads ${value} as a number; 1.10 would be 1.1); known versions: ${known}`
        : `unknown Nebula version ${JSON.stringify(value)}; known versions: ${known}`,
  });
  return z.NEVER;
});

/**
 * What one Nebula version does with a `firewall:` section, as data: parse (firewall.ts) and
 * evaluate (evaluate.ts) read it, so no version check is spread through the code. Each fact is
 * from slackhq/nebula's firewall.go / inside.go at the release in `release` (see the README).
 */
export interface NebulaBehaviour {
  version: NebulaVersion;
  /** The release whose source this row follows. */
  release: string;
  /** The `local_cidr` rule field exists (1.7.0, #507). Before, the field is read by nobody: ignored. */
  localCidr: boolean;
  /** `firewall.inbound_action` / `outbound_action` exist (1.7.0, #738). Before, every denied flow is dropped. */
  rejectAction: boolean;
  /**
   * Which setting answers a flow that the *outbound* table denied. 1.7.0 to 1.10.x: `inbound_action`
   * (and the inbound table's denials are answered by `outbound_action`); fixed in 1.11.0 (#1798).
   */
  outboundDenyAnsweredBy: 'outbound_action' | 'inbound_action';
  /**
   * When a rule's `cidr` makes it match every peer: `contains-0.0.0.0` (any cidr containing
   * 0.0.0.0, up to 1.9.3), `zero-bits` (a /0 of either family, 1.9.4 to 1.9.x), `keyword`
   * (only `cidr: any`; 0.0.0.0/0 is every IPv4 peer and ::/0 every IPv6 one, from 1.10.0).
   */
  anyCidr: 'contains-0.0.0.0' | 'zero-bits' | 'keyword';
  /** `firewall.default_local_cidr_any`'s default; undefined where the setting does not exist (before 1.9.0). */
  defaultLocalCidrAny: boolean | undefined;
  /** How `cidr` / `local_cidr` parse: Go's net.ParseCIDR (into an IPv4-only tree) or netip.ParsePrefix. */
  cidrParser: 'net' | 'netip';
  /** Warnings for an `any` that makes other selectors of the rule pointless (1.10.0, #1513). */
  sanityWarnings: boolean;
  /** ICMP rules ignore `port`/`code`, with a warning (1.11.0, #1609); proto is checked before port. */
  icmpIgnoresPort: boolean;
  /** Ports outside [0, 65535] are refused (1.11.0, #1724). */
  portRangeChecked: boolean;
}

const TABLE: Record<NebulaVersion, NebulaBehaviour> = {
  '1.6': {
    version: '1.6',
    release: '1.6.1',
    localCidr: false,
    rejectAction: false,
    outboundDenyAnsweredBy: 'outbound_action',
    anyCidr: 'contains-0.0.0.0',
    defaultLocalCidrAny: undefined,
    cidrParser: 'net',
    sanityWarnings: false,
    icmpIgnoresPort: false,
    portRangeChecked: false,
  },
  '1.9': {
    version: '1.9',
    release: '1.9.7',
    localCidr: true,
    rejectAction: true,
    outboundDenyAnsweredBy: 'inbound_action',
    anyCidr: 'zero-bits',
    defaultLocalCidrAny: true,
    cidrParser: 'netip',
    sanityWarnings: false,
    icmpIgnoresPort: false,
    portRangeChecked: false,
  },
  '1.10': {
    version: '1.10',
    release: '1.10.3',
    localCidr: true,
    rejectAction: true,
    outboundDenyAnsweredBy: 'inbound_action',
    anyCidr: 'keyword',
    defaultLocalCidrAny: false,
    cidrParser: 'netip',
    sanityWarnings: true,
    icmpIgnoresPort: false,
    portRangeChecked: false,
  },
  '1.11': {
    version: '1.11',
    release: '1.11.1',
    localCidr: true,
    rejectAction: true,
    outboundDenyAnsweredBy: 'outbound_action',
    anyCidr: 'keyword',
    defaultLocalCidrAny: false,
    cidrParser: 'netip',
    sanityWarnings: true,
    icmpIgnoresPort: true,
    portRangeChecked: true,
  },
};

/**
 * The behaviour row of a Nebula version.
 *
 * @example
 * nebulaBehaviour('1.10').outboundDenyAnsweredBy; // 'inbound_action'
 */
export function nebulaBehaviour(version: NebulaVersion = CURRENT_NEBULA): NebulaBehaviour {
  return TABLE[version];
}

/**
 * Which setting answers a flow denied by `side`'s table, in this version: the setting's name, or
 * undefined when the version has no such setting (1.6: always a drop).
 *
 * @example
 * denyAnsweredBy(nebulaBehaviour('1.10'), 'outbound'); // 'inbound_action'
 */
export function denyAnsweredBy(behaviour: NebulaBehaviour, side: 'outbound' | 'inbound'): 'outbound_action' | 'inbound_action' | undefined {
  if (!behaviour.rejectAction) return undefined;
  const swapped = behaviour.outboundDenyAnsweredBy === 'inbound_action';
  if (side === 'outbound') return swapped ? 'inbound_action' : 'outbound_action';
  return swapped ? 'outbound_action' : 'inbound_action';
}

/**
 * The version behaviour behind a denied flow's answer (drop or reject), for `harness explain`.
 *
 * @example
 * describeDenial(fw, 'outbound', 'claude-worker');
 * // "Nebula 1.10 (1.10.3): a flow denied by claude-worker's outbound rules is answered by its inbound_action (drop): ..."
 */
export function describeDenial(firewall: { nebula: NebulaVersion; outboundAction: string; inboundAction: string; denyAction: Record<'outbound' | 'inbound', string> }, side: 'outbound' | 'inbound', node: string): string {
  const behaviour = nebulaBehaviour(firewall.nebula);
  const head = `Nebula ${behaviour.version} (${behaviour.release})`;
  const setting = denyAnsweredBy(behaviour, side);
  if (setting === undefined) return `${head} has no reject action (inbound_action/outbound_action arrived in 1.7.0): every denied flow is dropped`;
  const answer = `${head}: a flow denied by ${node}'s ${side} rules is answered by its ${setting} (${firewall.denyAction[side]})`;
  const named = side === 'outbound' ? 'outbound_action' : 'inbound_action';
  if (setting === named) return `${answer}, as named (the direction fix of 1.11.0, slackhq/nebula#1798)`;
  const other = side === 'outbound' ? firewall.outboundAction : firewall.inboundAction;
  return `${answer}, not its ${named} (${other}): up to 1.10.x the two settings were applied to the opposite direction (fixed in 1.11.0, slackhq/nebula#1798)`;
}
