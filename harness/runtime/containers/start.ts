import { randomBytes } from 'node:crypto';
import { Wait, type ContainerRuntimeClient, type StartedTestContainer } from 'testcontainers';
import { isHarnessError, type LogEntry } from '../../../common/index.ts';
import { WorkerReportSchema, workerLaunch, type WorkerBox, type WorkerClient, type WorkerLaunch, type WorkerReport } from '../../client/index.ts';
import { SHIM_UPDATE_FILE, type NetworkEvent, type ShimUpdate } from '../../network/index.ts';
import { SERVICE_ENV_FILE_ENV, type ServiceEnvFile } from '../../../mocks/shared/index.ts';
import type { Topology, TopologyNode } from '../../topology/index.ts';
import { RuntimeError } from '../errors.ts';
import { workerTimeoutMs, type RuntimeOptions, type StartedNode, type StartedTopology, type TopologyEventListener, type TopologyUpdate } from '../runtime.ts';
import { adminApiMint, mintWorkerTokens } from '../tokens.ts';
import { planUpdate } from '../update-plan.ts';
import { dockerClient, HarnessContainer, HttpAnswerWait, reaperLabels, removeLabelled, requireImage } from './docker.ts';
import { LineCollector } from './lines.ts';
import { containersConcurrency, DEFAULT_IMAGE, NODE_LABEL, planTopology, RUN_LABEL, type NodeContainerPlan, type TopologyPlan } from './plan.ts';
import { interruptedBy, SESSION_ID, trackRun, whilePending } from './signals.ts';
import { workerBox } from './worker-container.ts';

/** How long a container may take to say it is ready (node loading its modules on a busy 2-core machine). */
const STARTUP_TIMEOUT_MS = 60_000;
/** How long the shim may take to print a mark, or to answer an update, once asked. */
const MARK_TIMEOUT_MS = 10_000;
/** How long a simulated service may take to start afresh on SIGHUP (an RSA key for the auth server, on a busy machine). */
const RESET_TIMEOUT_MS = 30_000;
/** Where a service's next env goes before a SIGHUP (mocks/shared runMain applies it): an env change without a new container. */
const SERVICE_ENV_FILE = '/tmp/harness-service-env.json';
/** Env a running Node process cannot take anew (read once at its start): a change to one of these restarts the container. */
const PROCESS_LEVEL_ENV = /^(NODE_|UV_)/;
/** Where a worker run's `{n, env}` goes in the worker's container (harness/client/runs-main.ts reads it on SIGHUP). */
const WORKER_RUN_FILE = '/tmp/harness-worker/run.json';

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
const slots = new Slots(containersConcurrency());

/** What the containers runtime starts with; the image can be overridden (HARNESS_IMAGE) for a build of one's own. */
export interface ContainersStartOptions extends RuntimeOptions {
  image?: string;
}

