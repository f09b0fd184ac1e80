import os from 'node:os';
import { claudeCodeClient, initMessage, simulatedClient, type ClientName, type WorkerClient } from '../client/index.ts';
import { isHarnessError, STALL_GRACE_MS, VirtualClock } from '../../common/index.ts';
import { inProcessRuntime, type Runtime } from '../runtime/index.ts';
import type { Scenario } from '../topology/index.ts';
import { compare } from './compare.ts';
import { diagnose } from './diagnose.ts';
import { runPaced } from './pace.ts';
import type { ScenarioResult } from './result.ts';

export interface RunOptions {
  runtime?: Runtime;
  /** Who plays the worker in every scenario; default each scenario's `client:`, else the simulated worker. */
  client?: ClientName;
  /** The Claude Code binary for `claude-code` (default HARNESS_CLAUDE_BIN, then the pinned package). */
  claudeBin?: string;
  /**
   * The most scenarios running at once. Beyond one per core, a scenario starts only while the
   * event loop keeps up (see runPaced). Default: 48 in-process, where most of a scenario is waiting
   * for a dropped flow's timeout; min(8, 4 per core) with another runtime.
   */
  concurrency?: number;
  /**
   * `virtual` (the default where it applies: in-process with the simulated worker): each scenario
   * runs on its own VirtualClock, so deadlines cost no wall time. `real`: real timers, as the
   * containers runtime and real Claude Code always run.
   */
  time?: 'virtual' | 'real';
  /** Called as each scenario ends, in completion order. */
  onResult?: (result: ScenarioResult, done: number, total: number) => void;
}

/**
 * Brings a scenario's topology up, runs the worker, diagnoses each server and compares it with
 * the scenario's expectations. Never throws for a scenario that cannot run: its result says why.
 * A scenario this runtime does not run (one that brings its own server, in-process) is skipped.
 *
 * @example
 * const result = await runScenario(scenario);
 * if (!result.ok) console.log(result.servers.flatMap((s) => s.mismatches));
 */
export async function runScenario(scenario: Scenario, options: Pick<RunOptions, 'runtime' | 'client' | 'claudeBin' | 'time'> = {}): Promise<ScenarioResult> {
  const started = performance.now();
  const clientName = clientOf(scenario, options);
  const base = { scenario: scenario.id, file: scenario.file, description: scenario.description, client: { name: clientName } };
  const runtime = options.runtime ?? inProcessRuntime;
  // Only the in-process runtime with the simulated worker can run on a scenario's own clock.
  using clock = options.time !== 'real' && runtime === inProcessRuntime && clientName === 'simulated' ? new VirtualClock() : undefined;
  try {
    await using running = await runtime.start(scenario.topology, clock ? { clock } : {});
    const report = await running.runWorker(workerClient(clientName, options));
    if (clock && clock.stalls > 0) {
      // A verdict reached by the backstop depends on wall time: not one to report as the scenario's.
      return {
        ...base, ok: false, servers: [], init: initMessage(report), elapsedMs: performance.now() - started, network: [...running.networkEvents()],
        error: {
          code: 'ERR_RUN_CLOCK_STALL',
          message: `the virtual clock fired ${clock.stalls} deadline(s) by its real-time backstop (a request between nodes never finished, ${STALL_GRACE_MS / 1000} s past its deadline): rerun with --real-time, and report it`,
        },
      };
    }
    const waited = clock ? { waitedMs: clock.elapsed } : {};
    const servers = compare(
      diagnose({ topology: scenario.topology, report, events: running.networkEvents(), serviceLog: (node) => running.serviceLog(node) }),
      scenario.expect,
    );
    return {
      ...base,
      ...(report.client ? { client: { name: clientName, ...(report.client.version ? { version: report.client.version } : {}) } } : {}),
      ok: servers.every((server) => server.ok),
      servers,
      init: initMessage(report),
      elapsedMs: performance.now() - started,
      ...waited,
      network: [...running.networkEvents()],
    };
  } catch (error) {
    if (!isHarnessError(error)) throw error;
    const skipped = error.code === 'ERR_RUNTIME_NEEDS_CONTAINERS';
    return {
      ...base,
      ok: skipped,
      ...(skipped ? { skipped: error.message } : {}),
      servers: [],
      init: { type: 'system', subtype: 'init', mcp_servers: [], tools: [] },
      elapsedMs: performance.now() - started,
      network: [],
      ...(skipped ? {} : { error: { code: error.code, message: error.message } }),
    };
  }
}

