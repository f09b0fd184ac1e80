import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runScenarios, withBounds, type BoundOverrides } from '../harness/runner/index.ts';
import { resolveScenarioArgs } from '../harness/topology/index.ts';
import { SCENARIOS_DIR, writeGeneratedScenarios, writeServersTopology } from './generate.ts';
import { round } from './measure.ts';

export type ScenarioRunArgs = (
  /** A folder of the repository's scenarios, e.g. `incidents` (relative to scenarios/), or `.` for all. */
  | { kind: 'folder'; folder: string }
  /** `count` files generated from the matrix family (see writeGeneratedScenarios). */
  | { kind: 'generated'; count: number }
  /** One scenario: one worker, `servers` strict MCP servers (see writeServersTopology). */
  | { kind: 'servers'; servers: number; timeoutMs: number }
) & {
  /** Bounds over the files' (as `harness run --timeout-ms ...`). */
  bounds?: BoundOverrides;
  /** `real`: wait bounds out in real time (`--real-time`); default each scenario's virtual clock. */
  time?: 'virtual' | 'real';
};

export interface ScenarioRunFigures {
  scenarios: number;
  passed: number;
  /** Passed without running: scenarios this runtime does not run (they bring their own server). */
  skipped: number;
  /** Ids of the first scenarios that did not pass (the bench measures only a harness that works). */
  failed: string[];
  /** Finding, reading, parsing and validating the files, and building the topologies. */
  loadMs: number;
  /** runScenarios: every topology up, the worker, diagnosis, comparison, every topology down. */
  runMs: number;
  wallMs: number;
  scenariosPerSecond: number;
  /**
   * The inherent wait: the bounds the scenarios had to wait out (each one's virtual clock's jumps;
   * in real time the same bounds, from a virtual run of the same set). `sum` over the scenarios,
   * `longest` the one scenario's: the least a run that waited in real time could take.
   */
  waited: { sumMs: number; longestMs: number };
}

/**
 * Parts 2 and 3: loads scenarios through the public loader (so parsing is measured too) and runs
 * them in-process with runScenarios' own defaults, as `harness run` does.
 */
export async function measureScenarioRun(args: ScenarioRunArgs): Promise<ScenarioRunFigures> {
  const temp = args.kind === 'folder' ? undefined : await mkdtemp(path.join(os.tmpdir(), 'mth-bench-'));
  try {
    let root = SCENARIOS_DIR;
    let target = path.join(SCENARIOS_DIR, args.kind === 'folder' ? args.folder : '');
    if (args.kind === 'generated') {
      await writeGeneratedScenarios(temp!, args.count);
      root = target = temp!;
    } else if (args.kind === 'servers') {
      target = await writeServersTopology(temp!, args.servers, args.timeoutMs);
      root = temp!;
    }
    const started = performance.now();
    const scenarios = (await resolveScenarioArgs([target], { root })).map((scenario) => withBounds(scenario, args.bounds ?? {}));
    const loaded = performance.now();
    const results = await runScenarios(scenarios, args.time ? { time: args.time } : {});
    const ended = performance.now();
    const waits = results.map((result) => result.waitedMs ?? 0);
    const failed = results.filter((result) => !result.ok);
    return {
      scenarios: results.length,
      passed: results.length - failed.length,
      skipped: results.filter((result) => (result as { skipped?: string }).skipped !== undefined).length,
      failed: failed.slice(0, 5).map((result) => result.scenario),
      loadMs: round(loaded - started),
      runMs: round(ended - loaded),
      wallMs: round(ended - started),
      scenariosPerSecond: round(results.length / ((ended - started) / 1000), 2),
      waited: { sumMs: round(waits.reduce((sum, wait) => sum + wait, 0)), longestMs: round(Math.max(0, ...waits)) },
    };
  } finally {
    if (temp) await rm(temp, { recursive: true, force: true });
  }
}
