import { z } from 'zod';
import { parsePrefix } from './cidr.ts';
import type { Prefix } from './cidr.ts';
import { NetworkError } from './errors.ts';
import { CURRENT_NEBULA, denyAnsweredBy, nebulaBehaviour } from './versions.ts';
import type { NebulaBehaviour, NebulaVersion } from './versions.ts';

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
  /** Read as Go's GetBool does: a boolean, or a string such as `yes`/`false`. */
  default_local_cidr_any: z.union([z.boolean(), z.string()]).optional(),
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
  /** `any` only from Nebula 1.10, where the keyword is the any-family wildcard. */
  cidr?: Prefix | 'any';
  /** `any` for `local_cidr: any` (1.10+) or a /0 (1.9); absent means the firewall's default. */
  localCidr?: Prefix | 'any';
  caName?: string;
  caSha?: string;
  /** Nebula's short-circuit: no host/group/cidr, or `host: any`, `group(s): any`, or the version's any-cidr. */
  anyPeer: boolean;
  text: string;
}

/** A parsed `firewall:` section: both tables, their actions, conntrack timeouts, load warnings. */
export interface Firewall {
  /** The Nebula version whose rules parsed it (and whose semantics evaluate it). */
  nebula: NebulaVersion;
  outbound: FirewallRule[];
  inbound: FirewallRule[];
  /** The settings as written (drop when absent, invalid, or unknown to the version). */
  outboundAction: FirewallAction;
  inboundAction: FirewallAction;
  /**
   * How a flow denied by each table is answered, after the version's wiring: up to 1.10.x an
   * outbound denial used `inbound_action` and an inbound one `outbound_action` (slackhq/nebula#1798).
   */
  denyAction: { outbound: FirewallAction; inbound: FirewallAction };
  /**
   * Whether a rule without `local_cidr` matches any local address on a node with unsafe networks
   * (`subnets` in its certificate): `firewall.default_local_cidr_any`, or the version's default.
   */
  defaultLocalCidrAny: boolean;
  conntrack: { tcpTimeoutMs: number; udpTimeoutMs: number; defaultTimeoutMs: number };
  /** What Nebula would log as warnings while loading (e.g. an invalid action defaulting to drop). */
  warnings: string[];
  source?: string;
}

const MINUTE = 60_000;

/**
 * Parses Nebula's `firewall:` section with the rules and error wording of a Nebula version
 * (`nebula`, default the current one; see versions.ts). A missing or null section is a firewall
 * with no rules: everything is denied.
 *
 * @example
 * const fw = parseFirewall({
 *   outbound: [{ port: 8000, proto: 'tcp', groups: ['dev', 'monitoring-mcp'] }],
 *   inbound: [{ port: 'any', proto: 'any', host: 'any' }],
 * }, { source: 'topology.yaml nodes.claude-worker.firewall', nebula: '1.10' });
 * // throws NetworkError 'ERR_FIREWALL_CONFIG': "...: firewall.outbound rule #0; port was not a number; `abc`"
 */