/** A topology up in containers: what every runtime gives, plus where each node runs (for `docker exec` in tests and by hand). */
export interface StartedContainersTopology extends StartedTopology {
  /** The run's id: every container and network of it has the label `mcp-topology-harness.run=<runId>`. */
  readonly runId: string;
  /** The container of a service node (the worker has one too, from its first runWorker on, not named here). */
  containerName(node: string): string;
  /** The network shim's container. */
  readonly shimName: string;
  /**
   * Readies this topology for another scenario, as if it had just started for `next`: applies it
   * as update() does (a service whose env differs starts afresh with it, in its container or, for
   * process-level env and brought servers, a new one), then starts every
   * other node afresh: the shim ends every connection and forgets conntrack, each simulated service
   * starts anew in its container (SIGHUP: new keys, empty caches), a brought server restarts. Events
   * and logs from then on are the only ones networkEvents() and serviceLog() give.
   * Throws ERR_RUNTIME_UPDATE (and changes nothing) when `next` cannot run on these containers.
   */
  resetFor(next: Topology): Promise<TopologyUpdate>;
  /** The worker node's box: each command a fresh container on the worker's network (what other clients than the simulated one and `harness up --exec` use). */
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
  const sessionId = SESSION_ID;
  let plan = planTopology(topology, { runId: randomBytes(4).toString('hex'), sessionId, image });
  const runId = plan.runId;
  const untrack = trackRun(runId, docker);
  const shim = new LineCollector();
  /** Each service node's container now: a restart replaces it (new name, same network alias). */
  const services = new Map<string, RunningService>(
    plan.services.map((service) => [service.node, { name: service.name, log: new LineCollector(), logFrom: 0, resets: 0, brought: service.brought }]),
  );
  /** Host ports (on 127.0.0.1) of published container ports, by node. */
  const ports = new Map<string, number>();
  const listeners = new Set<TopologyEventListener>();
  let shimContainer: StartedTestContainer | undefined;
  let closing: Promise<void> | undefined;
  // The worker: one long-lived process in its own container, started on the first run (runs-main.ts),
  // that runs the simulated worker once per SIGHUP with that run's env, config and settings.
  let workerHost: Promise<{ container: StartedTestContainer; output: LineCollector }> | undefined;
  /** Every Docker call of this run that may create something, until it settles: close() waits for them. */
  const creating = new Set<Promise<unknown>>();
  /** Starts `create` unless the topology is closing or SIGINT/SIGTERM came (then nothing may be made that a clean-up would miss). */
  const creation: Creation = <T>(create: () => Promise<T>): Promise<T> => {
    if (closing) return Promise.reject(new RuntimeError('ERR_RUNTIME_START', `topology ${runId} is closed: nothing more starts on it`));
    const signal = interruptedBy();
    if (signal) return Promise.reject(new RuntimeError('ERR_RUNTIME_START', `interrupted by ${signal}`));
    const work = create();
    creating.add(work);
    const done = () => creating.delete(work);
    work.then(done, done);
    return whilePending(work);
  };
  const close = () => {
    closing ??= (async () => {
      shim.close();
      void workerHost?.then(({ output }) => output.close(), () => {});
      for (const service of services.values()) service.log.close();
      const labels = [`${RUN_LABEL}=${runId}`];
      try {
        // What exists goes at once (a create or readiness wait under way fails fast on it), then,
        // once every create of this run has settled, whatever one made in the meantime.
        const removed = await removeLabelled(docker, labels).then(() => true, () => false);
        if (creating.size === 0 && removed) return;
        while (creating.size > 0) await Promise.allSettled([...creating]);
        await removeLabelled(docker, labels);
      } finally {
        untrack();
        release();
      }
    })();
    return closing;
  };
  const attachLog = (node: string, collector: LineCollector) =>
    collector.onLine((line) => {
      if (typeof line.event !== 'string' || typeof line.time !== 'string') return;
      for (const listener of [...listeners]) listener({ kind: 'log', node, entry: line as LogEntry });
    });
  shim.onLine((line) => {
    if (line.event !== 'flow') return;
    for (const listener of [...listeners]) listener({ kind: 'flow', flow: line.flow as NetworkEvent });
  });
  for (const [node, service] of services) attachLog(node, service.log);

  try {
    shimContainer = await creation(() => bringUp(docker, plan, image, shim, services, ports, creation));
  } catch (error) {
    const failed = await close().then(
      () => undefined,
      (cleanUp: unknown) => cleanUp as Error,
    );
    const left = failed ? `; removing what it started failed too (${failed.message}): docker rm -f $(docker ps -aq --filter label=${RUN_LABEL}=${runId})` : '';
    if (error instanceof RuntimeError && !failed) throw error;
    const code = error instanceof RuntimeError ? error.code : 'ERR_RUNTIME_START';
    const message = error instanceof RuntimeError ? error.message : `could not start the topology in containers: ${(error as Error).message}`;
    throw new RuntimeError(code, `${message}${left}`, { cause: error });
  }

  let current = topology;
  let marks = 0;
  let updates = 0;
  /** Where this scenario's shim lines begin (resetFor moves it). */
  let flowFrom = 0;
  /** One change at a time: an update, a reset or a worker run never overlap another change. */
  let changes: Promise<unknown> = Promise.resolve();
  const serially = <T>(work: () => Promise<T>): Promise<T> => {
    const next = changes.then(work);
    changes = next.catch(() => {});
    return next;
  };

  /** Writes a ShimUpdate into the shim's container and signals it; resolves with the shim's `updated` line's index. */
  const updateShim = async (update: Omit<ShimUpdate, 'n'>): Promise<number> => {
    const n = ++updates;
    await handOver(docker, shimContainer!, [{ content: JSON.stringify({ n, ...update }), target: SHIM_UPDATE_FILE }]);
    const answer = await shim.waitFor((line) => (line.event === 'updated' || line.event === 'update-failed') && line.n === n, MARK_TIMEOUT_MS, "the network shim's answer to an update");
    if (answer.event === 'update-failed') throw new RuntimeError('ERR_RUNTIME_UPDATE', `the network shim refused the update: ${String(answer.error)}`);
    return shim.json.indexOf(answer);
  };

