import { stringify } from 'yaml';

/** Nebula's defaults (examples/config.yml), added when a case's firewall section has no conntrack. */
export const DEFAULT_CONNTRACK = { tcp_timeout: '12m', udp_timeout: '3m', default_timeout: '10m' } as const;

export interface NebulaConfigOptions {
  pki: { ca: string; cert: string; key: string };
  /** The underlay address this node listens on (inside its namespace). */
  listen: { host: string; port: number };
  amLighthouse: boolean;
  /** Overlay IPs of the lighthouses this node reports to (empty on a lighthouse). */
  lighthouses: readonly string[];
  /** Overlay IP -> underlay `host:port` list. */
  staticHostMap: Readonly<Record<string, readonly string[]>>;
  tunDev: string;
  /** The case's raw `firewall:` section, exactly what the shim parses. */
  firewall: unknown;
}

/**
 * A complete nebula 1.6 config file (YAML text) for one lab node: debug JSON logs so that
 * firewall drops can be read, no punching or relays (two hosts on one link need neither).
 *
 * @example
 * const yaml = buildNebulaConfig({ pki, listen: { host: '192.168.213.1', port: 4242 }, amLighthouse: true,
 *   lighthouses: [], staticHostMap: {}, tunDev: 'neb0', firewall: { outbound: [], inbound: [] } });
 */
export function buildNebulaConfig(options: NebulaConfigOptions): string {
  const config = {
    pki: options.pki,
    static_host_map: options.staticHostMap,
    lighthouse: {
      am_lighthouse: options.amLighthouse,
      interval: 60,
      hosts: options.lighthouses,
    },
    listen: options.listen,
    punchy: { punch: false },
    relay: { am_relay: false, use_relays: false },
    tun: { disabled: false, dev: options.tunDev, mtu: 1300 },
    logging: { level: 'debug', format: 'json' },
    firewall: withConntrack(options.firewall),
  };
  return stringify(config);
}

function withConntrack(firewall: unknown): unknown {
  if (typeof firewall !== 'object' || firewall === null || Array.isArray(firewall)) return firewall;
  if ('conntrack' in firewall) return firewall;
  return { conntrack: DEFAULT_CONNTRACK, ...firewall };
}
