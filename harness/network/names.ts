import net from 'node:net';
import { parsePrefix } from './cidr.ts';
import { NetworkError } from './errors.ts';
import type { Firewall } from './firewall.ts';
import type { NodeIdentity } from './identity.ts';

/**
 * A service a node serves: reachable on the overlay as `name:port`, really listening at `target`
 * (on loopback, unless the registry was made with `remoteTargets`).
 */
export interface NetworkService {
  /** Consul name, e.g. `monitoring-mcp.service.dev-us-east-1.consul`. */
  name: string;
  /** Other names that reach the same service, e.g. a non-Consul DNS name a config uses. */
  aliases?: string[];
  /** Overlay port clients dial, e.g. 8000. */
  port: number;
  /** Where the service really listens, e.g. `{ host: '127.0.0.1', port: 40123 }` (loopback unless `remoteTargets`). */
  target: { host: string; port: number };
}

export interface NameRegistryOptions {
  /**
   * Accept service targets that are not loopback addresses, e.g. `{ host: 'mth-3f2a-monitoring-mcp', port: 8000 }`:
   * the containers runtime's shim forwards to other containers of the same topology. Default false:
   * in one process every service listens on loopback, and anything else is a mistake.
   */
  remoteTargets?: boolean;
}

export interface NetworkNode {
  identity: NodeIdentity;
  firewall: Firewall;
  services?: NetworkService[];
}

/** What a name (consul name, node name or overlay IP) stands for. */
export interface Resolution {
  node: string;
  ip: string;
  /** `subnet`: an address inside a node's unsafe network (its certificate's `subnets`); `ip` is that address. */
  kind: 'consul' | 'node' | 'ip' | 'subnet';
  /** The consul name, when resolved through one. */
  service?: string;
  /** Where a connection to the asked port goes; absent when nothing listens there. */
  target?: { host: string; port: number };
}

/**
 * The overlay's DNS: Consul-style service names (`<service>.service.<dc>.consul`), node names and
 * overlay IPs, each to its node and, for a port, to the real loopback address behind it.
 *
 * @example
 * const names = createNames(nodes);
 * names.resolve('monitoring-mcp.service.dev-us-east-1.consul', 8000);
 * // { node: 'monitoring-mcp', ip: '10.10.0.7', kind: 'consul', service: '...', target: { host: '127.0.0.1', port: 40123 } }
 */
export class NameRegistry {
  readonly #nodes = new Map<string, NetworkNode>();
  readonly #byIp = new Map<string, string>();
  readonly #services = new Map<string, { node: string; services: NetworkService[] }>();
  readonly #remoteTargets: boolean;

  constructor(nodes: NetworkNode[] = [], options: NameRegistryOptions = {}) {
    this.#remoteTargets = options.remoteTargets ?? false;
    for (const node of nodes) this.addNode(node);
  }

