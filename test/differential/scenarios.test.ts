import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveClaudeBinary } from '../../harness/client/index.ts';
import { runScenario, type ScenarioResult } from '../../harness/runner/index.ts';
import { resolveScenarioArgs, type Scenario } from '../../harness/topology/index.ts';
import { differences, loadBaseline, unexplained, type Observed } from './compare.ts';

// Every incident step and a spread of the matrix, under the simulated worker and under the real
// Claude Code (the pinned package, or HARNESS_CLAUDE_BIN): same status and tools per server, and
// Claude Code meets the scenario's expectations. Claude Code missing is a failure, never a skip.

const ROOT = path.resolve(import.meta.dirname, '../../scenarios');
const TOKENS = ['valid', 'expired', 'not-yet-valid', 'wrong-issuer', 'with-audience', 'no-audience', 'wrong-audience', 'unknown-kid', 'foreign-key', 'alg-none', 'hs256-key-confusion', 'tampered', 'not-a-jwt', 'empty'];
const VARIANTS = ['strict', 'audience-checked', 'dev-mode', 'decode-only'];
const MATRIX = 'matrix/tokens-x-firewall-x-variant';
/** Each token once after the firewall fix, the variants in turn; two before it (the dropped flow). */
const MATRIX_SPREAD = [
  ...TOKENS.map((token, index) => `${MATRIX}/token=${token}/firewall=pr-26/variant=${VARIANTS[index % VARIANTS.length]}`),
  `${MATRIX}/token=valid/firewall=as-reported/variant=strict`,
  `${MATRIX}/token=empty/firewall=as-reported/variant=decode-only`,
];

function observed(result: ScenarioResult): Record<string, Observed> {
  return Object.fromEntries(
    result.servers.map((server) => [server.name, { status: server.status, tools: result.init.tools.filter((tool) => tool.startsWith(`mcp__${server.name}__`)) }]),
  );
}

const baseline = loadBaseline();
const all = await resolveScenarioArgs([], { root: ROOT });
const chosen: Scenario[] = [
  ...all.filter((scenario) => scenario.id.startsWith('incidents/')),
  ...MATRIX_SPREAD.map((id) => {
    const scenario = all.find((candidate) => candidate.id === id);
    if (!scenario) throw new Error(`the differential spread names ${id}, which is not a scenario`);
    return scenario;
  }),
];

describe('the simulated worker and Claude Code agree on the scenarios', () => {
  beforeAll(async () => {
    const claude = await resolveClaudeBinary();
    console.log(`differential: Claude Code ${claude.version} at ${claude.path}; baseline measured with ${baseline.claudeCodeVersion}`);
  });

  it('has incidents and matrix members to compare', () => {
    expect(chosen.filter((scenario) => scenario.id.startsWith('incidents/')).length).toBeGreaterThanOrEqual(9);
    expect(chosen.length).toBe(new Set(chosen.map((scenario) => scenario.id)).size);
  });

  it.each(chosen.map((scenario) => [scenario.id, scenario] as const))('%s', async (id, scenario) => {
    const simulated = await runScenario(scenario, { client: 'simulated' });
    const claudeCode = await runScenario(scenario, { client: 'claude-code' });
    expect(claudeCode.error, 'Claude Code could not run').toBeUndefined();
    expect(claudeCode.client?.name).toBe('claude-code');
    const found = differences(id, observed(simulated), observed(claudeCode));
    expect(unexplained(id, found, baseline)).toEqual({ unexplained: [], stale: [] });
    // A server whose status differs by an explained baseline entry is held to the baseline, not to the
    // scenario (whose expectations are the simulated worker's).
    const explained = new Set(baseline.entries.filter((entry) => entry.case === id && entry.field === 'status').map((entry) => entry.server));
    const unmet = claudeCode.servers.filter((server) => !server.ok && !explained.has(server.name)).map((server) => `${server.name}: ${server.mismatches.join('; ')}`);
    expect(unmet, 'Claude Code meets the scenario').toEqual([]);
  }, 120_000);
});
