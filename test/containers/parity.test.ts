// Runtime parity: every incident step and version scenario (each matrix member too) gives the same status, reason kind,
// hop and tools per server, and the same network decisions, in containers (reusing containers across
// scenarios, as `harness run` does) as in-process, and meets its expectations in both.
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatScenarioTable } from '../../harness/report/index.ts';
import { runScenario, type ScenarioResult } from '../../harness/runner/index.ts';
import { inProcessRuntime, reusingContainersRuntime } from '../../harness/runtime/index.ts';
import { discoverScenarios, loadScenarioFile } from '../../harness/topology/index.ts';
import { containersUnavailable } from './docker-available.ts';

const root = path.resolve(import.meta.dirname, '../../scenarios');
const skip = containersUnavailable();
if (skip) console.warn(`test/containers/parity.test.ts skipped: ${skip}`);

const files = (await Promise.all(['incidents', 'versions'].map((dir) => discoverScenarios(path.join(root, dir))))).flat();
const scenarios = (await Promise.all(files.map((file) => loadScenarioFile(file, { root })))).flat();

/** What must match between runtimes: per server, what the diagnosis concluded (details may word things differently). */
function outcome(result: ScenarioResult) {
  return {
    error: result.error?.code,
    servers: result.servers.map((server) => ({
      name: server.name,
      status: server.status,
      reason: server.reason?.kind,
      hop: server.reason?.hop && { ...server.reason.hop },
      tools: server.tools,
      unpermitted: server.unpermitted,
    })),
    // The shim's decisions, each distinct flow once (how many connections carry one may differ).
    flows: [...new Set(result.network.map((event) => `${event.source} -> ${event.destinationNode ?? event.destination}:${event.port} ${event.verdict} ${event.outcome ?? ''}`))].sort(),
  };
}

describe.skipIf(skip !== undefined)('the containers runtime agrees with the in-process one', () => {
  // As `harness run --runtime containers` runs them: one scenario after another on reused containers.
  const containersRuntime = reusingContainersRuntime();
  afterAll(() => containersRuntime.close());

  it('has incident steps to compare', () => {
    expect(scenarios.length).toBeGreaterThan(10);
  });

  it.concurrent.for(scenarios.map((scenario) => ({ id: scenario.id, scenario })))('$id', async ({ scenario }, { expect }) => {
    const [inProcess, containers] = await Promise.all([
      runScenario(scenario, { runtime: inProcessRuntime }),
      runScenario(scenario, { runtime: containersRuntime }),
    ]);
    expect(inProcess.ok, formatScenarioTable(inProcess)).toBe(true);
    expect(containers.ok, formatScenarioTable(containers)).toBe(true);
    expect(outcome(containers)).toEqual(outcome(inProcess));
  });
});
