import os from 'node:os';
import { WORKER_REVISION_ENV, type McpServerConfig } from '../../client/index.ts';
import type { ShimConfig } from '../../network/index.ts';
import type { Ready, Topology, TopologyNode } from '../../topology/index.ts';
import { authServerIssuer } from '../tokens.ts';

/** Every container and network of the harness carries this label (`docker ps --filter label=mcp-topology-harness=1`). */
export const HARNESS_LABEL = 'mcp-topology-harness';
/** The process that started it (a SIGINT handler removes its own only). */
export const SESSION_LABEL = `${HARNESS_LABEL}.session`;
/** The topology it belongs to. */
export const RUN_LABEL = `${HARNESS_LABEL}.run`;
export const NODE_LABEL = `${HARNESS_LABEL}.node`;

/** The image the simulated services, the worker and the shim run from (docker/build-images.sh). */
export const DEFAULT_IMAGE = 'mcp-topology-harness/node:local';

/**
 * How many topologies this process keeps up at once: MTH_CONTAINERS_CONCURRENCY, else the number of
 * cores, 2 to 4 (each is 5-6 node processes, and Docker's address pools are finite).
 */
export function containersConcurrency(): number {
  return Number(process.env.MTH_CONTAINERS_CONCURRENCY) || Math.max(2, Math.min(4, os.availableParallelism()));
}

/** Where the worker's files go inside its container. */
const WORKER_CONFIG_PATH = '/tmp/harness-worker/mcp.json';
const WORKER_SETTINGS_PATH = '/tmp/harness-worker/settings.json';

/** One container of a node (a service, or the worker). */
export interface NodeContainerPlan {
  node: string;
  /** Container name, also its DNS name on its network. */
  name: string;
  image: string;
  /** undefined: the image's own command. */
  command: string[] | undefined;
  env: Record<string, string>;
  /** The node's own Docker network, shared only with the shim. */
  network: string;
  ready: Ready;
  /** Container port published on 127.0.0.1 for the harness (the auth server's admin API, an HTTP readiness probe). */
  publish: number | undefined;
  /** The scenario brought this server (image/command). */
  brought: boolean;
}

export interface NodeNetworkPlan {
  node: string;
  name: string;
  /** No route out and no published ports: only the node and the shim on it. */
  internal: boolean;
  /** Names under which the shim answers on this network: every Consul name, alias and node name of the topology. */
  shimAliases: string[];
}

export interface WorkerPlan extends NodeContainerPlan {
  /** Files to copy into the container before it starts. */
  files: { target: string; content: string }[];
}

/** How a topology maps onto containers: pure data, made before anything starts. */
export interface TopologyPlan {
  runId: string;
  labels: Record<string, string>;
  shimName: string;
  /** Each node's egress port on the shim (every node's on its own address). */
  proxyPort: number;
  /** The services' overlay ports: where the shim takes requests to Consul names. */
  namePorts: number[];
  networks: NodeNetworkPlan[];
  services: NodeContainerPlan[];
  worker: WorkerPlan;
  /** The shim's config once the networks exist (their subnets, by node). */
  shimConfig(subnets: Record<string, string>): ShimConfig;
}

export interface PlanOptions {
  runId: string;
  sessionId: string;
  image?: string;
}

/**
 * Maps a topology onto containers: one per node, each on its own network shared only with the
 * shim, which answers there to the topology's Consul names and forwards to container names. The
 * simulated services get the environment their `main.ts` reads, with the same defaults the
 * in-process runtime applies, so a scenario means the same in both.
 *
 * @example
 * const plan = planTopology(scenario.topology, { runId: 'a1b2c3d4', sessionId: 's1' });
 * plan.services.map((s) => s.name); // ['mth-a1b2c3d4-monitoring-ai-mcp', ...]
 */
