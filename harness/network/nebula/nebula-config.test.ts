import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildNebulaConfig, DEFAULT_CONNTRACK } from './nebula-config.ts';
import type { NebulaConfigOptions } from './nebula-config.ts';

const base: NebulaConfigOptions = {
  pki: { ca: '/tmp/x/ca.crt', cert: '/tmp/x/a.crt', key: '/tmp/x/a.key' },
  listen: { host: '192.168.213.2', port: 4242 },
  amLighthouse: false,
  lighthouses: ['10.42.0.1'],
  staticHostMap: { '10.42.0.1': ['192.168.213.1:4242'] },
  tunDev: 'neb0',
  firewall: { outbound: [], inbound: [{ port: '8000', proto: 'tcp', groups: ['dev', 'monitoring-mcp'] }] },
};

describe('buildNebulaConfig', () => {
  it('writes the case firewall through verbatim and adds nebula\'s default conntrack when it has none', () => {
    const config = parse(buildNebulaConfig(base)) as Record<string, unknown>;
    expect(config['firewall']).toEqual({ conntrack: DEFAULT_CONNTRACK, ...(base.firewall as object) });
  });

  it('keeps a conntrack section the case gives', () => {
    const firewall = { conntrack: { tcp_timeout: '1m' }, outbound: [], inbound: [] };
    const config = parse(buildNebulaConfig({ ...base, firewall })) as Record<string, unknown>;
    expect(config['firewall']).toEqual(firewall);
  });

  it('passes a malformed firewall section on untouched so that nebula itself judges it', () => {
    const config = parse(buildNebulaConfig({ ...base, firewall: ['not', 'a', 'map'] })) as Record<string, unknown>;
    expect(config['firewall']).toEqual(['not', 'a', 'map']);
  });

  it('sets pki, listen, lighthouse, static host map, tun and debug JSON logging', () => {
    const config = parse(buildNebulaConfig(base)) as Record<string, unknown>;
    expect(config).toMatchObject({
      pki: base.pki,
      listen: base.listen,
      lighthouse: { am_lighthouse: false, hosts: ['10.42.0.1'] },
      static_host_map: { '10.42.0.1': ['192.168.213.1:4242'] },
      tun: { dev: 'neb0' },
      logging: { level: 'debug', format: 'json' },
    });
  });
});
