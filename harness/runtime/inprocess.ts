import { isVirtualClock, proxiedFetch, type Fetch, type LogEntry, type TimerClock } from '../../common/index.ts';
import { simulatedClient, workerLaunch, type WorkerClient, type WorkerLaunch } from '../client/index.ts';
import { workerTimeoutMs } from './runtime.ts';
import { startNetwork, type StartedNetwork } from '../network/index.ts';
import type { Topology, TopologyNode } from '../topology/index.ts';
import { RuntimeError } from './errors.ts';
import type { Runtime, RuntimeOptions, StartedNode, StartedTopology, TopologyEvent, TopologyEventListener, TopologyProbe, TopologyUpdate } from './runtime.ts';
import { FlowAccounting } from './flow-accounting.ts';
import { startNodeService, type StartedNodeService } from './services.ts';
import { mintWorkerTokens } from './tokens.ts';
import { planUpdate } from './update-plan.ts';

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
    // On a virtual clock, every node's requests are counted so that the clock knows when only deadlines are left.
    let resolveNode: (host: string, port: number) => string | undefined = () => undefined;
    const accounting = isVirtualClock(options.clock) ? new FlowAccounting(options.clock, (host, port) => resolveNode(host, port)) : undefined;
    const network = await startNetwork({
      nodes: topology.nodes.map((node) => ({ identity: node.identity, firewall: node.firewall })),
      // A dropped flow fails at the scenario's bound; the worker itself waits up to its MCP_TIMEOUT.
      dropHoldMs: topology.timeoutMs,
      ...(options.clock ? { clock: options.clock } : {}),
      ...(accounting ? { onHold: accounting.onHold } : {}),
    });
    resolveNode = (host, port) => network.names.resolve(host, port)?.node;
    const fetchOf = (node: string): Fetch => {
      const fetch = proxiedFetch(network.egress(node).proxyUrl);
      return accounting ? accounting.fetchOf(node, fetch) : fetch;
    };
    const services = new Map<string, StartedNodeService>();
    const listeners = new Set<TopologyEventListener>();
    const emit = (event: TopologyEvent) => {
      for (const listener of [...listeners]) listener(event);
    };
    network.onEvent((flow) => emit({ kind: 'flow', flow }));
    const close = async () => {
      await Promise.allSettled([...services.values()].map((service) => service.close()));
      await network.close();
      accounting?.close();
    };
    const startService = async (node: TopologyNode) => {
      const service = await startNodeService(node, {
        fetch: fetchOf(node.name),
        clock: accounting ? accounting.clockOf(node.name) : options.clock,
      });
      services.set(node.name, service);
      service.log.onEntry((entry) => emit({ kind: 'log', node: node.name, entry }));
      return service;
    };
    try {
      await Promise.all(
        topology.nodes
          .filter((node) => node.run !== 'worker')
          .map(async (node) => registerService(network, node, (await startService(node)).port)),
      );
    } catch (error) {
      await close();
      throw new RuntimeError('ERR_RUNTIME_START', `could not start the topology: ${(error as Error).message}`, { cause: error });
    }
    let current = topology;
    const worker = () => launchWorker(current, network, services, accounting ? { fetch: fetchOf, clock: options.clock as TimerClock } : undefined);
    const update = async (next: Topology): Promise<TopologyUpdate> => {
      const plan = planUpdate(current, next);
      for (const node of plan.network) network.names.updateNode(node.name, { identity: node.identity, firewall: node.firewall });
      for (const node of plan.restarted) {
        await services.get(node.name)?.close();
        services.delete(node.name);
        const service = await startService(node).catch((error: unknown) => {
          throw new RuntimeError('ERR_RUNTIME_START', `${node.name} did not restart: ${(error as Error).message}`, { cause: error });
        });
        network.names.retarget(node.name, node.service!.port, { host: '127.0.0.1', port: service.port });
      }
      current = next;
      return { network: plan.network.map((node) => node.name), restarted: plan.restarted.map((node) => node.name), worker: plan.worker };
    };
    return {
      get topology() {
        return current;
      },
      nodes: () => current.nodes.map((node) => startedNode(node, network, services)),
      worker,
      runWorker: async (client: WorkerClient = simulatedClient) => client.run(await worker()),
      update,
      networkEvents: () => network.events,
      onEvent: (listener: TopologyEventListener) => {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
      serviceLog: (node: string): readonly LogEntry[] => services.get(node)?.log.entries ?? [],
      probe: probeOf(topology, network, services),
      close,
      [Symbol.asyncDispose]: close,
    };
  },
};

function probeOf(topology: Topology, network: StartedNetwork, services: Map<string, StartedNodeService>): TopologyProbe {
  const authNode = topology.nodes.find((node) => node.run === 'auth-server');
  const auth = authNode && services.get(authNode.name);
  return {
    fetchAs: (node) => proxiedFetch(network.egress(node).proxyUrl),
    resolve: (host, port) => network.names.resolve(host, port),
    ...(auth?.mintWith ? { mint: auth.mintWith } : {}),
  };
}

function registerService(network: StartedNetwork, node: TopologyNode, port: number): void {
  const service = node.service!;
  network.addService(node.name, { name: service.host, aliases: service.aliases, port: service.port, target: { host: '127.0.0.1', port } });
}

function startedNode(node: TopologyNode, network: StartedNetwork, services: Map<string, StartedNodeService>): StartedNode {
  const service = services.get(node.name);
  return {
    name: node.name,
    run: node.run,
    egressProxyUrl: network.egress(node.name).proxyUrl,
    serviceUrl: node.service ? `http://${node.service.host}:${node.service.port}` : undefined,
    localUrl: service ? `http://127.0.0.1:${service.port}` : undefined,
  };
}

async function launchWorker(
  topology: Topology,
  network: StartedNetwork,
  services: Map<string, StartedNodeService>,
  local: { fetch: (node: string) => Fetch; clock: TimerClock } | undefined,
): Promise<WorkerLaunch> {
  const worker = topology.nodes.find((node) => node.run === 'worker')!;
  const spec = worker.worker!;
  return workerLaunch({
    node: worker.name,
    servers: spec.servers,
    env: { ...spec.env, ...(await mintTokens(topology, services)) },
    egressProxyUrl: network.egress(worker.name).proxyUrl,
    timeoutMs: workerTimeoutMs(topology),
    settings: spec.settings,
    revision: spec.revision,
    ...(local ? { local: { fetch: local.fetch(worker.name), clock: local.clock } } : {}),
  });
}

function mintTokens(topology: Topology, services: Map<string, StartedNodeService>): Promise<Record<string, string>> {
  return mintWorkerTokens(topology, (auth) => services.get(auth.name)?.mint);
}
