import { z } from 'zod';
import { parsePrefix } from './cidr.ts';
import type { Prefix } from './cidr.ts';
import { NetworkError } from './errors.ts';

export type Proto = 'any' | 'tcp' | 'udp' | 'icmp';
export type FirewallAction = 'drop' | 'reject';
export type Direction = 'outbound' | 'inbound';

const ScalarSchema = z.union([z.string(), z.number(), z.boolean()]);

/**
 * One rule of Nebula's `firewall.outbound` / `firewall.inbound` lists, as written in config.yml.
 * The schema checks shapes only; `parseFirewall` gives Nebula's own verdict and wording.
 */
export const FirewallRuleConfigSchema = z.looseObject({
  port: ScalarSchema.optional(),
  code: ScalarSchema.optional(),
  proto: z.string().optional(),
  host: ScalarSchema.optional(),
  group: z.union([ScalarSchema, z.array(ScalarSchema)]).optional(),
  groups: z.union([ScalarSchema, z.array(ScalarSchema)]).optional(),
  cidr: z.string().optional(),
  local_cidr: z.string().optional(),
  ca_name: ScalarSchema.optional(),
  ca_sha: ScalarSchema.optional(),
});
export type FirewallRuleConfig = z.input<typeof FirewallRuleConfigSchema>;

/** Nebula's raw `firewall:` section (config.yml). */
export const FirewallConfigSchema = z.looseObject({
  outbound: z.array(FirewallRuleConfigSchema).nullish(),
  inbound: z.array(FirewallRuleConfigSchema).nullish(),
  outbound_action: z.string().optional(),
  inbound_action: z.string().optional(),
  default_local_cidr_any: z.boolean().optional(),
  conntrack: z
    .looseObject({
      tcp_timeout: z.string().optional(),
      udp_timeout: z.string().optional(),
      default_timeout: z.string().optional(),
    })
    .optional(),
});
export type FirewallConfig = z.input<typeof FirewallConfigSchema>;

/** Which destination ports a rule covers. Port `0`/`any` (and ranges starting at 0) are `any`. */
export type PortMatch = { kind: 'any' } | { kind: 'fragment' } | { kind: 'range'; start: number; end: number };

/** One parsed rule; `text` is its rendering, e.g. `port 8000/tcp groups [dev, monitoring-mcp]`. */
export interface FirewallRule {
  direction: Direction;
  /** Position in its list, as Nebula numbers rules (`rule #0`). */
  index: number;
  proto: Proto;
  port: PortMatch;
  host?: string;
  /** All of these groups are required (a single `group` becomes a one-element list). */
  groups?: string[];
  groupField?: 'group' | 'groups';
  cidr?: Prefix;
  localCidr?: Prefix;
  caName?: string;
  caSha?: string;
  /** Nebula's short-circuit: no host/group/cidr, or `host: any`, `group(s): any`, a `/0` cidr. */
  anyPeer: boolean;
  text: string;
}

/** A parsed `firewall:` section: both tables, their actions, conntrack timeouts, load warnings. */
export interface Firewall {
  outbound: FirewallRule[];
  inbound: FirewallRule[];
  outboundAction: FirewallAction;
  inboundAction: FirewallAction;
  conntrack: { tcpTimeoutMs: number; udpTimeoutMs: number; defaultTimeoutMs: number };
  /** What Nebula would log as warnings while loading (e.g. an invalid action defaulting to drop). */
  warnings: string[];
  source?: string;
}

const MINUTE = 60_000;

/**
 * Parses Nebula's `firewall:` section with Nebula's (v1.9) rules and error wording.
 * A missing or null section is a firewall with no rules: everything is denied.
 *
 * @example
 * const fw = parseFirewall({
 *   outbound: [{ port: 8000, proto: 'tcp', groups: ['dev', 'monitoring-mcp'] }],
 *   inbound: [{ port: 'any', proto: 'any', host: 'any' }],
 * }, { source: 'topology.yaml nodes.claude-worker.firewall' });
 * // throws NetworkError 'ERR_FIREWALL_CONFIG': "...: firewall.outbound rule #0; port was not a number; `abc`"
 */
