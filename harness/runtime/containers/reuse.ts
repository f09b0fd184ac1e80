import { isHarnessError } from '../../../common/index.ts';
import type { Topology } from '../../topology/index.ts';
import { RuntimeError } from '../errors.ts';
import type { Runtime, TopologyEventListener } from '../runtime.ts';
import { planUpdate } from '../update-plan.ts';
import { containersConcurrency } from './plan.ts';
import { containersRuntime } from './runtime.ts';
import type { ContainersStartOptions, StartedContainersTopology } from './start.ts';

/** A runtime that keeps what it started for the next scenario; close() takes everything down. */
export interface ReusingRuntime extends Runtime, AsyncDisposable {
  start(topology: Topology): Promise<StartedContainersTopology>;
  /** The most topologies it keeps up at once: more scenarios at a time would only wait for one. */
  readonly capacity: number;
  /** Scenarios with the same affinity run on the same containers with nothing restarted: run them one after another. */
  affinity(topology: Topology): string;
  /** How many topologies it started, and how many scenarios it gave a reused one (for the bench). */
  stats(): { started: number; reused: number; restartedServices: number };
  close(): Promise<void>;
}

/**
 * The containers runtime, reusing within a run: a scenario whose topology can run on an idle
 * started one (same nodes, services and containers; see planUpdate) gets it, readied by
 * `resetFor`: the shim takes the scenario's firewalls, groups and names and drops every connection
 * and conntrack entry, each service starts afresh in its container (new keys, empty JWKS cache,
 * no session), a service whose env differs starts afresh with it (see update()). Its close() hands the
 * topology back instead of removing it; a topology whose scenario failed is removed, not reused.
 *
 * @example
 * await using runtime = reusingContainersRuntime();
 * const results = await runScenarios(scenarios, { runtime });
 */
export function reusingContainersRuntime(options: ContainersStartOptions & { capacity?: number } = {}): ReusingRuntime {
  const { capacity = containersConcurrency(), ...startOptions } = options;
  const idle: StartedContainersTopology[] = [];
  const all = new Set<StartedContainersTopology>();
  const stats = { started: 0, reused: 0, restartedServices: 0 };
  let closed = false;
  /** Starts under way (not in `all` yet): they count against the capacity too, and close() waits for them. */
  const starting = new Set<Promise<unknown>>();
  /** Starts waiting for a topology to come back or go (the runtime is at capacity). */
  const waiting: (() => void)[] = [];
  const wake = () => {
    for (const resume of waiting.splice(0)) resume();
  };

  /** Topologies being removed: close() waits for them too. */
  const discarding = new Set<Promise<void>>();
  const discard = (running: StartedContainersTopology): Promise<void> => {
    all.delete(running);
    const index = idle.indexOf(running);
    if (index >= 0) idle.splice(index, 1);
    const removed = running.close().finally(() => {
      discarding.delete(removed);
      wake();
    });
    discarding.add(removed);
    return removed;
  };

  /** The idle topology `topology` can run on with the fewest services restarted. */
  const pick = (topology: Topology): StartedContainersTopology | undefined => {
    let best: { running: StartedContainersTopology; cost: number } | undefined;
    for (const running of idle) {
      let cost: number;
      try {
        cost = planUpdate(running.topology, topology).restarted.length;
      } catch {
        continue;
      }
      if (!best || cost < best.cost) best = { running, cost };
    }
    return best?.running;
  };

  const lease = (running: StartedContainersTopology): StartedContainersTopology => {
    const unsubscribes = new Set<() => void>();
    let failed = false;
    let released: Promise<void> | undefined;
    const watch = <T>(work: Promise<T>): Promise<T> =>
      work.catch((error: unknown) => {
        failed = true;
        throw error;
      });
    const release = () => {
      released ??= (async () => {
        for (const unsubscribe of unsubscribes) unsubscribe();
        if (failed || closed) await discard(running);
        else {
          idle.push(running);
          wake();
        }
      })();
      return released;
    };
    return {
      get topology() {
        return running.topology;
      },
      runId: running.runId,
      shimName: running.shimName,
      workerBox: running.workerBox,
      containerName: (node) => running.containerName(node),
      nodes: () => running.nodes(),
      worker: () => watch(running.worker()),
      runWorker: (client) => watch(running.runWorker(client)),
      update: (next) => watch(running.update(next)),
      resetFor: (next) => watch(running.resetFor(next)),
      networkEvents: () => running.networkEvents(),
      onEvent(listener: TopologyEventListener) {
        const unsubscribe = running.onEvent(listener);
        unsubscribes.add(unsubscribe);
        return () => {
          unsubscribes.delete(unsubscribe);
          unsubscribe();
        };
      },
      serviceLog: (node) => running.serviceLog(node),
      close: release,
      [Symbol.asyncDispose]: release,
    };
  };

  const start = async (topology: Topology): Promise<StartedContainersTopology> => {
    if (closed) throw new RuntimeError('ERR_RUNTIME_START', 'this reusing runtime is closed');
    for (;;) {
      const candidate = pick(topology);
      if (candidate) {
        idle.splice(idle.indexOf(candidate), 1);
        try {
          const changed = await candidate.resetFor(topology);
          stats.reused++;
          stats.restartedServices += changed.restarted.length;
          return lease(candidate);
        } catch (error) {
          await discard(candidate).catch(() => {});
          // Not reusable after all (say, the worker's tokens now need a published port): start anew.
          if (!(isHarnessError(error) && error.code === 'ERR_RUNTIME_UPDATE')) throw error;
          continue;
        }
      }
      if (all.size + starting.size < capacity) break;
      // At capacity: an idle topology this scenario cannot use makes room; else wait for one to come back.
      if (idle.length > 0) await discard(idle[0]!);
      else await new Promise<void>((resume) => waiting.push(resume));
      if (closed) throw new RuntimeError('ERR_RUNTIME_START', 'this reusing runtime is closed');
    }
    const started = containersRuntime.start(topology, startOptions);
    starting.add(started);
    let running: StartedContainersTopology;
    try {
      running = await started;
    } finally {
      starting.delete(started);
    }
    stats.started++;
    all.add(running);
    if (closed) {
      await discard(running);
      throw new RuntimeError('ERR_RUNTIME_START', 'this reusing runtime closed while the topology started');
    }
    return lease(running);
  };

  const close = async () => {
    closed = true;
    wake();
    // A start under way discards its topology itself once up (it sees `closed`): wait for that too,
    // so that once close() resolves nothing of this runtime is left (a process may exit right after).
    const failures: unknown[] = [];
    for (const running of [...all]) discard(running).catch((error: unknown) => failures.push(error));
    while (starting.size + discarding.size > 0) await Promise.allSettled([...starting, ...discarding]);
    // A topology that could not be removed is not hidden: its close() says why and what to remove by hand.
    if (failures.length > 0) throw failures[0];
  };

  return {
    name: 'containers',
    capacity,
    start,
    affinity: affinityOf,
    stats: () => ({ ...stats }),
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** Everything a reused topology would have to restart a container for, or could not change at all. */
function affinityOf(topology: Topology): string {
  const worker = topology.nodes.find((node) => node.run === 'worker');
  return JSON.stringify({
    timeoutMs: topology.timeoutMs,
    dc: topology.dc,
    // Whether the auth server's admin API must be published (the worker has tokens to mint).
    mints: Object.keys(worker?.worker?.tokens ?? {}).length > 0,
    nodes: topology.nodes.map((node) => [node.name, node.run, node.service, node.container, node.run === 'worker' ? null : node.env]),
  });
}
