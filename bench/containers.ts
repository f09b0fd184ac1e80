import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Runtime } from '../harness/runtime/index.ts';
import { runScenario } from '../harness/runner/index.ts';
import { loadScenarioFile } from '../harness/topology/index.ts';
import { SCENARIOS_DIR } from './generate.ts';
import { percentile, round } from './measure.ts';

export type ContainersFigures =
  | { skipped: string }
  | {
      /** From nothing to every node of the seed topology ready (runtime.start resolved). */
      readyMs: number;
      /** Taking that topology down again. */
      closeMs: number;
      /** One scenario end to end: up, worker, diagnosis, down. */
      scenario: string;
      scenarioMs: number;
      /** The same without taking it down (the harness's own elapsedMs). */
      scenarioUntilVerdictMs: number;
      scenarioOk: boolean;
    };

const SCENARIO = path.join(SCENARIOS_DIR, 'incidents', '2025-10-01-prometheus-mcp', '5-real-fix-valid-token.yaml');

/**
 * Part 5: the containers runtime, when there is one and a Docker engine answers; otherwise the
 * reason it was skipped.
 */
export async function measureContainers(): Promise<ContainersFigures> {
  const runtime = await containersRuntime();
  if (typeof runtime === 'string') return { skipped: runtime };
  try {
    await promisify(execFile)('docker', ['info', '--format', '{{.ServerVersion}}'], { timeout: 10_000 });
  } catch (error) {
    return { skipped: `no Docker engine answers \`docker info\` (${(error as Error).message.split('\n')[0]})` };
  }
  const [scenario] = await loadScenarioFile(SCENARIO, { root: SCENARIOS_DIR });
  // The first start also loads testcontainers and may start its reaper: part of "from nothing".
  const started = performance.now();
  const running = await runtime.start(scenario!.topology);
  const ready = performance.now();
  await running.close();
  const closed = performance.now();
  const before = performance.now();
  const result = await runScenario(scenario!, { runtime });
  const after = performance.now();
  if (result.error) throw new Error(`the containers runtime could not run ${scenario!.id}: ${result.error.code} ${result.error.message}`);
  return {
    readyMs: round(ready - started),
    closeMs: round(closed - ready),
    scenario: scenario!.id,
    scenarioMs: round(after - before),
    scenarioUntilVerdictMs: round(result.elapsedMs),
    scenarioOk: result.ok,
  };
}

/** The containers runtime if this checkout has one, else why not. */
async function containersRuntime(): Promise<Runtime | string> {
  const index = path.join(path.dirname(SCENARIOS_DIR), 'harness', 'runtime', 'containers', 'index.ts');
  if (!existsSync(index)) return 'no containers runtime in this checkout (harness/runtime/containers/)';
  const runtimes = (await import('../harness/runtime/index.ts')) as Record<string, unknown>;
  const runtime = runtimes.containersRuntime as Runtime | undefined;
  return runtime && typeof runtime.start === 'function' ? runtime : 'harness/runtime does not export containersRuntime';
}

export interface ContainersRunArgs {
  /** Reuse started containers across scenarios (reusingContainersRuntime), or start each anew. */
  reuse: boolean;
  /** Who plays the worker (default each scenario's own: the simulated worker). */
  client?: 'simulated' | 'claude-code';
  /** A folder under scenarios/ (default all of it). */
  folder?: string;
}

export type ContainersRunFigures =
  | { skipped: string }
  | {
      reuse: boolean;
      client: string;
      scenarios: number;
      passed: number;
      failed: string[];
      skipped: number;
      /** `runScenarios` over all of scenarios/ in containers, from the first start to the last close. */
      wallMs: number;
      /** Each scenario's own elapsedMs (up or reset, worker, diagnosis). */
      perScenario: { medianMs: number; p90Ms: number; maxMs: number };
      /** With reuse: topologies started, scenarios that ran on a reused one, services restarted for an env. */
      pool?: { started: number; reused: number; restartedServices: number };
      /** Scenarios whose per-server status, reason kind and hop differ from the in-process run's (none skipped there). */
      differFromInProcess: string[];
      /** Every scenario's elapsedMs, by id. */
      elapsedMs: Record<string, number>;
    };

/**
 * Part 7 (opt-in: `--only containers-run`, several minutes): all of scenarios/ (or one folder) with
 * `--runtime containers`, with or without reuse, under the simulated worker or real Claude Code,
 * beside the in-process verdicts of the same scenarios under the simulated worker.
 */
export async function measureContainersRun(args: ContainersRunArgs): Promise<ContainersRunFigures> {
  const runtime = await containersRuntime();
  if (typeof runtime === 'string') return { skipped: runtime };
  const { inProcessRuntime, reusingContainersRuntime } = await import('../harness/runtime/index.ts');
  const { runScenarios } = await import('../harness/runner/index.ts');
  const { resolveScenarioArgs } = await import('../harness/topology/index.ts');
  const scenarios = await resolveScenarioArgs(args.folder ? [path.join(SCENARIOS_DIR, args.folder)] : [], { root: SCENARIOS_DIR });
  const inProcess = await runScenarios(scenarios, { runtime: inProcessRuntime });
  const client = args.client ? { client: args.client } : {};
  const started = performance.now();
  let results: Awaited<ReturnType<typeof runScenarios>>;
  let pool: { started: number; reused: number; restartedServices: number } | undefined;
  if (args.reuse) {
    await using reusing = reusingContainersRuntime();
    results = await runScenarios(scenarios, { runtime: reusing, ...client });
    pool = reusing.stats();
  } else {
    results = await runScenarios(scenarios, { runtime, ...client });
  }
  const wallMs = performance.now() - started;
  const verdicts = (result: (typeof results)[number]) =>
    JSON.stringify(result.servers.map((server) => [server.name, server.status, server.reason?.kind, server.reason?.hop ? `${server.reason.hop.from}->${server.reason.hop.to}` : null]));
  const differ = results.filter((result, index) => !inProcess[index]!.skipped && verdicts(result) !== verdicts(inProcess[index]!)).map((result) => result.scenario);
  const times = results.map((result) => result.elapsedMs);
  return {
    reuse: args.reuse,
    client: args.client ?? 'simulated',
    scenarios: results.length,
    passed: results.filter((result) => result.ok && !result.skipped).length,
    failed: results.filter((result) => !result.ok).map((result) => `${result.scenario}${result.error ? ` (${result.error.code})` : ''}`),
    skipped: results.filter((result) => result.skipped).length,
    wallMs: round(wallMs),
    perScenario: { medianMs: round(percentile(times, 50)), p90Ms: round(percentile(times, 90)), maxMs: round(Math.max(...times)) },
    ...(pool ? { pool } : {}),
    differFromInProcess: differ,
    elapsedMs: Object.fromEntries(results.map((result) => [result.scenario, round(result.elapsedMs)])),
  };
}