export function parseFirewall(raw: unknown, options: { source?: string } = {}): Firewall {
  const fail = (message: string, path: (string | number)[]): never => {
    throw new NetworkError('ERR_FIREWALL_CONFIG', options.source ? `${options.source}: ${message}` : message, { path });
  };
  if (raw !== undefined && raw !== null && !isMap(raw)) {
    fail('firewall failed to parse, should be a map', []);
  }
  const section = (raw ?? {}) as Record<string, unknown>;
  const warnings: string[] = [];
  const action = (key: 'inbound_action' | 'outbound_action'): FirewallAction => {
    const value = key in section ? goString(section[key]) : 'drop';
    if (value === 'drop' || value === 'reject') return value;
    warnings.push(`invalid firewall.${key} \`${value}\`, defaulting to \`drop\``);
    return 'drop';
  };
  const inboundAction = action('inbound_action');
  const outboundAction = action('outbound_action');
  const conntrack = isMap(section.conntrack) ? section.conntrack : {};
  const firewall: Firewall = {
    // Nebula loads the outbound table first, so its errors come first.
    outbound: parseTable('outbound', section.outbound, warnings, fail),
    inbound: parseTable('inbound', section.inbound, warnings, fail),
    outboundAction,
    inboundAction,
    conntrack: {
      tcpTimeoutMs: goDuration(conntrack.tcp_timeout) ?? 12 * MINUTE,
      udpTimeoutMs: goDuration(conntrack.udp_timeout) ?? 3 * MINUTE,
      defaultTimeoutMs: goDuration(conntrack.default_timeout) ?? 10 * MINUTE,
    },
    warnings,
  };
  if (options.source !== undefined) firewall.source = options.source;
  return firewall;
}

type Fail = (message: string, path: (string | number)[]) => never;

function parseTable(direction: Direction, raw: unknown, warnings: string[], fail: Fail): FirewallRule[] {
  const table = `firewall.${direction}`;
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) return fail(`${table} failed to parse, should be an array of rules`, [direction]);
  return raw.map((item, index) => parseRule(direction, index, item, warnings, fail));
}

function parseRule(direction: Direction, index: number, item: unknown, warnings: string[], fail: Fail): FirewallRule {
  const prefix = `firewall.${direction} rule #${index};`;
  const at = (field?: string) => (field ? [direction, index, field] : [direction, index]);
  if (!isMap(item)) return fail(`${prefix} could not parse rule`, at());
  const m: Record<string, unknown> = { ...item };
  const str = (key: string) => (key in m ? goString(m[key]) : '');

  if (Array.isArray(m.group)) {
    if (m.group.length > 1) {
      fail(`${prefix} group should contain a single value, an array with more than one entry was provided`, at('group'));
    }
    // Nebula panics on an empty list; an error is kinder.
    if (m.group.length === 0) fail(`${prefix} group should contain a single value, an empty array was provided`, at('group'));
    warnings.push(`${prefix} group was an array with a single value, converting to simple value`);
    m.group = m.group[0];
  }
  let groups: string[] | undefined;
  if ('groups' in m) {
    const rg = m.groups;
    if (Array.isArray(rg)) {
      groups = rg.map((g, i) => (typeof g === 'string' ? g : fail(`${prefix} groups entry #${i} should be a string`, at('groups'))));
    } else if (rg === null || rg === undefined) {
      fail(`${prefix} groups should be a list of group names`, at('groups'));
    } else {
      groups = [goString(rg)];
    }
  }
  const port = str('port');
  const code = str('code');
  const proto = str('proto');
  const host = str('host');
  const group = str('group');
  const cidr = str('cidr');
  const localCidr = str('local_cidr');
  const caName = str('ca_name');
  const caSha = str('ca_sha');

  if (code !== '' && port !== '') fail(`${prefix} only one of port or code should be provided`, at('code'));
  if (host === '' && (groups?.length ?? 0) === 0 && group === '' && cidr === '' && localCidr === '' && caName === '' && caSha === '') {
    fail(`${prefix} at least one of host, group, cidr, local_cidr, ca_name, or ca_sha must be provided`, at());
  }
  let groupField: 'group' | 'groups' | undefined = groups && groups.length > 0 ? 'groups' : undefined;
  if (group !== '') {
    if (groupField) fail(`${prefix} only one of group or groups should be defined, both provided`, at('group'));
    groups = [group];
    groupField = 'group';
  }
  if (!groupField) groups = undefined;

  const portField = code !== '' ? 'code' : 'port';
  const parsedPort = parsePort(code !== '' ? code : port);
  if (typeof parsedPort === 'string') return fail(`${prefix} ${portField} ${parsedPort}`, at(portField));

  if (proto !== 'any' && proto !== 'tcp' && proto !== 'udp' && proto !== 'icmp') {
    return fail(`${prefix} proto was not understood; \`${proto}\``, at('proto'));
  }
  let remote: Prefix | undefined;
  if (cidr !== '') {
    const parsed = parsePrefix(cidr);
    if (typeof parsed === 'string') return fail(`${prefix} cidr did not parse; ${parsed}`, at('cidr'));
    remote = parsed;
  }
  let local: Prefix | undefined;
  if (localCidr !== '') {
    const parsed = parsePrefix(localCidr);
    if (typeof parsed === 'string') return fail(`${prefix} local_cidr did not parse; ${parsed}`, at('local_cidr'));
    local = parsed;
  }
  if (parsedPort.kind === 'range' && parsedPort.start > parsedPort.end) {
    fail(`${prefix} \`start port was lower than end port\``, at(portField));
  }

  const rule: FirewallRule = {
    direction,
    index,
    proto,
    port: parsedPort,
    anyPeer:
      ((groups?.length ?? 0) === 0 && host === '' && !remote) ||
      (groups ?? []).includes('any') ||
      host === 'any' ||
      remote?.bits === 0,
    text: '',
  };
  if (host !== '') rule.host = host;
  if (groups && groupField) {
    rule.groups = groups;
    rule.groupField = groupField;
  }
  if (remote) rule.cidr = remote;
  if (local) rule.localCidr = local;
  if (caName !== '') rule.caName = caName;
  if (caSha !== '') rule.caSha = caSha;
  rule.text = renderRule(rule);
  return rule;
}

