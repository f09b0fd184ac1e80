// Every scenario file under scenarios/ is a test: each scenario (and each member of a matrix)
// must meet its expectations in the in-process runtime.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatScenarioTable } from '../harness/report/index.ts';
import { runScenario } from '../harness/runner/index.ts';
import { discoverScenarios, loadScenarioFile } from '../harness/topology/index.ts';

const root = path.resolve(import.meta.dirname, '../scenarios');
const files = await discoverScenarios(root);

describe('scenarios/', () => {
  it('has scenario files', () => {
    expect(files.length).toBeGreaterThan(0);
  });
});

describe.each(files.map((file) => [path.relative(root, file), file]))('%s', async (_id, file) => {
  const scenarios = await loadScenarioFile(file, { root });

  it.concurrent.each(scenarios.map((scenario) => [scenario.id, scenario]))('%s meets its expectations', async (_name, scenario) => {
    const result = await runScenario(scenario);
    expect(result.ok, formatScenarioTable(result)).toBe(true);
    expect(Object.keys(scenario.expect).length).toBeGreaterThan(0);
  });
});
