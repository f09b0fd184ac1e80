// Every scenario file under scenarios/ is a test: each scenario (and each member of a matrix)
// must meet its expectations in the in-process runtime (those that bring their own server are skipped here,
// with the reason printed, and run by test/containers/).
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatScenarioTable } from '../harness/report/index.ts';
import { runScenario } from '../harness/runner/index.ts';
import { discoverScenarios, loadScenarioFile, requiredRuntime, requireExpectations } from '../harness/topology/index.ts';

const root = path.resolve(import.meta.dirname, '../scenarios');
const files = await discoverScenarios(root);

describe('scenarios/', () => {
  it('has scenario files', () => {
    expect(files.length).toBeGreaterThan(0);
  });
});

describe.each(files.map((file) => [path.relative(root, file), file]))('%s', async (_id, file) => {
  const all = await loadScenarioFile(file, { root });
  // The rule `harness run` applies: a scenario that checks nothing is an error, not a pass.
  it('expects something of a server in every scenario', () => {
    for (const scenario of all) expect(() => requireExpectations(scenario)).not.toThrow();
  });
  // A scenario that brings its own server (image/command) runs only in containers: test/containers/ runs it.
  const brought = all.filter((scenario) => requiredRuntime(scenario.topology) === 'containers');
  for (const scenario of brought) {
    console.warn(`test/scenarios.test.ts: ${scenario.id} skipped in-process: it brings its own server (image/command); test/containers/ runs it with --runtime containers`);
  }
  const scenarios = all.filter((scenario) => !brought.includes(scenario));

  if (brought.length > 0) it.skip.each(brought.map((scenario) => [scenario.id]))('%s needs --runtime containers', () => {});
  if (scenarios.length === 0) return;

  it.concurrent.each(scenarios.map((scenario) => [scenario.id, scenario]))('%s meets its expectations', async (_name, scenario) => {
    const result = await runScenario(scenario);
    expect(result.skipped, 'the in-process runtime skipped a scenario requiredRuntime says it runs').toBeUndefined();
    expect(result.ok, formatScenarioTable(result)).toBe(true);
  });
});