export function parseFirewall(raw: unknown, options: { source?: string; nebula?: NebulaVersion } = {}): Firewall {
  const behaviour = nebulaBehaviour(options.nebula ?? CURRENT_NEBULA);
  const fail = (message: string, path: (string | number)[]): never => {
    throw new NetworkError('ERR_FIREWALL_CONFIG', options.source ? `${options.source}: ${message}` : message, { path });
  };
  if (raw !== undefined && raw !== null && !isMap(raw)) {
    fail('firewall failed to parse, should be a map', []);
  }
  const section = (raw ?? {}) as Record<string, unknown>;
  const warnings: string[] = [];
  const unknownTo = (what: string, since: string) =>
    warnings.push(`harness: Nebula ${behaviour.release} does not read ${what} (it arrived in ${since}) and ignores it`);
  const action = (key: 'inbound_action' | 'outbound_action'): FirewallAction => {
    if (!(key in section)) return 'drop';
    if (!behaviour.rejectAction) {
      unknownTo(`firewall.${key}`, '1.7.0');
      return 'drop';
    }
    const value = goString(section[key]);
    if (value === 'drop' || value === 'reject') return value;
    warnings.push(`invalid firewall.${key} \`${value}\`, defaulting to \`drop\``);
    return 'drop';
  };
  const inboundAction = action('inbound_action');
  const outboundAction = action('outbound_action');
  const actionOf = (setting: 'outbound_action' | 'inbound_action' | undefined): FirewallAction =>
    setting === 'outbound_action' ? outboundAction : setting === 'inbound_action' ? inboundAction : 'drop';
  let defaultLocalCidrAny = behaviour.defaultLocalCidrAny ?? true;
  if ('default_local_cidr_any' in section) {
    if (behaviour.defaultLocalCidrAny === undefined) unknownTo('firewall.default_local_cidr_any', '1.9.0');
    else defaultLocalCidrAny = goBool(section.default_local_cidr_any, behaviour.defaultLocalCidrAny);
  }
  const conntrack = isMap(section.conntrack) ? section.conntrack : {};
  const timeout = (key: string, fallbackMs: number, fallback: string): number => {
    if (!(key in conntrack)) return fallbackMs;
    const parsed = goDuration(conntrack[key]);
    if (parsed !== undefined) return parsed;
    warnings.push(`harness: firewall.conntrack.${key} \`${goString(conntrack[key])}\` is not a Go duration; Nebula silently uses its default ${fallback}`);
    return fallbackMs;
  };
  const firewall: Firewall = {
    nebula: behaviour.version,
    // Nebula loads the outbound table first, so its errors come first.
    outbound: parseTable('outbound', section.outbound, warnings, fail, behaviour),
    inbound: parseTable('inbound', section.inbound, warnings, fail, behaviour),
    outboundAction,
    inboundAction,
    denyAction: {
      outbound: actionOf(denyAnsweredBy(behaviour, 'outbound')),
      inbound: actionOf(denyAnsweredBy(behaviour, 'inbound')),
    },
    defaultLocalCidrAny,
    conntrack: {
      tcpTimeoutMs: timeout('tcp_timeout', 12 * MINUTE, '12m'),
      udpTimeoutMs: timeout('udp_timeout', 3 * MINUTE, '3m'),
      defaultTimeoutMs: timeout('default_timeout', 10 * MINUTE, '10m'),
    },
    warnings,
  };
  if (options.source !== undefined) firewall.source = options.source;
  return firewall;
}

type Fail = (message: string, path: (string | number)[]) => never;

function parseTable(direction: Direction, raw: unknown, warnings: string[], fail: Fail, behaviour: NebulaBehaviour): FirewallRule[] {
  const table = `firewall.${direction}`;
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) return fail(`${table} failed to parse, should be an array of rules`, [direction]);
  return raw.map((item, index) => parseRule(direction, index, item, warnings, fail, behaviour));
}