  /** A service in a new container with `service`'s env, on the same network under the old name as alias; the old one goes once it is ready. */
  const restartService = async (service: NodeContainerPlan) => {
    const before = services.get(service.node)!;
    const generation = before.generation === undefined ? 1 : before.generation + 1;
    const log = new LineCollector();
    const name = `${service.name}-r${generation}`;
    let container: StartedTestContainer;
    try {
      container = await creation(() => startService({ ...service, name }, plan, log, ports, [service.name]));
    } catch (error) {
      log.close();
      throw new RuntimeError('ERR_RUNTIME_START', `${service.node} did not restart: ${(error as Error).message}`, { cause: error });
    }
    attachLog(service.node, log);
    services.set(service.node, { name, log, logFrom: 0, resets: 0, brought: service.brought, generation, container });
    before.log.close();
    await docker.container.dockerode.getContainer(before.name).remove({ force: true, v: true }).catch(() => {});
  };

  /**
   * The simulated service starts afresh in its own process (runMain's SIGHUP), with `env` when
   * given (its new env, written for runMain first); resolves once it listens again.
   */
  const resetService = async (node: string, env?: { next: Record<string, string>; previous: Record<string, string> }) => {
    const service = services.get(node)!;
    const resets = ++service.resets;
    const file: ServiceEnvFile | undefined = env && { n: resets, env: env.next, unset: Object.keys(env.previous).filter((name) => !(name in env.next)) };
    await handOver(docker, service.container!, file ? [{ content: JSON.stringify(file), target: SERVICE_ENV_FILE }] : []);
    await service.log.waitFor((entry) => entry.event === 'listening' && entry.resets === resets, RESET_TIMEOUT_MS, `${node} starting afresh`);
    // Its lines from the reset line on are the new instance's (runMain silences the old one).
    service.logFrom = service.log.json.findIndex((entry) => entry.event === 'reset' && entry.resets === resets) + 1;
  };

  const apply = async (next: Topology, fresh: boolean): Promise<TopologyUpdate> => {
    const changed = planUpdate(current, next);
    const nextPlan = planTopology(next, { runId, sessionId, image });
    const unchangeable = containerDifference(plan, nextPlan);
    if (unchangeable) throw new RuntimeError('ERR_RUNTIME_UPDATE', `${unchangeable}: restart harness up to apply it`);
    const network = fresh ? next.nodes : changed.network;
    if (network.length > 0 || fresh) {
      const at = await updateShim({ nodes: network.map(shimNode), nebula: next.nebula, reset: fresh });
      if (fresh) flowFrom = at + 1;
    }
    const previousEnv = new Map(plan.services.map((service) => [service.node, service.env]));
    plan = nextPlan;
    current = next;
    const restarted = new Set(changed.restarted.map((node) => node.name));
    // A simulated service takes a new env in its own container (runMain's env file), unless Node reads it only at its start.
    const inPlace = (service: NodeContainerPlan) => !service.brought && !changedNames(previousEnv.get(service.node)!, service.env).some((name) => PROCESS_LEVEL_ENV.test(name));
    await Promise.all([
      ...nextPlan.services.filter((service) => (restarted.has(service.node) && !inPlace(service)) || (fresh && service.brought)).map(restartService),
      ...nextPlan.services.filter((service) => restarted.has(service.node) && inPlace(service)).map((service) => resetService(service.node, { next: service.env, previous: previousEnv.get(service.node)! })),
      ...(fresh ? nextPlan.services.filter((service) => !restarted.has(service.node) && !service.brought).map((service) => resetService(service.node)) : []),
    ]);
    return {
      network: changed.network.map((node) => node.name),
      restarted: nextPlan.services.filter((service) => restarted.has(service.node) || (fresh && service.brought)).map((service) => service.node),
      worker: changed.worker,
    };
  };

