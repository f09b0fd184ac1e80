import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Runtime } from '../harness/runtime/index.ts';
import { runScenario } from '../harness/runner/index.ts';
import { loadScenarioFile } from '../harness/topology/index.ts';
import { SCENARIOS_DIR } from './generate.ts';
import { round } from './measure.ts';

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