function parseRule(direction: Direction, index: number, item: unknown, warnings: string[], fail: Fail, behaviour: NebulaBehaviour): FirewallRule {
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
  const caName = str('ca_name');
  const caSha = str('ca_sha');
  // Before 1.7 nothing reads local_cidr: the rule loads as if the field were not there.
  const localCidr = behaviour.localCidr ? str('local_cidr') : '';
  if (!behaviour.localCidr && 'local_cidr' in m) {
    warnings.push(`harness: ${prefix} Nebula ${behaviour.release} does not read local_cidr (it arrived in 1.7.0) and ignores it`);
  }

  if (code !== '' && port !== '') fail(`${prefix} only one of port or code should be provided`, at('code'));
  if (host === '' && (groups?.length ?? 0) === 0 && group === '' && cidr === '' && localCidr === '' && caName === '' && caSha === '') {
    const fields = behaviour.localCidr ? 'host, group, cidr, local_cidr, ca_name, or ca_sha' : 'host, group, cidr, ca_name, or ca_sha';
    fail(`${prefix} at least one of ${fields} must be provided`, at());
  }
  let groupField: 'group' | 'groups' | undefined = groups && groups.length > 0 ? 'groups' : undefined;
  if (group !== '') {
    if (groupField) fail(`${prefix} only one of group or groups should be defined, both provided`, at('group'));
    groups = [group];
    groupField = 'group';
  }
  if (!groupField) groups = undefined;

  const portField = code !== '' ? 'code' : 'port';
  const portText = code !== '' ? code : port;
  const checkProto = () => {
    if (proto !== 'any' && proto !== 'tcp' && proto !== 'udp' && proto !== 'icmp') {
      fail(`${prefix} proto was not understood; \`${proto}\``, at('proto'));
    }
  };
  let parsedPort: PortMatch | string;
  if (behaviour.icmpIgnoresPort) {
    // 1.11 reads the proto first, and an icmp rule has no port (#1609).
    checkProto();
    parsedPort = proto === 'icmp' ? { kind: 'any' } : parsePort(portText, behaviour.portRangeChecked);
    if (proto === 'icmp' && portText !== '') warnings.push(`${prefix} ignoring port specification for ICMP firewall rule; port=${portText}`);
  } else {
    parsedPort = parsePort(portText, behaviour.portRangeChecked);
  }
  if (typeof parsedPort === 'string') return fail(`${prefix} ${portField} ${parsedPort}`, at(portField));
  checkProto();

  let remote: Prefix | 'any' | undefined;
  if (cidr !== '') {
    const parsed = cidr === 'any' && behaviour.anyCidr === 'keyword' ? 'any' : parseCidr(cidr, behaviour);
    if (typeof parsed === 'string' && parsed !== 'any') return fail(`${prefix} cidr did not parse; ${parsed}`, at('cidr'));
    remote = parsed;
  }
  let local: Prefix | 'any' | undefined;
  if (localCidr !== '') {
    const parsed = localCidr === 'any' && behaviour.anyCidr === 'keyword' ? 'any' : parseCidr(localCidr, behaviour);
    if (typeof parsed === 'string' && parsed !== 'any') return fail(`${prefix} local_cidr did not parse; ${parsed}`, at('local_cidr'));
    local = parsed !== 'any' && behaviour.anyCidr === 'zero-bits' && parsed.bits === 0 ? 'any' : parsed;
  }
  if (behaviour.sanityWarnings) {
    const warning = sanity(groups ?? [], host, cidr);
    if (warning) warnings.push(`${prefix} ${warning}`);
  }
  if (parsedPort.kind === 'range' && parsedPort.start > parsedPort.end) {
    fail(`${prefix} \`start port was lower than end port\``, at(portField));
  }

  const rule: FirewallRule = {
    direction,
    index,
    proto: proto as Proto,
    port: parsedPort,
    anyPeer:
      ((groups?.length ?? 0) === 0 && host === '' && !remote) ||
      (groups ?? []).includes('any') ||
      host === 'any' ||
      (remote !== undefined && isAnyCidr(remote, behaviour)),
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
function parsePort(s: string, rangeChecked: boolean): PortMatch | string {
  // 1.11's parsePortValue (strconv.ParseUint(s, 10, 16)): digits only, at most 65535 (#1724).
  const value = (text: string, what: string): number | string => {
    if (!rangeChecked) return goAtoi(text) ?? `${what}was not a number; \`${text}\``;
    if (!/^[0-9]+$/.test(text)) return `${what}was not a number; \`${text}\``;
    const n = Number(text);
    return n <= 65535 ? n : `${what}out of range [0,65535]; \`${text}\``;
  };
  if (s === 'any') return { kind: 'any' };
  if (s === 'fragment') return { kind: 'fragment' };
  if (s.includes('-')) {
    const dash = s.indexOf('-');
    const first = s.slice(0, dash).trim();
    const second = s.slice(dash + 1).trim();
    if (first === '' || second === '') return `appears to be a range but could not be parsed; \`${s}\``;
    const start = value(first, 'beginning range ');
    if (typeof start === 'string') return start;
    const end = value(second, 'ending range ');
    if (typeof end === 'string') return end;
    if (start === 0) return { kind: 'any' };
    return { kind: 'range', start, end };
  }
  const port = value(s, '');
  if (typeof port === 'string') return port;
  return port === 0 ? { kind: 'any' } : { kind: 'range', start: port, end: port };
}

/** Renders a rule the way reasons quote it: `port 8000/tcp groups [dev, monitoring-mcp]`. */
export function renderRule(rule: Omit<FirewallRule, 'text'>): string {
  const parts = [`port ${renderPort(rule.port)}/${rule.proto}`];
  if (rule.host !== undefined) parts.push(`host ${rule.host}`);
  if (rule.groups && rule.groupField === 'group') parts.push(`group ${rule.groups[0]}`);
  if (rule.groups && rule.groupField === 'groups') parts.push(`groups [${rule.groups.join(', ')}]`);
  if (rule.cidr) parts.push(`cidr ${rule.cidr === 'any' ? 'any' : rule.cidr.text}`);
  if (rule.localCidr) parts.push(`local_cidr ${rule.localCidr === 'any' ? 'any' : rule.localCidr.text}`);
  if (rule.caName !== undefined) parts.push(`ca_name ${rule.caName}`);
  if (rule.caSha !== undefined) parts.push(`ca_sha ${rule.caSha}`);
  return parts.join(' ');
}

export function renderPort(port: PortMatch): string {
  if (port.kind !== 'range') return port.kind;
  return port.start === port.end ? String(port.start) : `${port.start}-${port.end}`;
}

/** A cidr as the version parses it: netip.ParsePrefix, or (1.6) net.ParseCIDR into an IPv4-only tree. */
function parseCidr(text: string, behaviour: NebulaBehaviour): Prefix | string {
  const parsed = parsePrefix(text);
  if (behaviour.cidrParser === 'netip') return parsed;
  if (typeof parsed === 'string') return `invalid CIDR address: ${text}`;
  if (parsed.family === 'ipv6') {
    return `harness: Nebula ${behaviour.release} keeps rule cidrs in an IPv4-only tree; the stand-in does not model the IPv6 cidr ${text}`;
  }
  return parsed;
}

/** Whether a rule's `cidr` makes it match every peer, in this version. */
function isAnyCidr(cidr: Prefix | 'any', behaviour: NebulaBehaviour): boolean {
  if (cidr === 'any') return true;
  if (behaviour.anyCidr === 'zero-bits') return cidr.bits === 0;
  if (behaviour.anyCidr === 'contains-0.0.0.0') return cidr.family === 'ipv4' && cidr.contains('0.0.0.0');
  return false;
}

/** Nebula 1.10's rule.sanity() (#1513): an `any` that makes the rule's other selectors pointless. */
function sanity(groups: string[], host: string, cidr: string): string | undefined {
  if (groups.length === 0 && host === '' && cidr === '') return undefined;
  const goGroups = `[${groups.join(' ')}]`;
  const groupsHasAny = groups.includes('any');
  if (groupsHasAny && groups.length > 1) return `groups spec [${goGroups}] contains the group '"any". This rule will ignore the other groups specified`;
  if (host === 'any') {
    if (groups.length > 0) return `groups specified as ${goGroups}, but host=any will match any host, regardless of groups`;
    if (cidr !== '') return `cidr specified as ${cidr}, but host=any will match any host, regardless of cidr`;
  }
  if (groupsHasAny) {
    if (host !== '' && host !== 'any') return `groups spec [${goGroups}] contains the group '"any". This rule will ignore the specified host ${host}`;
    if (cidr !== '') return `groups spec [${goGroups}] contains the group '"any". This rule will ignore the specified cidr ${cidr}`;
  }
  return undefined;
}

/** Go's config GetBool: strconv.ParseBool, then y/yes/n/no, else the default. */
function goBool(value: unknown, fallback: boolean): boolean {
  const text = goString(value).toLowerCase();
  if (['1', 't', 'true'].includes(text)) return true;
  if (['0', 'f', 'false'].includes(text)) return false;
  if (text === 'y' || text === 'yes') return true;
  if (text === 'n' || text === 'no') return false;
  return fallback;
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
