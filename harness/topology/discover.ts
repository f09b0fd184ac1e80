import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { TopologyError } from './errors.ts';
import { requireExpectations } from './expectations.ts';
import { loadScenarioFile } from './load.ts';
import type { Scenario } from './topology.ts';

/** Folders that hold bases and files scenarios refer to, not scenarios. */
const NOT_SCENARIOS = new Set(['topologies', 'files', 'node_modules']);

/**
 * The scenario files under `dir`: every `.yaml`/`.yml` file outside `topologies/` and `files/` folders, sorted.
 *
 * @example
 * await discoverScenarios('scenarios') // ['.../incidents/2025-10-01-prometheus-mcp/0-as-reported.yaml', ...]
 */
export async function discoverScenarios(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory() && !NOT_SCENARIOS.has(entry.name)) found.push(...(await discoverScenarios(full)));
    else if (entry.isFile() && /\.ya?ml$/.test(entry.name)) found.push(path.resolve(full));
  }
  return found.sort();
}

/**
 * Turns what a user typed (files, folders, scenario ids or id prefixes) into loaded scenarios,
 * in a stable order. With no arguments, every scenario under `root`. Each must expect something
 * (requireExpectations): a file that checks nothing, a base topology given by path say, is an error.
 *
 * @example
 * await resolveScenarioArgs(['incidents/2025-10-01-prometheus-mcp'], { root: 'scenarios' })
 */
export async function resolveScenarioArgs(args: string[], options: { root: string }): Promise<Scenario[]> {
  const wanted = args.length > 0 ? args : [options.root];
  const load = { ...options, sources: new Map() };
  const scenarios: Scenario[] = [];
  let everything: Scenario[] | undefined;
  for (const arg of wanted) {
    const kind = await stat(arg).then((s) => (s.isDirectory() ? 'dir' : 'file'), () => 'id' as const);
    if (kind === 'file') scenarios.push(...(await loadScenarioFile(arg, load)));
    else if (kind === 'dir') {
      for (const file of await discoverScenarios(arg)) scenarios.push(...(await loadScenarioFile(file, load)));
    } else {
      everything ??= await resolveScenarioArgs([], options);
      const id = arg.replace(/\/+$/, '');
      const matches = everything.filter((scenario) => scenario.id === id || scenario.id.startsWith(`${id}/`));
      if (matches.length === 0) {
        throw new TopologyError('ERR_SCENARIO_NOT_FOUND', `no scenario file, folder or id "${arg}" (try \`harness list\`)`);
      }
      scenarios.push(...matches);
    }
  }
  const unique = new Map(scenarios.map((scenario) => [scenario.id, scenario]));
  for (const scenario of unique.values()) requireExpectations(scenario);
  return [...unique.values()];
}
