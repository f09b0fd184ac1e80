import os from 'node:os';
import { initMessage } from '../client/index.ts';
import { isHarnessError } from '../errors.ts';
import { inProcessRuntime, type Runtime } from '../runtime/index.ts';
import type { Scenario } from '../topology/index.ts';
import { compare } from './compare.ts';
import { diagnose } from './diagnose.ts';
import type { ScenarioResult } from './result.ts';

export interface RunOptions {
  runtime?: Runtime;
  /** Scenarios run at once; most of a scenario's time is waiting (drops, timeouts), so more than the cores. */
  concurrency?: number;
  /** Called as each scenario ends, in completion order. */
  onResult?: (result: ScenarioResult, done: number, total: number) => void;
}

/**
 * Brings a scenario's topology up, runs the worker, diagnoses each server and compares it with
 * the scenario's expectations. Never throws for a scenario that cannot run: its result says why.
 *
 * @example
 * const result = await runScenario(scenario);
 * if (!result.ok) console.log(result.servers.flatMap((s) => s.mismatches));
 */
export async function runScenario(scenario: Scenario, options: Pick<RunOptions, 'runtime'> = {}): Promise<ScenarioResult> {
  const started = performance.now();
  const base = { scenario: scenario.id, file: scenario.file, description: scenario.description };
  try {
    await using running = await (options.runtime ?? inProcessRuntime).start(scenario.topology);
    const report = await running.runWorker();
    const servers = compare(
      diagnose({ topology: scenario.topology, report, events: running.networkEvents(), serviceLog: (node) => running.serviceLog(node) }),
      scenario.expect,
    );
    return {
      ...base,
      ok: servers.every((server) => server.ok),
      servers,
      init: initMessage(report),
      elapsedMs: performance.now() - started,
      network: [...running.networkEvents()],
    };
  } catch (error) {
    if (!isHarnessError(error)) throw error;
    return {
      ...base,
      ok: false,
      servers: [],
      init: { type: 'system', subtype: 'init', mcp_servers: [], tools: [] },
      elapsedMs: performance.now() - started,
      network: [],
      error: { code: error.code, message: error.message },
    };
  }
}

/** Runs scenarios a few at a time; results come back in the scenarios' order. */
export async function runScenarios(scenarios: Scenario[], options: RunOptions = {}): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = new Array(scenarios.length);
  const concurrency = Math.max(1, options.concurrency ?? Math.min(8, os.availableParallelism() * 4));
  let next = 0;
  let done = 0;
  const lane = async () => {
    while (next < scenarios.length) {
      const index = next++;
      const result = await runScenario(scenarios[index]!, options);
      results[index] = result;
      options.onResult?.(result, ++done, scenarios.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, scenarios.length) }, lane));
  return results;
}
