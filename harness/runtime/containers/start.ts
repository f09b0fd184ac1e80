import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { Wait, type ContainerRuntimeClient } from 'testcontainers';
import { isHarnessError, type LogEntry } from '../../../common/index.ts';
import { runBoxUntilLine, WorkerReportSchema, workerLaunch, type WorkerBox, type WorkerClient, type WorkerLaunch, type WorkerReport } from '../../client/index.ts';
import type { NetworkEvent } from '../../network/index.ts';
import type { Topology } from '../../topology/index.ts';
import { RuntimeError } from '../errors.ts';
import { workerTimeoutMs, type RuntimeOptions, type StartedNode, type StartedTopology, type TopologyEventListener } from '../runtime.ts';
import { adminApiMint, mintWorkerTokens } from '../tokens.ts';
import { dockerClient, HarnessContainer, HttpAnswerWait, reaperLabels, removeLabelled, requireImage } from './docker.ts';
import { LineCollector } from './lines.ts';
import { DEFAULT_IMAGE, NODE_LABEL, planTopology, RUN_LABEL, type NodeContainerPlan, type TopologyPlan } from './plan.ts';
import { interruptedBy, SESSION_ID, trackRun, whilePending } from './signals.ts';
import { workerBox } from './worker-container.ts';

/** How long a container may take to say it is ready (node loading its modules on a busy 2-core machine). */
const STARTUP_TIMEOUT_MS = 60_000;
/** How long the shim may take to print a mark once asked. */
const MARK_TIMEOUT_MS = 10_000;

/** A counting semaphore: at most `size` holders; the others wait in order. */
class Slots {
  readonly #size: number;
  #held = 0;
  readonly #queue: (() => void)[] = [];

  constructor(size: number) {
    this.#size = size;
  }

  async acquire(): Promise<() => void> {
    if (this.#held >= this.#size) await new Promise<void>((resolve) => this.#queue.push(resolve));
    else this.#held++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#queue.shift();
      if (next) next();
      else this.#held--;
    };
  }
}

/** Topologies up at once in this process: each is 5-6 node processes, and Docker's address pools are finite. */
const slots = new Slots(Number(process.env.MTH_CONTAINERS_CONCURRENCY) || Math.max(2, Math.min(4, os.availableParallelism())));

/** What the containers runtime starts with; the image can be overridden (HARNESS_IMAGE) for a build of one's own. */
export interface ContainersStartOptions extends RuntimeOptions {
  image?: string;
}

/** A topology up in containers: what every runtime gives, plus where each node runs (for `docker exec` in tests and by hand). */
export interface StartedContainersTopology extends StartedTopology {
  /** The run's id: every container and network of it has the label `mcp-topology-harness.run=<runId>`. */
  readonly runId: string;
  /** The container of a service node (the worker's container exists only while runWorker runs). */
  containerName(node: string): string;
  /** The network shim's container. */
  readonly shimName: string;
  /** The worker node's box: each command a fresh container on the worker's network (what runWorker and `harness up --exec` use). */
  readonly workerBox: WorkerBox;
}

/**
 * Brings a topology up in Docker: a network per node, the shim on all of them, a container per
 * service, each awaited by its log line (or HTTP for a server the scenario brings); the worker
 * runs in its own container when asked. Everything carries the harness's labels and goes on close().
 * Used through `containersRuntime.start`, which loads this module (and testcontainers) on first use.
 *
 * @example
 * await using running = await startContainersTopology(scenario.topology);
 * const report = await running.runWorker();
 * running.networkEvents(); // the shim's decisions, as in-process
 */
