import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import { loadScenarioFile, type Expectation, type Scenario } from '../topology/index.ts';
import { provenance, scenarioDocument, type Provenance } from './document.ts';
import { readUserInputs, type UserFlags } from './inputs.ts';

export interface UserScenario {
  scenario: Scenario;
  provenance: Provenance[];
  /** The scenario file written for it (in the caller's dir). */
  file: string;
}

/** True when the flags carry any of the user's own material. */
export function hasUserMaterial(flags: UserFlags): boolean {
  return Boolean(flags.config || flags.settings || flags.nebula?.length || flags.groups?.length || flags.token?.length || flags.env?.length);
}

/**
 * The base topology with the user's material patched in, written as `dir/scenario.yaml` (paths
 * absolute) and loaded back with the scenario loader, so that it means exactly what a scenario file
 * with the same content means. Every input is checked before anything starts.
 *
 * @example
 * const { scenario, provenance } = await userScenario('scenarios/topologies/monitoring-dev.yaml', { config: 'agent_config.yaml' }, { dir });
 */
export async function userScenario(
  baseFile: string,
  flags: UserFlags,
  options: { dir: string; root?: string; expect?: (scenario: Scenario) => Record<string, Expectation> },
): Promise<UserScenario> {
  const [base] = (await loadScenarioFile(baseFile, options.root ? { root: options.root } : {})) as [Scenario];
  const inputs = await readUserInputs(flags, base);
  const document = scenarioDocument(base, inputs, { extends: path.resolve(baseFile), file: (user) => path.resolve(user) });
  const file = path.join(options.dir, 'scenario.yaml');
  await writeFile(file, stringify(document));
  const [loaded] = (await loadScenarioFile(file)) as [Scenario];
  const scenario: Scenario = { ...loaded, id: base.id, description: base.description };
  if (options.expect) scenario.expect = options.expect(scenario);
  return { scenario, provenance: provenance(base, inputs), file };
}
