import { describe, expect, it } from 'vitest';
import { isHarnessError } from '../../common/index.ts';
import { parseFirewall } from './firewall.ts';

function parseError(raw: unknown, source?: string): { code: string; message: string; path: unknown } {
  try {
    parseFirewall(raw, source === undefined ? {} : { source });
  } catch (error) {
    if (!isHarnessError(error)) throw error;
    return { code: error.code, message: error.message, path: (error as { path?: unknown }).path };
  }
  throw new Error('expected parseFirewall to throw');
}

const out = (rule: unknown) => ({ outbound: [rule] });

describe('parseFirewall', () => {
  it.each([
    ['a table that is not a list', { outbound: { port: 80 } }, 'firewall.outbound failed to parse, should be an array of rules'],
    ['a rule that is not a map', out('port 80'), 'firewall.outbound rule #0; could not parse rule'],
    ['port and code together', out({ port: 80, code: 1, proto: 'tcp', host: 'any' }), 'firewall.outbound rule #0; only one of port or code should be provided'],
    ['a rule with no selector', out({ port: 80, proto: 'tcp' }), 'firewall.outbound rule #0; at least one of host, group, cidr, local_cidr, ca_name, or ca_sha must be provided'],
    ['group with groups', { inbound: [{ port: 80, proto: 'tcp', group: 'a', groups: ['b'] }] }, 'firewall.inbound rule #0; only one of group or groups should be defined, both provided'],
    ['group as a list of two', out({ port: 80, proto: 'tcp', group: ['a', 'b'] }), 'firewall.outbound rule #0; group should contain a single value, an array with more than one entry was provided'],
    ['a missing port', out({ proto: 'tcp', host: 'any' }), 'firewall.outbound rule #0; port was not a number; ``'],
    ['a port word', out({ port: 'http', proto: 'tcp', host: 'any' }), 'firewall.outbound rule #0; port was not a number; `http`'],
    ['a null port', out({ port: null, proto: 'tcp', host: 'any' }), 'firewall.outbound rule #0; port was not a number; `<nil>`'],
    ['a code word', out({ code: 'a', proto: 'icmp', host: 'any' }), 'firewall.outbound rule #0; code was not a number; `a`'],
    ['a bare dash', out({ port: '-', proto: 'tcp', host: 'any' }), 'firewall.outbound rule #0; port appears to be a range but could not be parsed; `-`'],
    ['a negative port', out({ port: '-5', proto: 'tcp', host: 'any' }), 'firewall.outbound rule #0; port appears to be a range but could not be parsed; `-5`'],
    ['a bad range start', out({ port: 'a-80', proto: 'tcp', host: 'any' }), 'firewall.outbound rule #0; port beginning range was not a number; `a`'],
    ['a bad range end', out({ port: '80-b', proto: 'tcp', host: 'any' }), 'firewall.outbound rule #0; port ending range was not a number; `b`'],
    ['a backwards range', out({ port: '90-80', proto: 'tcp', host: 'any' }), 'firewall.outbound rule #0; `start port was lower than end port`'],
    ['a missing proto', out({ port: 80, host: 'any' }), 'firewall.outbound rule #0; proto was not understood; ``'],
    ['an unknown proto', out({ port: 80, proto: 'sctp', host: 'any' }), 'firewall.outbound rule #0; proto was not understood; `sctp`'],
    ['a cidr without a slash', out({ port: 80, proto: 'tcp', cidr: 'testh' }), 'firewall.outbound rule #0; cidr did not parse; netip.ParsePrefix("testh"): no \'/\''],
    ['a cidr with a bad address', out({ port: 80, proto: 'tcp', cidr: '10.0.0/8' }), 'firewall.outbound rule #0; cidr did not parse; netip.ParsePrefix("10.0.0/8"): ParseAddr("10.0.0"): unable to parse IP'],
    ['a cidr too long', out({ port: 80, proto: 'tcp', cidr: '10.0.0.0/33' }), 'firewall.outbound rule #0; cidr did not parse; netip.ParsePrefix("10.0.0.0/33"): prefix length out of range'],
    ['a local_cidr without a slash', out({ port: 80, proto: 'tcp', local_cidr: 'testh' }), 'firewall.outbound rule #0; local_cidr did not parse; netip.ParsePrefix("testh"): no \'/\''],
    ['a groups list with a number', out({ port: 80, proto: 'tcp', groups: ['a', 5] }), 'firewall.outbound rule #0; groups entry #1 should be a string'],
    ['a section that is a list', [1], 'firewall failed to parse, should be a map'],
  ])('throws ERR_FIREWALL_CONFIG on %s', (_name, raw, message) => {
    const error = parseError(raw);
    expect(error.code).toBe('ERR_FIREWALL_CONFIG');
    expect(error.message).toBe(message);
  });

  it('numbers the failing rule and reports the outbound table before the inbound one', () => {
    const error = parseError({
      inbound: [{ port: 'x', proto: 'tcp', host: 'any' }],
      outbound: [{ port: 80, proto: 'tcp', host: 'any' }, { port: 80, proto: 'tcp' }],
    });
    expect(error.message).toMatch(/^firewall\.outbound rule #1;/);
    expect(error.path).toEqual(['outbound', 1]);
  });

  it('names the source and the field path when given a source', () => {
    const error = parseError(out({ port: 'x', proto: 'tcp', host: 'any' }), 'net.yaml nodes.a.firewall');
    expect(error.message).toBe('net.yaml nodes.a.firewall: firewall.outbound rule #0; port was not a number; `x`');
    expect(error.path).toEqual(['outbound', 0, 'port']);
  });

  it.each([
    ['any', { kind: 'any' }],
    ['0', { kind: 'any' }],
    [0, { kind: 'any' }],
    ['0-100', { kind: 'any' }],
    ['fragment', { kind: 'fragment' }],
    [8000, { kind: 'range', start: 8000, end: 8000 }],
    ['8000', { kind: 'range', start: 8000, end: 8000 }],
    ['200-901', { kind: 'range', start: 200, end: 901 }],
    [' 200 - 901 ', { kind: 'range', start: 200, end: 901 }],
  ])('reads port %j as %j', (port, expected) => {
    const fw = parseFirewall(out({ port, proto: 'tcp', host: 'any' }));
    expect(fw.outbound[0]?.port).toEqual(expected);
  });

  it.each([
    ['no host, group or cidr (ca_name only)', { ca_name: 'dev-ca' }, true],
    ['host any', { host: 'any' }, true],
    ['group any', { group: 'any' }, true],
    ['any among groups', { groups: ['dev', 'any'] }, true],
    ['cidr 0.0.0.0/0', { cidr: '0.0.0.0/0' }, true],
    ['a named host', { host: 'web' }, false],
    ['groups', { groups: ['dev'] }, false],
    ['cidr 0.0.0.0/8', { cidr: '0.0.0.0/8' }, false],
    ['local_cidr only', { local_cidr: '10.0.0.0/8' }, true],
  ])('treats %s as any peer: %s', (_name, selectors, anyPeer) => {
    const fw = parseFirewall(out({ port: 80, proto: 'tcp', ...selectors }));
    expect(fw.outbound[0]?.anyPeer).toBe(anyPeer);
  });

  it.each([
    [{ port: 8000, proto: 'tcp', groups: ['dev', 'monitoring-mcp'] }, 'port 8000/tcp groups [dev, monitoring-mcp]'],
    [{ port: 'any', proto: 'any', host: 'any' }, 'port any/any host any'],
    [{ port: '200-901', proto: 'udp', group: 'dev' }, 'port 200-901/udp group dev'],
    [{ port: 'fragment', proto: 'any', cidr: '10.0.0.0/8', local_cidr: '10.1.0.0/16' }, 'port fragment/any cidr 10.0.0.0/8 local_cidr 10.1.0.0/16'],
    [{ port: 0, proto: 'icmp', ca_name: 'dev-ca', ca_sha: 'abc' }, 'port any/icmp ca_name dev-ca ca_sha abc'],
    [{ port: 80, proto: 'tcp', groups: 'dev' }, 'port 80/tcp groups [dev]'],
  ])('renders %j as %s', (rule, text) => {
    expect(parseFirewall(out(rule)).outbound[0]?.text).toBe(text);
  });

  it('converts a one-element group list with a warning, as Nebula does', () => {
    const fw = parseFirewall(out({ port: 80, proto: 'tcp', group: ['dev'] }));
    expect(fw.outbound[0]?.groups).toEqual(['dev']);
    expect(fw.warnings).toEqual(['firewall.outbound rule #0; group was an array with a single value, converting to simple value']);
  });

  it('defaults both actions to drop and an unknown action to drop with a warning', () => {
    expect(parseFirewall({})).toMatchObject({ outboundAction: 'drop', inboundAction: 'drop', warnings: [] });
    const fw = parseFirewall({ outbound_action: 'reject', inbound_action: 'deny' });
    expect(fw).toMatchObject({ outboundAction: 'reject', inboundAction: 'drop' });
    expect(fw.warnings).toEqual(['invalid firewall.inbound_action `deny`, defaulting to `drop`']);
  });

  it('reads conntrack timeouts as Go durations, keeping defaults for what does not parse', () => {
    expect(parseFirewall(undefined).conntrack).toEqual({ tcpTimeoutMs: 720_000, udpTimeoutMs: 180_000, defaultTimeoutMs: 600_000 });
    const fw = parseFirewall({ conntrack: { tcp_timeout: '1h30m', udp_timeout: '90s', default_timeout: 'soon' } });
    expect(fw.conntrack).toEqual({ tcpTimeoutMs: 5_400_000, udpTimeoutMs: 90_000, defaultTimeoutMs: 600_000 });
  });

  it('reads a null table as no rules', () => {
    expect(parseFirewall({ outbound: null, inbound: [] })).toMatchObject({ outbound: [], inbound: [] });
  });
});