export async function startContainersTopology(topology: Topology, options: ContainersStartOptions = {}): Promise<StartedContainersTopology> {
  if (options.clock) {
    throw new RuntimeError('ERR_RUNTIME_START', 'the containers runtime runs on real time: a Clock cannot reach into containers');
  }
  const docker = await dockerClient();
  const image = options.image ?? process.env.HARNESS_IMAGE ?? DEFAULT_IMAGE;
  await requireImage(docker, image, 'build it with docker/build-images.sh (see docker/README.md)');
  const release = await slots.acquire();
  const plan = planTopology(topology, { runId: randomBytes(4).toString('hex'), sessionId: SESSION_ID, image });
  const untrack = trackRun(plan.runId, docker);
  const shim = new LineCollector();
  const logs = new Map(plan.services.map((service) => [service.node, new LineCollector()]));
  /** Host ports (on 127.0.0.1) of published container ports, by node. */
  const ports = new Map<string, number>();
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      shim.close();
      for (const collector of logs.values()) collector.close();
      try {
        await removeLabelled(docker, [`${RUN_LABEL}=${plan.runId}`]);
      } finally {
        untrack();
        release();
      }
    })();
    return closing;
  };

  try {
    await whilePending(bringUp(docker, plan, image, shim, logs, ports));
  } catch (error) {
    await close().catch(() => {});
    if (error instanceof RuntimeError) throw error;
    throw new RuntimeError('ERR_RUNTIME_START', `could not start the topology in containers: ${(error as Error).message}`, { cause: error });
  }

  let marks = 0;
  const box = workerBox(docker, plan, image);
  const flows = (): NetworkEvent[] => shim.json.filter((line) => line.event === 'flow').map((line) => line.flow as NetworkEvent);
  return {
    topology,
    runId: plan.runId,
    shimName: plan.shimName,
    workerBox: box,
    containerName(node: string) {
      const service = plan.services.find((candidate) => candidate.node === node);
      if (!service) throw new RuntimeError('ERR_RUNTIME_UNKNOWN', `no service node named ${node} (nodes: ${plan.services.map((candidate) => candidate.node).join(', ')})`);
      return service.name;
    },
    nodes: () =>
      topology.nodes.map((node): StartedNode => {
        const published = ports.get(node.name);
        return {
          name: node.name,
          run: node.run,
          egressProxyUrl: `http://${plan.shimName}:${plan.proxyPort}`,
          serviceUrl: node.service ? `http://${node.service.host}:${node.service.port}` : undefined,
          localUrl: published === undefined ? undefined : `http://127.0.0.1:${published}`,
        };
      }),
    worker: () => launchWorker(topology, plan, ports),
    async runWorker(client?: WorkerClient) {
      if (client && client.name !== 'simulated' && !client.runInBox) {
        throw new RuntimeError('ERR_RUNTIME_CLIENT', `${client.name} cannot run in the worker's container; run it with --runtime inprocess`);
      }
      try {
        const report = await whilePending(
          client && client.name !== 'simulated' ? client.runInBox!(await launchWorker(topology, plan, ports), box) : runWorker(topology, plan, box, ports),
        );
        // Every decision the shim printed before this mark is in: the report is diagnosed against all of them.
        const n = ++marks;
        await docker.container.dockerode.getContainer(plan.shimName).kill({ signal: 'SIGUSR2' });
        await shim.waitFor((line) => line.event === 'mark' && line.n === n, MARK_TIMEOUT_MS, "the network shim's mark");
        return report;
      } catch (error) {
        if (isHarnessError(error)) throw error;
        throw new RuntimeError('ERR_RUNTIME_WORKER', `the worker's run in containers failed: ${(error as Error).message}`, { cause: error });
      }
    },
    update: () =>
      Promise.reject(new RuntimeError('ERR_RUNTIME_UPDATE', 'the containers runtime does not apply live edits yet: restart harness up, or use --runtime inprocess')),
    networkEvents: flows,
    onEvent(listener: TopologyEventListener) {
      const stops = [
        shim.onLine((line) => {
          if (line.event === 'flow') listener({ kind: 'flow', flow: line.flow as NetworkEvent });
        }),
        ...[...logs].map(([node, collector]) =>
          collector.onLine((line) => {
            if (typeof line.event === 'string' && typeof line.time === 'string') listener({ kind: 'log', node, entry: line as LogEntry });
          }),
        ),
      ];
      return () => {
        for (const stop of stops) stop();
      };
    },
    serviceLog: (node: string): readonly LogEntry[] =>
      (logs.get(node)?.json ?? []).filter((line): line is LogEntry => typeof line.event === 'string' && typeof line.time === 'string'),
    close,
    [Symbol.asyncDispose]: close,
  };
}

async function bringUp(
  docker: ContainerRuntimeClient,
  plan: TopologyPlan,
  image: string,
  shim: LineCollector,
  logs: Map<string, LineCollector>,
  ports: Map<string, number>,
): Promise<void> {
  const reaper = await reaperLabels(docker);
  const subnets: Record<string, string> = {};
  await Promise.all(
    plan.networks.map(async (network) => {
      checkInterrupted();
      const created = await docker.network
        .create({
          Name: network.name,
          Driver: 'bridge',
          Internal: network.internal,
          CheckDuplicate: true,
          Labels: { ...plan.labels, ...reaper, [NODE_LABEL]: network.node },
        })
        .catch((error: unknown) => {
          const message = (error as Error).message;
          // Docker's default pools hold about 30 networks; each topology takes one per node.
          const hint = /address pool/i.test(message)
            ? ' (Docker ran out of network address pools: lower MTH_CONTAINERS_CONCURRENCY, or remove leftovers: docker network prune)'
            : '';
          throw new Error(`could not create the network of ${network.node}: ${message}${hint}`, { cause: error });
        });
      const info = await created.inspect();
      const subnet = (info as { IPAM?: { Config?: { Subnet?: string }[] } }).IPAM?.Config?.[0]?.Subnet;
      if (!subnet) throw new Error(`network ${network.name} has no IPv4 subnet`);
      subnets[network.node] = subnet;
    }),
  );
  checkInterrupted();
  const shimStart = new HarnessContainer(image)
    .withName(plan.shimName)
    .withCommand(['node', 'harness/network/main.ts'])
    .withEnvironment({ NETWORK_SHIM_CONFIG: JSON.stringify(plan.shimConfig(subnets)) })
    .withLabels({ ...plan.labels, [NODE_LABEL]: '(shim)' })
    .onNetworks(plan.networks.map((network) => ({ name: network.name, aliases: network.shimAliases })))
    .withLogConsumer((stream) => shim.attach(stream))
    .withWaitStrategy(Wait.forLogMessage(/"event":"listening"/))
    .withStartupTimeout(STARTUP_TIMEOUT_MS)
    .start()
    .catch((error: unknown) => {
      throw new Error(`the network shim did not start: ${shim.tail() || (error as Error).message}`, { cause: error });
    });
  await Promise.all([
    shimStart,
    ...plan.services.map((service) => startService(service, plan, logs.get(service.node)!, ports)),
  ]);
}