  let runs = 0;
  const workerContainer = () => {
    workerHost ??= (async () => {
      const output = new LineCollector();
      checkInterrupted();
      try {
        const container = await creation(() => new HarnessContainer(image)
          .withName(plan.worker.name)
          .withCommand(['node', 'harness/client/runs-main.ts'])
          .withEnvironment({ WORKER_RUN_FILE })
          .withLabels({ ...plan.labels, [NODE_LABEL]: plan.worker.node })
          .onNetworks([{ name: plan.worker.network, aliases: [] }])
          .withLogConsumer((stream) => output.attach(stream))
          .withWaitStrategy(Wait.forLogMessage(/"type":"worker_ready"/))
          .withStartupTimeout(STARTUP_TIMEOUT_MS)
          .start());
        return { container, output };
      } catch (error) {
        output.close();
        workerHost = undefined;
        throw new RuntimeError('ERR_RUNTIME_WORKER', `the worker container did not start: ${output.tail() || (error as Error).message}`, { cause: error });
      }
    })();
    return workerHost;
  };
  const runWorker = async (): Promise<WorkerReport> => {
    const tokens = await mintTokens(current, plan, ports);
    const { container, output } = await workerContainer();
    const spec = plan.worker;
    const n = ++runs;
    await handOver(docker, container, [...spec.files, { content: JSON.stringify({ n, env: { ...spec.env, ...tokens } }), target: WORKER_RUN_FILE }]);
    // The worker connects to its servers at once, each within its MCP_TIMEOUT.
    const bound = STARTUP_TIMEOUT_MS + workerTimeoutMs(current);
    const line = await output.waitFor((entry) => (entry.type === 'harness_run' || entry.type === 'harness_run_failed') && entry.n === n, bound, "the worker's report");
    if (line.type === 'harness_run_failed') throw new RuntimeError('ERR_RUNTIME_WORKER', `the worker did not report: ${String(line.error)}`);
    const report = WorkerReportSchema.safeParse(line.report);
    if (!report.success) throw new RuntimeError('ERR_RUNTIME_WORKER', `the worker printed a report the harness cannot read: ${report.error.message}`);
    return report.data;
  };

