import net from 'node:net';

/** An IP prefix as Go's `netip.ParsePrefix` reads it (the address need not be masked). */
export interface Prefix {
  readonly text: string;
  readonly family: 'ipv4' | 'ipv6';
  readonly bits: number;
  contains(ip: string): boolean;
}

/**
 * Parses `10.0.0.0/8` or `fd00::/8`; returns an error string worded like Go's netip, or a Prefix.
 *
 * @example
 * parsePrefix('10.10.0.0/16').contains('10.10.0.5'); // true
 */
export function parsePrefix(text: string): Prefix | string {
  const fail = (why: string) => `netip.ParsePrefix(${JSON.stringify(text)}): ${why}`;
  const slash = text.lastIndexOf('/');
  if (slash < 0) return fail("no '/'");
  const addr = text.slice(0, slash);
  const bitsText = text.slice(slash + 1);
  if (addr.includes('%')) return fail('IPv6 zones cannot be present in a prefix');
  const family = net.isIPv4(addr) ? 'ipv4' : net.isIPv6(addr) ? 'ipv6' : undefined;
  if (!family) return fail(`ParseAddr(${JSON.stringify(addr)}): unable to parse IP`);
  if (!/^(0|[1-9][0-9]{0,2})$/.test(bitsText)) return fail(`bad bits after slash: ${JSON.stringify(bitsText)}`);
  const bits = Number(bitsText);
  if (bits > (family === 'ipv4' ? 32 : 128)) return fail('prefix length out of range');
  const list = new net.BlockList();
  list.addSubnet(addr, bits, family);
  return {
    text,
    family,
    bits,
    contains(ip: string) {
      const ipFamily = net.isIPv4(ip) ? 'ipv4' : net.isIPv6(ip) ? 'ipv6' : undefined;
      // netip never matches across families; BlockList would map IPv4 into IPv6.
      return ipFamily === family && list.check(ip, family);
    },
  };
}