async function startService(service: NodeContainerPlan, plan: TopologyPlan, log: LineCollector, ports: Map<string, number>): Promise<void> {
  checkInterrupted();
  let container = new HarnessContainer(service.image)
    .withName(service.name)
    .withEnvironment(service.env)
    .withLabels({ ...plan.labels, [NODE_LABEL]: service.node })
    .onNetworks([{ name: service.network, aliases: [] }])
    .withLogConsumer((stream) => log.attach(stream))
    .withStartupTimeout(STARTUP_TIMEOUT_MS);
  if (service.command) container = container.withCommand(service.command);
  if (service.publish !== undefined) container = container.withExposedPorts(service.publish);
  container = container.withWaitStrategy(
    'log' in service.ready
      ? Wait.forLogMessage(new RegExp(service.ready.log))
      : new HttpAnswerWait(service.ready.http, service.publish!),
  );
  try {
    const started = await container.start();
    if (service.publish !== undefined) ports.set(service.node, started.getMappedPort(service.publish));
  } catch (error) {
    const what = service.brought ? `${service.node} (${service.image}${service.command ? ` ${service.command.join(' ')}` : ''})` : service.node;
    throw new Error(`${what} did not become ready: ${log.tail() || (error as Error).message}`, { cause: error });
  }
}

async function launchWorker(topology: Topology, plan: TopologyPlan, ports: Map<string, number>): Promise<WorkerLaunch> {
  const worker = topology.nodes.find((node) => node.run === 'worker')!;
  const spec = worker.worker!;
  return workerLaunch({
    node: worker.name,
    servers: spec.servers,
    env: { ...spec.env, ...(await mintTokens(topology, plan, ports)) },
    egressProxyUrl: `http://${plan.shimName}:${plan.proxyPort}`,
    timeoutMs: workerTimeoutMs(topology),
    settings: spec.settings,
    revision: spec.revision,
  });
}

/** The simulated worker (harness/client/main.ts) in the worker's box, with the files and env the plan gives it. */
async function runWorker(topology: Topology, plan: TopologyPlan, box: WorkerBox, ports: Map<string, number>): Promise<WorkerReport> {
  const tokens = await mintTokens(topology, plan, ports);
  const spec = plan.worker;
  // The worker connects to its servers at once, each within its MCP_TIMEOUT.
  const line = await runBoxUntilLine(box, { argv: spec.command!, env: { ...spec.env, ...tokens }, files: spec.files }, (entry) => entry.type === 'harness_report', {
    timeoutMs: STARTUP_TIMEOUT_MS + workerTimeoutMs(topology),
    what: 'the worker container did not report',
  }).catch((error: unknown) => {
    throw new RuntimeError('ERR_RUNTIME_WORKER', (error as Error).message, { cause: error });
  });
  const report = WorkerReportSchema.safeParse(line.report);
  if (!report.success) throw new RuntimeError('ERR_RUNTIME_WORKER', `the worker printed a report the harness cannot read: ${report.error.message}`);
  return report.data;
}

/** The worker's tokens from the auth server's admin API (TEST-ONLY, published on 127.0.0.1 for this). */
function mintTokens(topology: Topology, plan: TopologyPlan, ports: Map<string, number>): Promise<Record<string, string>> {
  return mintWorkerTokens(topology, (authNode) => {
    const auth = plan.services.find((service) => service.node === authNode.name);
    const port = auth && ports.get(auth.node);
    return auth && !auth.brought && port !== undefined ? adminApiMint(`http://127.0.0.1:${port}`) : undefined;
  });
}

function checkInterrupted(): void {
  const signal = interruptedBy();
  if (signal) throw new RuntimeError('ERR_RUNTIME_START', `interrupted by ${signal}`);
}