/** Who plays the worker in this scenario: the run's choice, else the scenario's, else the simulated worker. */
export function clientOf(scenario: Scenario, options: Pick<RunOptions, 'client'> = {}): ClientName {
  return options.client ?? scenario.topology.nodes.find((node) => node.run === 'worker')?.worker?.client ?? 'simulated';
}

function workerClient(name: ClientName, options: Pick<RunOptions, 'claudeBin'>): WorkerClient {
  return name === 'claude-code' ? claudeCodeClient({ bin: options.claudeBin }) : simulatedClient;
}

/** At most one admission per this interval, so that a started scenario's load shows before the next. */
const ADMIT_EVERY_MS = 15;
/**
 * How late that interval's timer may fire for another scenario to start. Lateness is work waiting
 * for the event loop: more of it would stretch other scenarios' handshakes towards their timeouts.
 * Chosen with bench/ (1000 scenarios: 3 ms kept healthy handshakes under a third of their bound).
 */
const MAX_LAG_MS = 3;

/**
 * Runs scenarios several at a time: one per core at once, more while the event loop keeps up, up
 * to `concurrency`. Results come back in the scenarios' order.
 *
 * @example
 * const results = await runScenarios(await resolveScenarioArgs(['scenarios/incidents'], { root: 'scenarios' }));
 */
export async function runScenarios(scenarios: Scenario[], options: RunOptions = {}): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = new Array(scenarios.length);
  const cores = os.availableParallelism();
  const runtime = options.runtime ?? inProcessRuntime;
  const inProcess = runtime === inProcessRuntime;
  // Each Claude Code run is a 400 MB native process: one per core at most.
  const realClient = scenarios.some((scenario) => clientOf(scenario, options) === 'claude-code');
  const wanted = Math.max(1, options.concurrency ?? (realClient ? cores : inProcess ? 48 : Math.min(8, cores * 4)));
  // A reusing runtime keeps `capacity` topologies up: more scenarios at once would only queue for one.
  const max = Math.min(wanted, runtime.capacity ?? wanted);
  const order = runOrder(scenarios, runtime);
  let done = 0;
  await runPaced(
    scenarios.length,
    async (turn) => {
      const index = order[turn]!;
      const result = await runScenario(scenarios[index]!, options);
      results[index] = result;
      options.onResult?.(result, ++done, scenarios.length);
    },
    { max, minimum: cores, ...eventLoopPacer() },
  );
  return results;
}

/**
 * The order scenarios start in: as given, or, for a runtime that reuses, those of equal affinity
 * together (in their given order), so that they follow one another on the same containers.
 */
function runOrder(scenarios: Scenario[], runtime: Runtime): number[] {
  const indexes = scenarios.map((_scenario, index) => index);
  if (!runtime.affinity) return indexes;
  const keys = scenarios.map((scenario) => runtime.affinity!(scenario.topology));
  const first = new Map<string, number>();
  for (const [index, key] of keys.entries()) if (!first.has(key)) first.set(key, index);
  return indexes.sort((a, b) => first.get(keys[a]!)! - first.get(keys[b]!)! || a - b);
}

/** Waits ADMIT_EVERY_MS; busy when that wait's timer fired more than MAX_LAG_MS late. */
function eventLoopPacer(): { wait: () => Promise<void>; busy: () => boolean } {
  let lagMs = 0;
  return {
    wait: () =>
      new Promise((resolve) => {
        const asked = performance.now();
        setTimeout(() => {
          lagMs = performance.now() - asked - ADMIT_EVERY_MS;
          resolve();
        }, ADMIT_EVERY_MS);
      }),
    busy: () => lagMs > MAX_LAG_MS,
  };
}
