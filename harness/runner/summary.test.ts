import { describe, expect, it } from 'vitest';
import type { ScenarioResult } from './result.ts';
import { summarize } from './summary.ts';

function result(scenario: string, outcome: 'pass' | 'fail' | 'skip' | 'error'): ScenarioResult {
  return {
    scenario,
    file: `${scenario}.yaml`,
    description: undefined,
    ok: outcome === 'pass' || outcome === 'skip',
    servers: [],
    init: { type: 'system', subtype: 'init', mcp_servers: [], tools: [] },
    elapsedMs: 1,
    network: [],
    ...(outcome === 'skip' ? { skipped: 'brings its own server: run this scenario with --runtime containers' } : {}),
    ...(outcome === 'error' ? { error: { code: 'ERR_RUNTIME_START', message: 'no' } } : {}),
  };
}

describe('summarize', () => {
  it.each([
    { outcomes: ['pass', 'pass'], passed: 2, failed: 0, skipped: 0, ok: true },
    { outcomes: ['pass', 'skip'], passed: 1, failed: 0, skipped: 1, ok: true },
    { outcomes: ['pass', 'fail'], passed: 1, failed: 1, skipped: 0, ok: false },
    { outcomes: ['error', 'skip'], passed: 0, failed: 1, skipped: 1, ok: false },
    { outcomes: ['skip', 'skip', 'skip'], passed: 0, failed: 0, skipped: 3, ok: false },
    { outcomes: [], passed: 0, failed: 0, skipped: 0, ok: false },
  ] as const)('counts $outcomes as $passed passed, $failed failed, $skipped skipped, ok $ok', ({ outcomes, ...expected }) => {
    expect(summarize(outcomes.map((outcome, index) => result(`s${index}`, outcome)))).toEqual(expected);
  });
});