  /** Adds a node and its services; throws ERR_NETWORK_CONFIG on a duplicate name or IP. */
  addNode(node: NetworkNode): void {
    const { name, ip } = node.identity;
    if (this.#nodes.has(name)) throw new NetworkError('ERR_NETWORK_CONFIG', `two nodes are named ${name}`);
    const other = this.#byIp.get(ip);
    if (other) throw new NetworkError('ERR_NETWORK_CONFIG', `nodes ${other} and ${name} both have overlay IP ${ip}`);
    this.#nodes.set(name, { ...node, services: [] });
    this.#byIp.set(ip, name);
    for (const service of node.services ?? []) this.addService(name, service);
  }

  /** Registers a service of `node`; its target must be a loopback address unless the registry allows remote targets. */
  addService(nodeName: string, service: NetworkService): void {
    const node = this.node(nodeName);
    const key = normalise(service.name);
    if (!this.#remoteTargets && !isLoopback(service.target.host)) {
      throw new NetworkError('ERR_NETWORK_CONFIG', `service ${service.name} of ${nodeName}: target ${service.target.host} is not a loopback address`);
    }
    if (!validPort(service.port) || !validPort(service.target.port)) {
      throw new NetworkError('ERR_NETWORK_CONFIG', `service ${service.name} of ${nodeName}: ports must be 1-65535`);
    }
    const keys = [key, ...(service.aliases ?? []).map(normalise)];
    for (const name of keys) {
      const entry = this.#services.get(name);
      if (entry && entry.node !== nodeName) {
        throw new NetworkError('ERR_NETWORK_CONFIG', `service ${name} is served by both ${entry.node} and ${nodeName}`);
      }
    }
    const clash = node.services?.find((s) => s.port === service.port);
    if (clash) {
      throw new NetworkError('ERR_NETWORK_CONFIG', `${nodeName} port ${service.port} is already taken by ${clash.name}`);
    }
    node.services?.push(service);
    for (const name of keys) {
      const entry = this.#services.get(name);
      if (entry) entry.services.push(service);
      else this.#services.set(name, { node: nodeName, services: [service] });
    }
  }

  /** The node named `name`; throws ERR_UNKNOWN_NODE. */
  node(name: string): NetworkNode {
    const node = this.#nodes.get(name);
    if (!node) throw new NetworkError('ERR_UNKNOWN_NODE', `no node named ${name} (nodes: ${[...this.#nodes.keys()].join(', ')})`);
    return node;
  }

  nodeNames(): string[] {
    return [...this.#nodes.keys()];
  }

  /**
   * Replaces a node's certificate (identity) and firewall while the network runs, as a redeploy
   * with a new config and certificate would: every flow from then on is judged by them. Its services stay.
   *
   * @example
   * network.names.updateNode('claude-worker', { identity, firewall: parseFirewall(config) });
   */
  updateNode(name: string, update: { identity: NodeIdentity; firewall: Firewall }): void {
    const node = this.node(name);
    if (update.identity.name !== name) throw new NetworkError('ERR_NETWORK_CONFIG', `node ${name} cannot be renamed ${update.identity.name} while it runs`);
    const other = this.#byIp.get(update.identity.ip);
    if (other !== undefined && other !== name) throw new NetworkError('ERR_NETWORK_CONFIG', `nodes ${other} and ${name} both have overlay IP ${update.identity.ip}`);
    this.#byIp.delete(node.identity.ip);
    this.#byIp.set(update.identity.ip, name);
    node.identity = update.identity;
    node.firewall = update.firewall;
  }

  /** Points the service of `nodeName` on overlay `port` at a new target (its process restarted elsewhere). */
  retarget(nodeName: string, port: number, target: NetworkService['target']): void {
    const service = this.node(nodeName).services?.find((candidate) => candidate.port === port);
    if (!service) throw new NetworkError('ERR_UNKNOWN_NODE', `${nodeName} serves nothing on port ${port}`);
    if (!this.#remoteTargets && !isLoopback(target.host)) {
      throw new NetworkError('ERR_NETWORK_CONFIG', `service ${service.name} of ${nodeName}: target ${target.host} is not a loopback address`);
    }
    service.target = { ...target };
  }

  /** What `host` stands for, or undefined when no node answers to it (a DNS failure). */
  resolve(host: string, port?: number): Resolution | undefined {
    const key = normalise(host);
    const consul = this.#services.get(key);
    if (consul) {
      const node = this.node(consul.node);
      const service = port === undefined ? undefined : consul.services.find((s) => s.port === port);
      return withTarget({ node: consul.node, ip: node.identity.ip, kind: 'consul', service: consul.services[0]?.name ?? host }, service);
    }
    const byName = this.#nodes.get(key) ?? this.#nodes.get(host);
    const byIp = this.#byIp.get(key);
    const node = byName ?? (byIp === undefined ? undefined : this.#nodes.get(byIp));
    if (!node) return this.#resolveSubnet(key, port);
    const service = port === undefined ? undefined : node.services?.find((s) => s.port === port);
    return withTarget({ node: node.identity.name, ip: node.identity.ip, kind: byName ? 'node' : 'ip' }, service);
  }

  /**
   * An address in a node's unsafe network reaches that node, which routes it. There is no host
   * behind the router in the stand-in: the router's own service on that port answers for it.
   */
  #resolveSubnet(address: string, port: number | undefined): Resolution | undefined {
    if (net.isIP(address) === 0) return undefined;
    for (const node of this.#nodes.values()) {
      for (const subnet of node.identity.subnets ?? []) {
        const prefix = parsePrefix(subnet);
        if (typeof prefix === 'string' || !prefix.contains(address)) continue;
        const service = port === undefined ? undefined : node.services?.find((s) => s.port === port);
        return withTarget({ node: node.identity.name, ip: address, kind: 'subnet' }, service);
      }
    }
    return undefined;
  }
}

/**
 * Same as `new NameRegistry(nodes, options)`.
 *
 * @example
 * createNames([{ identity, firewall, services: [{ name: 'x.service.dc.consul', port: 80, target }] }]);
 */
export function createNames(nodes: NetworkNode[] = [], options: NameRegistryOptions = {}): NameRegistry {
  return new NameRegistry(nodes, options);
}

function withTarget(resolution: Resolution, service: NetworkService | undefined): Resolution {
  if (service) resolution.target = { ...service.target };
  return resolution;
}

/** DNS names are case-insensitive and may end with the root dot. */
function normalise(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

function validPort(port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= 65535;
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (net.isIPv4(host)) return host.startsWith('127.');
  return host === '::1' || host === '[::1]';
}
