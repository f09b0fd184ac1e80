import os from 'node:os';
import { z } from 'zod';
import { parsePrefix } from './cidr.ts';
import { startNetwork, type EgressListen, type NetworkEvent, type StartedNetwork } from './egress.ts';
import { NetworkError } from './errors.ts';
import { parseFirewall } from './firewall.ts';
import { NodeIdentitySchema } from './identity.ts';
import { CURRENT_NEBULA, NebulaVersionSchema } from './versions.ts';

const PortSchema = z.number().int().min(0).max(65535);

const ShimServiceSchema = z.strictObject({
  /** Consul name, e.g. `monitoring-mcp.service.dev-us-east-1.consul`. */
  name: z.string().min(1),
  aliases: z.array(z.string()).default([]),
  /** Overlay port clients dial. */
  port: PortSchema.min(1),
  /** Where the service really listens: another container's name and port, or a loopback address. */
  target: z.strictObject({ host: z.string().min(1), port: PortSchema.min(1) }),
});

const ShimNodeSchema = z.strictObject({
  identity: NodeIdentitySchema,
  /** Nebula's `firewall:` section, as written. */
  firewall: z.unknown().optional(),
  services: z.array(ShimServiceSchema).default([]),
  /**
   * Where this node's egress listens: `{subnet}` binds it to the shim's own address in that subnet
   * (the node's Docker network, so only that node reaches it), `{address}` to a given address.
   */
  bind: z.union([z.strictObject({ subnet: z.string().min(1) }), z.strictObject({ address: z.string().min(1) })]),
});

/**
 * What the network shim process (`harness/network/main.ts`) runs: every node of a topology with
 * its identity, firewall and services, and where each node's egress listens.
 */
export const ShimConfigSchema = z.strictObject({
  nodes: z.array(ShimNodeSchema).min(1),
  /** Port of every node's egress (each on its own address); 0 for any free port. */
  proxyPort: PortSchema,
  /** Ports where the shim also answers plain HTTP requests to Consul names (Host header); the services' overlay ports. */
  namePorts: z.array(PortSchema.min(1)).default([]),
  dropHoldMs: z.number().int().positive().default(30_000),
  /** The Nebula version whose rules every node's firewall follows. */
  nebula: NebulaVersionSchema.default(CURRENT_NEBULA),
});
export type ShimConfig = z.input<typeof ShimConfigSchema>;

/**
 * A live change for a running shim: each listed node's new certificate and firewall, the Nebula
 * version they follow, and whether to start afresh (no connection and no conntrack entry kept: a
 * new scenario on the same shim). `n` numbers it, so the shim's answer line can be matched.
 */
export const ShimUpdateSchema = z.strictObject({
  n: z.number().int().nonnegative(),
  nodes: z.array(z.strictObject({ identity: NodeIdentitySchema, firewall: z.unknown().optional() })),
  nebula: NebulaVersionSchema.default(CURRENT_NEBULA),
  reset: z.boolean().default(false),
});
export type ShimUpdate = z.input<typeof ShimUpdateSchema>;

/** Where the shim process reads a ShimUpdate from on SIGHUP (unless NETWORK_SHIM_UPDATE_FILE says otherwise). */
export const SHIM_UPDATE_FILE = '/tmp/network-shim-update.json';

/** The JSON lines the shim process prints, one per line on stdout. */
export type ShimLine =
  | { service: 'network-shim'; event: 'listening'; egress: Record<string, { host: string; port: number; proxyUrl: string }> }
  | { service: 'network-shim'; event: 'flow'; flow: NetworkEvent }
  /** Printed on SIGUSR2: every flow printed before it is already out (what a runtime waits for to collect them all). */
  | { service: 'network-shim'; event: 'mark'; n: number }
  /** The answer to update `n` (ShimUpdate): applied, or refused with why (nothing of it applied then). */
  | { service: 'network-shim'; event: 'updated'; n: number }
  | { service: 'network-shim'; event: 'update-failed'; n: number; error: string };

