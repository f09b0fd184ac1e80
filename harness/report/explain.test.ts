import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runScenario } from '../runner/index.ts';
import { loadScenarioFile } from '../topology/index.ts';
import { formatExplanation } from './explain.ts';

const root = path.resolve(import.meta.dirname, '../../scenarios');

async function explain(id: string): Promise<string> {
  const [scenario] = await loadScenarioFile(path.join(root, `${id}.yaml`), { root });
  return formatExplanation(scenario!, await runScenario(scenario!));
}

describe('formatExplanation', () => {
  it.concurrent.each([
    [
      '1.10',
      'drop',
      "nebula: Nebula 1.10 (1.10.3): a flow denied by claude-worker's outbound rules is answered by its inbound_action (drop), not its outbound_action (reject): up to 1.10.x the two settings were applied to the opposite direction (fixed in 1.11.0, slackhq/nebula#1798)",
    ],
    [
      '1.11',
      'reject',
      "nebula: Nebula 1.11 (1.11.1): a flow denied by claude-worker's outbound rules is answered by its outbound_action (reject), as named (the direction fix of 1.11.0, slackhq/nebula#1798)",
    ],
  ])('names the Nebula %s behaviour that answered the blocked hop with %s', async (version, verdict, line) => {
    const text = await explain(`versions/nebula-outbound-reject/${version}`);
    expect(text).toContain(`hop: claude-worker -> monitoring-mcp:8000 (${verdict} by claude-worker's outbound rules)`);
    expect(text).toContain(`  ${line}\n`);
  });
});