/** Nebula's parsePort: `any`, `0`, `fragment`, `80`, `200-901`; a string is the error. */
function parsePort(s: string): PortMatch | string {
  if (s === 'any') return { kind: 'any' };
  if (s === 'fragment') return { kind: 'fragment' };
  if (s.includes('-')) {
    const dash = s.indexOf('-');
    const first = s.slice(0, dash).trim();
    const second = s.slice(dash + 1).trim();
    if (first === '' || second === '') return `appears to be a range but could not be parsed; \`${s}\``;
    const start = goAtoi(first);
    if (start === undefined) return `beginning range was not a number; \`${first}\``;
    const end = goAtoi(second);
    if (end === undefined) return `ending range was not a number; \`${second}\``;
    if (start === 0) return { kind: 'any' };
    return { kind: 'range', start, end };
  }
  const port = goAtoi(s);
  if (port === undefined) return `was not a number; \`${s}\``;
  return port === 0 ? { kind: 'any' } : { kind: 'range', start: port, end: port };
}

/** Renders a rule the way reasons quote it: `port 8000/tcp groups [dev, monitoring-mcp]`. */
export function renderRule(rule: Omit<FirewallRule, 'text'>): string {
  const parts = [`port ${renderPort(rule.port)}/${rule.proto}`];
  if (rule.host !== undefined) parts.push(`host ${rule.host}`);
  if (rule.groups && rule.groupField === 'group') parts.push(`group ${rule.groups[0]}`);
  if (rule.groups && rule.groupField === 'groups') parts.push(`groups [${rule.groups.join(', ')}]`);
  if (rule.cidr) parts.push(`cidr ${rule.cidr.text}`);
  if (rule.localCidr) parts.push(`local_cidr ${rule.localCidr.text}`);
  if (rule.caName !== undefined) parts.push(`ca_name ${rule.caName}`);
  if (rule.caSha !== undefined) parts.push(`ca_sha ${rule.caSha}`);
  return parts.join(' ');
}

export function renderPort(port: PortMatch): string {
  if (port.kind !== 'range') return port.kind;
  return port.start === port.end ? String(port.start) : `${port.start}-${port.end}`;
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Go's `fmt.Sprintf("%v", v)` for YAML values, which is how Nebula reads every rule field. */
function goString(value: unknown): string {
  if (value === null || value === undefined) return '<nil>';
  if (Array.isArray(value)) return `[${value.map(goString).join(' ')}]`;
  if (isMap(value)) {
    const entries = Object.keys(value).sort().map((k) => `${k}:${goString(value[k])}`);
    return `map[${entries.join(' ')}]`;
  }
  return String(value);
}

/** Go's strconv.Atoi: optional sign, decimal digits, 64-bit range. */
function goAtoi(s: string): number | undefined {
  if (!/^[+-]?[0-9]+$/.test(s)) return undefined;
  const n = Number(s);
  return Math.abs(n) <= Number.MAX_SAFE_INTEGER ? n : undefined;
}

const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: MINUTE, h: 60 * MINUTE };

/** Go's time.ParseDuration for `12m`, `1h30m`, `300ms`; undefined (Nebula's default) if it does not parse. */
function goDuration(value: unknown): number | undefined {
  if (typeof value !== 'string' || !/^(?:[0-9]+(?:\.[0-9]*)?(?:ns|us|µs|ms|s|m|h))+$/.test(value)) return undefined;
  let total = 0;
  for (const [, amount, unit] of value.matchAll(/([0-9]+(?:\.[0-9]*)?)(ns|us|µs|ms|s|m|h)/g)) {
    total += Number(amount) * (DURATION_UNITS[unit as string] ?? 0);
  }
  return total;
}
