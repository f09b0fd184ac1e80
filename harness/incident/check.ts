import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runScenario, type RunOptions, type ScenarioResult } from '../runner/index.ts';
import type { Scenario } from '../topology/index.ts';
import type { Provenance } from './document.ts';
import type { UserFlags } from './inputs.ts';
import { userScenario } from './user-scenario.ts';

export interface CheckOutcome {
  scenario: Scenario;
  result: ScenarioResult;
  provenance: Provenance[];
}

/**
 * `harness check`: the user's config (and any of their firewalls, groups, tokens, settings) on the
 * base topology; every server should connect with every tool allowed.
 *
 * @example
 * const { result, provenance } = await checkUserFiles('scenarios/topologies/monitoring-dev.yaml', { config: 'agent_config.yaml' }, { runtime });
 */
export async function checkUserFiles(baseFile: string, flags: UserFlags, options: Pick<RunOptions, 'runtime' | 'client' | 'claudeBin'>): Promise<CheckOutcome> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'harness-check-'));
  try {
    const { scenario, provenance } = await userScenario(baseFile, flags, {
      dir,
      // What check asks of every server in the config: it connects and settings.json allows all its tools.
      expect: (loaded) =>
        Object.fromEntries(loaded.topology.nodes.find((node) => node.run === 'worker')!.worker!.servers.map((server) => [server.name, { status: 'connected' as const, unpermitted: [] }])),
    });
    // The temp file goes away: the result names the user's config (or the base) instead.
    const checked: Scenario = { ...scenario, id: `check ${flags.config ?? 'the base config'} against ${scenario.id}`, file: path.resolve(flags.config ?? baseFile) };
    return { scenario: checked, result: await runScenario(checked, options), provenance };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