  const logOf = (node: string): LogEntry[] => {
    const service = services.get(node);
    if (!service) return [];
    return service.log.json.slice(service.logFrom).filter((line): line is LogEntry => typeof line.event === 'string' && typeof line.time === 'string');
  };
  const flows = (): NetworkEvent[] => shim.json.slice(flowFrom).filter((line) => line.event === 'flow').map((line) => line.flow as NetworkEvent);
  const box = workerBox(docker, plan, image, creation);
  return {
    get topology() {
      return current;
    },
    runId,
    shimName: plan.shimName,
    workerBox: box,
    containerName(node: string) {
      const service = services.get(node);
      if (!service) throw new RuntimeError('ERR_RUNTIME_UNKNOWN', `no service node named ${node} (nodes: ${[...services.keys()].join(', ')})`);
      return service.name;
    },
    nodes: () =>
      current.nodes.map((node): StartedNode => {
        const published = ports.get(node.name);
        return {
          name: node.name,
          run: node.run,
          egressProxyUrl: `http://${plan.shimName}:${plan.proxyPort}`,
          serviceUrl: node.service ? `http://${node.service.host}:${node.service.port}` : undefined,
          localUrl: published === undefined ? undefined : `http://127.0.0.1:${published}`,
        };
      }),
    worker: () => launchWorker(current, plan, ports),
    async runWorker(client?: WorkerClient) {
      if (client && client.name !== 'simulated' && !client.runInBox) {
        throw new RuntimeError('ERR_RUNTIME_CLIENT', `${client.name} cannot run in the worker's container; run it with --runtime inprocess`);
      }
      return serially(async () => {
        try {
          const report = await whilePending(client && client.name !== 'simulated' ? client.runInBox!(await launchWorker(current, plan, ports), box) : runWorker());
          // Every decision the shim printed before this mark is in: the report is diagnosed against all of them.
          const n = ++marks;
          await docker.container.dockerode.getContainer(plan.shimName).kill({ signal: 'SIGUSR2' });
          await shim.waitFor((line) => line.event === 'mark' && line.n === n, MARK_TIMEOUT_MS, "the network shim's mark");
          return report;
        } catch (error) {
          if (isHarnessError(error)) throw error;
          throw new RuntimeError('ERR_RUNTIME_WORKER', `the worker's run in containers failed: ${(error as Error).message}`, { cause: error });
        }
      });
    },
    update: (next: Topology) => serially(() => whilePending(apply(next, false))),
    resetFor: (next: Topology) => serially(() => whilePending(apply(next, true))),
    networkEvents: flows,
    onEvent(listener: TopologyEventListener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    serviceLog: logOf,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** Runs a Docker call that may create something of a topology, in view of its close() and of a SIGINT's clean-up. */
type Creation = <T>(create: () => Promise<T>) => Promise<T>;

/** A service node's container as it runs now. */
interface RunningService {
  /** Its container's name (a restart's has `-r<generation>`; the first name stays its alias on its network). */
  name: string;
  log: LineCollector;
  /** Where the current scenario's lines begin in `log`. */
  logFrom: number;
  /** SIGHUPs sent to this container (runMain's `resets`). */
  resets: number;
  brought: boolean;
  generation?: number;
  /** Set once it has started. */
  container?: StartedTestContainer;
}

/** What of two plans a running topology cannot change: which networks are internal, what is published. */
function containerDifference(a: TopologyPlan, b: TopologyPlan): string | undefined {
  for (const [index, network] of a.networks.entries()) {
    if (network.internal !== b.networks[index]!.internal) return `${network.node}: whether its network may publish a port changed (the worker's tokens to mint)`;
  }
  for (const [index, service] of a.services.entries()) {
    const other = b.services[index]!;
    if (service.publish !== other.publish || service.image !== other.image || JSON.stringify(service.command) !== JSON.stringify(other.command)) {
      return `${service.node}: its container's image, command or published port changed`;
    }
  }
  if (a.proxyPort !== b.proxyPort || a.namePorts.join() !== b.namePorts.join() || a.networks[0]?.shimAliases.join() !== b.networks[0]?.shimAliases.join()) {
    return "the shim's names or ports changed";
  }
  return undefined;
}

/**
 * Hands a running process its next job, the way the shim, the services and the long-lived worker
 * take one: `files` written into its container (Docker's archive API), then SIGHUP (Docker's kill API).
 */
async function handOver(docker: ContainerRuntimeClient, container: StartedTestContainer, files: { content: string; target: string }[]): Promise<void> {
  if (files.length > 0) await container.copyContentToContainer(files.map((file) => ({ ...file, mode: 0o644 })));
  await docker.container.dockerode.getContainer(container.getId()).kill({ signal: 'SIGHUP' });
}

/** Names set in one env and not the other, or set to another value. */
function changedNames(a: Record<string, string>, b: Record<string, string>): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((name) => a[name] !== b[name]);
}

/** A node as the shim takes it in an update. */
function shimNode(node: TopologyNode): ShimUpdate['nodes'][number] {
  return { identity: node.identity, firewall: node.firewallConfig ?? {} };
}

async function bringUp(
  docker: ContainerRuntimeClient,
  plan: TopologyPlan,
  image: string,
  shim: LineCollector,
  services: Map<string, { log: LineCollector; container?: StartedTestContainer }>,
  ports: Map<string, number>,
  creation: Creation,
): Promise<StartedTestContainer> {
  const reaper = await reaperLabels(docker);
  const subnets: Record<string, string> = {};
  await Promise.all(
    plan.networks.map(async (network) => {
      checkInterrupted();
      const created = await creation(() => docker.network
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
        }));
      const info = await created.inspect();
      const subnet = (info as { IPAM?: { Config?: { Subnet?: string }[] } }).IPAM?.Config?.[0]?.Subnet;
      if (!subnet) throw new Error(`network ${network.name} has no IPv4 subnet`);
      subnets[network.node] = subnet;
    }),
  );
  checkInterrupted();
  const shimStart = creation(() => new HarnessContainer(image)
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
    }));
  const [started] = await Promise.all([
    shimStart,
    ...plan.services.map(async (service) => {
      const running = services.get(service.node)!;
      running.container = await creation(() => startService(service, plan, running.log, ports));
    }),
  ]);
  return started;
}

/** Starts a service's container; `aliases` are more names for it on its network (a restarted one keeps its first name there). */
async function startService(service: NodeContainerPlan, plan: TopologyPlan, log: LineCollector, ports: Map<string, number>, aliases: string[] = []): Promise<StartedTestContainer> {
  checkInterrupted();
  let container = new HarnessContainer(service.image)
    .withName(service.name)
    .withEnvironment(service.brought ? service.env : { ...service.env, [SERVICE_ENV_FILE_ENV]: SERVICE_ENV_FILE })
    .withLabels({ ...plan.labels, [NODE_LABEL]: service.node })
    .onNetworks([{ name: service.network, aliases }])
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
    return started;
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
