import path from 'node:path';
import { runScenario } from '../harness/runner/index.ts';
import { resolveScenarioArgs } from '../harness/topology/index.ts';
import { SCENARIOS_DIR } from './generate.ts';
import { median, round } from './measure.ts';

export interface ClientsArgs {
  /** Scenario ids (under scenarios/). */
  scenarios: string[];
  repeats: number;
}

export interface ClientsRow {
  scenario: string;
  /** Median wall time of one scenario, topology up and down included. */
  simulatedMs: number;
  claudeCodeMs: number;
  ratio: number;
  /** Both clients gave every server the same status, every repeat. */
  agree: boolean;
  claudeCodeVersion: string | undefined;
}

/**
 * Part 6: what the real Claude Code costs per scenario beside the simulated worker: the same
 * scenario run in turns under each client (topology start, worker, diagnosis, stop).
 */
export async function measureClients(args: ClientsArgs): Promise<{ rows: ClientsRow[] }> {
  const rows: ClientsRow[] = [];
  for (const id of args.scenarios) {
    const [scenario] = await resolveScenarioArgs([id], { root: SCENARIOS_DIR });
    if (!scenario) throw new Error(`no scenario ${id} under ${path.relative(process.cwd(), SCENARIOS_DIR)}`);
    const times = { simulated: [] as number[], claudeCode: [] as number[] };
    let agree = true;
    let version: string | undefined;
    for (let i = 0; i < args.repeats; i++) {
      const simulated = await runScenario(scenario, { client: 'simulated' });
      const claudeCode = await runScenario(scenario, { client: 'claude-code' });
      if (claudeCode.error) throw new Error(`${id} under claude-code: ${claudeCode.error.code} ${claudeCode.error.message}`);
      times.simulated.push(simulated.elapsedMs);
      times.claudeCode.push(claudeCode.elapsedMs);
      version = claudeCode.client?.version;
      agree &&= JSON.stringify(simulated.init.mcp_servers) === JSON.stringify(claudeCode.init.mcp_servers);
    }
    const simulatedMs = median(times.simulated);
    const claudeCodeMs = median(times.claudeCode);
    rows.push({ scenario: id, simulatedMs: round(simulatedMs), claudeCodeMs: round(claudeCodeMs), ratio: round(claudeCodeMs / simulatedMs), agree, claudeCodeVersion: version });
  }
  return { rows };
}