export function planTopology(topology: Topology, options: PlanOptions): TopologyPlan {
  const image = options.image ?? DEFAULT_IMAGE;
  const prefix = `mth-${options.runId}`;
  const containerName = (node: string) => `${prefix}-${node}`;
  // Node names never start with a dash: no node's container can be called this.
  const shimName = `${prefix}--shim`;
  const labels = { [HARNESS_LABEL]: '1', [SESSION_LABEL]: options.sessionId, [RUN_LABEL]: options.runId };
  const namePorts = [...new Set(topology.nodes.flatMap((node) => (node.service ? [node.service.port] : [])))].sort((a, b) => a - b);
  let proxyPort = 3128;
  while (namePorts.includes(proxyPort)) proxyPort++;
  const proxyUrl = `http://${shimName}:${proxyPort}`;
  const proxyEnv = { HTTP_PROXY: proxyUrl, http_proxy: proxyUrl };

  const shimAliases = [
    ...new Set(topology.nodes.flatMap((node) => [node.name, ...(node.service ? [node.service.host, ...node.service.aliases] : [])])),
  ].map((name) => name.toLowerCase());
  const worker = topology.nodes.find((node) => node.run === 'worker')!;
  const needsMint = Object.keys(worker.worker!.tokens).length > 0;

  const services = topology.nodes
    .filter((node) => node.run !== 'worker')
    .map((node): NodeContainerPlan => {
      const service = node.service!;
      const base = { node: node.name, name: containerName(node.name), network: containerName(node.name) };
      if (node.container) {
        const { ready } = node.container;
        return {
          ...base,
          image: node.container.image ?? image,
          command: node.container.command,
          // The user's env wins: a server may be told to go without the proxy (Consul names still resolve to the shim).
          env: { PORT: String(node.container.port), ...proxyEnv, HTTPS_PROXY: proxyUrl, https_proxy: proxyUrl, ...node.env },
          ready,
          publish: 'http' in ready ? node.container.port : undefined,
          brought: true,
        };
      }
      return {
        ...base,
        image,
        command: ['node', `mocks/${node.run}/main.ts`],
        env: { ...simulatedEnv(node), PORT: String(service.port), HOST: '0.0.0.0', ...proxyEnv },
        ready: { log: '"event":"listening"' },
        publish: node.run === 'auth-server' && needsMint ? service.port : undefined,
        brought: false,
      };
    });

  const spec = worker.worker!;
  const files = [{ target: WORKER_CONFIG_PATH, content: `${JSON.stringify({ mcpServers: claudeJson(spec.servers) }, null, 2)}\n` }];
  if (spec.settings) files.push({ target: WORKER_SETTINGS_PATH, content: `${JSON.stringify(spec.settings, null, 2)}\n` });
  const workerPlan: WorkerPlan = {
    node: worker.name,
    name: containerName(worker.name),
    network: containerName(worker.name),
    image,
    command: ['node', 'harness/client/main.ts'],
    env: {
      ...spec.env,
      WORKER_CONFIG: WORKER_CONFIG_PATH,
      WORKER_CONFIG_FORMAT: 'claude-json',
      ...(spec.settings ? { WORKER_SETTINGS: WORKER_SETTINGS_PATH } : {}),
      ...(spec.revision ? { [WORKER_REVISION_ENV]: spec.revision } : {}),
      ...proxyEnv,
    },
    ready: { log: '"type":"harness_report"' },
    publish: undefined,
    brought: false,
    files,
  };

  const published = new Set(services.filter((plan) => plan.publish !== undefined).map((plan) => plan.node));
  const networks = topology.nodes.map((node) => ({
    node: node.name,
    name: containerName(node.name),
    internal: !published.has(node.name),
    shimAliases,
  }));

  return {
    runId: options.runId,
    labels,
    shimName,
    proxyPort,
    namePorts,
    networks,
    services,
    worker: workerPlan,
    shimConfig: (subnets) => ({
      nodes: topology.nodes.map((node) => ({
        identity: node.identity,
        firewall: node.firewallConfig ?? {},
        services: node.service
          ? [
              {
                name: node.service.host,
                aliases: node.service.aliases,
                port: node.service.port,
                target: { host: containerName(node.name), port: node.container?.port ?? node.service.port },
              },
            ]
          : [],
        bind: { subnet: subnetOf(subnets, node.name) },
      })),
      proxyPort,
      namePorts,
      // As in-process: a dropped flow fails at the scenario's bound.
      dropHoldMs: topology.timeoutMs,
      nebula: topology.nebula,
    }),
  };
}

/** The defaults the in-process runtime applies (harness/runtime/services.ts), written as the env `main.ts` reads. */
function simulatedEnv(node: TopologyNode): Record<string, string> {
  const env = { ...node.env };
  if (node.run === 'auth-server') env.ISSUER = authServerIssuer(node);
  return env;
}

/** The worker's servers as Claude Code's `mcpServers` JSON, which the worker process reads back. */
function claudeJson(servers: McpServerConfig[]): Record<string, unknown> {
  return Object.fromEntries(
    servers.map((server) => [server.name, server.type === 'http' ? { type: 'http', url: server.url, headers: server.headers } : { type: server.type }]),
  );
}

function subnetOf(subnets: Record<string, string>, node: string): string {
  const subnet = subnets[node];
  if (!subnet) throw new Error(`no subnet for the network of ${node}`);
  return subnet;
}