export interface StartedShim extends AsyncDisposable {
  readonly network: StartedNetwork;
  /** Each node's egress address. */
  readonly egress: Record<string, { host: string; port: number; proxyUrl: string }>;
  /**
   * Applies a ShimUpdate (validated here; throws a coded NetworkError and applies nothing when any
   * part is bad: ERR_NETWORK_CONFIG, ERR_FIREWALL_CONFIG, ERR_UNKNOWN_NODE): the next flow is judged by the new rules. Returns its `n`.
   */
  update(update: unknown): number;
  close(): Promise<void>;
}

/**
 * Starts the network shim from a ShimConfig (validated here): one egress per node, bound where the
 * config says, forwarding to services wherever they are (other containers included).
 * `addresses` lists this host's IPv4 addresses (default: its network interfaces).
 *
 * @example
 * await using shim = await startShim({ nodes: [{ identity, firewall, bind: { address: '127.0.0.1' } }], proxyPort: 0 });
 * shim.egress['claude-worker'].proxyUrl; // http://127.0.0.1:40123
 */
export async function startShim(config: unknown, addresses: string[] = localAddresses()): Promise<StartedShim> {
  const parsed = ShimConfigSchema.safeParse(config);
  if (!parsed.success) {
    throw new NetworkError('ERR_NETWORK_CONFIG', `network shim config: ${z.prettifyError(parsed.error)}`);
  }
  const { nodes, proxyPort, namePorts, dropHoldMs, nebula } = parsed.data;
  const listen = new Map<string, EgressListen>();
  for (const node of nodes) {
    const host = 'subnet' in node.bind ? addressIn(node.bind.subnet, addresses, node.identity.name) : node.bind.address;
    listen.set(node.identity.name, { host, port: proxyPort, namePorts });
  }
  const network = await startNetwork({
    nodes: nodes.map((node) => ({
      identity: node.identity,
      firewall: parseFirewall(node.firewall ?? {}, { source: `node ${node.identity.name}`, nebula }),
      services: node.services.map((service) => ({ ...service })),
    })),
    dropHoldMs,
    remoteTargets: true,
    listen: (name) => listen.get(name)!,
  });
  const egress = Object.fromEntries(
    nodes.map(({ identity: { name } }) => {
      const { proxyUrl, port } = network.egress(name);
      return [name, { host: listen.get(name)!.host, port, proxyUrl }];
    }),
  );
  const update = (raw: unknown): number => {
    const parsedUpdate = ShimUpdateSchema.safeParse(raw);
    if (!parsedUpdate.success) throw new NetworkError('ERR_NETWORK_CONFIG', `network shim update: ${z.prettifyError(parsedUpdate.error)}`);
    const { n, nodes: changed, nebula: version, reset } = parsedUpdate.data;
    // Parse every firewall before touching anything: a bad one leaves the shim as it was.
    const parsedNodes = changed.map((node) => {
      network.names.node(node.identity.name);
      return { name: node.identity.name, identity: node.identity, firewall: parseFirewall(node.firewall ?? {}, { source: `node ${node.identity.name}`, nebula: version }) };
    });
    if (reset) network.reset();
    for (const node of parsedNodes) network.names.updateNode(node.name, { identity: node.identity, firewall: node.firewall });
    return n;
  };
  return { network, egress, update, close: () => network.close(), [Symbol.asyncDispose]: () => network.close() };
}

function addressIn(subnet: string, addresses: string[], node: string): string {
  const prefix = parsePrefix(subnet);
  if (typeof prefix === 'string') throw new NetworkError('ERR_NETWORK_CONFIG', `node ${node}: ${prefix}`);
  const address = addresses.find((candidate) => prefix.contains(candidate));
  if (!address) {
    throw new NetworkError(
      'ERR_NETWORK_CONFIG',
      `node ${node}: the shim has no address in ${subnet} (its addresses: ${addresses.join(', ') || 'none'}); is it attached to that node's network?`,
    );
  }
  return address;
}

function localAddresses(): string[] {
  return Object.values(os.networkInterfaces())
    .flatMap((entries) => entries ?? [])
    .filter((entry) => entry.family === 'IPv4')
    .map((entry) => entry.address);
}
