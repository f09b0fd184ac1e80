import { proxiedFetch, type LogEntry } from '../../common/index.ts';
import { connectWorker, type WorkerReport } from '../client/index.ts';
import { workerTimeoutMs } from './runtime.ts';
import { startNetwork, type StartedNetwork } from '../network/index.ts';
import type { Topology, TopologyNode } from '../topology/index.ts';
import { RuntimeError } from './errors.ts';
import type { Runtime, RuntimeOptions, StartedTopology } from './runtime.ts';
import { startNodeService, type StartedNodeService } from './services.ts';
import { mintWorkerTokens } from './tokens.ts';

/**
 * The default runtime: every node's service in this process on a loopback port, every node's
 * outbound traffic through its own egress on the network shim.
 *
 * @example
 * await using running = await inProcessRuntime.start(scenario.topology);
 * const report = await running.runWorker();
 */
export const inProcessRuntime: Runtime = {
  name: 'inprocess',
  async start(topology: Topology, options: RuntimeOptions = {}): Promise<StartedTopology> {
    const brought = topology.nodes.filter((node) => node.container);
    if (brought.length > 0) {
      throw new RuntimeError(
        'ERR_RUNTIME_NEEDS_CONTAINERS',
        `${brought.map((node) => node.name).join(', ')} ${brought.length > 1 ? 'bring their own servers' : 'brings its own server'} (image/command): run this scenario with --runtime containers`,
      );
    }
    const network = await startNetwork({
      nodes: topology.nodes.map((node) => ({ identity: node.identity, firewall: node.firewall })),
      // A dropped flow fails at the scenario's bound; the worker itself waits up to its MCP_TIMEOUT.
      dropHoldMs: topology.timeoutMs,
      ...(options.clock ? { clock: options.clock } : {}),
    });
    const services = new Map<string, StartedNodeService>();
    const close = async () => {
      await Promise.allSettled([...services.values()].map((service) => service.close()));
      await network.close();
    };
    try {
      await Promise.all(
        topology.nodes
          .filter((node) => node.run !== 'worker')
          .map(async (node) => {
            const service = await startNodeService(node, {
              fetch: proxiedFetch(network.egress(node.name).proxyUrl),
              clock: options.clock,
            });
            services.set(node.name, service);
            registerService(network, node, service.port);
          }),
      );
    } catch (error) {
      await close();
      throw new RuntimeError('ERR_RUNTIME_START', `could not start the topology: ${(error as Error).message}`, { cause: error });
    }
    return {
      topology,
      runWorker: () => runWorker(topology, network, services),
      networkEvents: () => network.events,
      serviceLog: (node: string): readonly LogEntry[] => services.get(node)?.log.entries ?? [],
      close,
      [Symbol.asyncDispose]: close,
    };
  },
};

function registerService(network: StartedNetwork, node: TopologyNode, port: number): void {
  const service = node.service!;
  network.addService(node.name, { name: service.host, aliases: service.aliases, port: service.port, target: { host: '127.0.0.1', port } });
}

async function runWorker(
  topology: Topology,
  network: StartedNetwork,
  services: Map<string, StartedNodeService>,
): Promise<WorkerReport> {
  const worker = topology.nodes.find((node) => node.run === 'worker')!;
  const spec = worker.worker!;
  const env = { ...spec.env, ...(await mintTokens(topology, services)) };
  return connectWorker({
    servers: spec.servers,
    env,
    fetch: proxiedFetch(network.egress(worker.name).proxyUrl),
    timeoutMs: workerTimeoutMs(topology),
    ...(spec.settings ? { settings: spec.settings } : {}),
  });
}

function mintTokens(topology: Topology, services: Map<string, StartedNodeService>): Promise<Record<string, string>> {
  return mintWorkerTokens(topology, (auth) => services.get(auth.name)?.mint);
}
