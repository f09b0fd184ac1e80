import type { ScenarioResult } from './result.ts';

/** What a run of scenarios came to. */
export interface RunSummary {
  passed: number;
  /** Unmet expectations, or scenarios that could not run. */
  failed: number;
  /** Not run by this runtime (they bring their own server: containers only). */
  skipped: number;
  /** Something ran and nothing failed. A run that skipped everything checked nothing, so it is not ok. */
  ok: boolean;
}

/**
 * Counts a run's results. `ok` needs at least one scenario that ran: `0 passed, 0 failed, 3 skipped`
 * is not a success.
 *
 * @example
 * const { passed, failed, skipped, ok } = summarize(await runScenarios(scenarios));
 */
export function summarize(results: readonly ScenarioResult[]): RunSummary {
  const skipped = results.filter((result) => result.skipped).length;
  const failed = results.filter((result) => !result.ok).length;
  const passed = results.length - skipped - failed;
  return { passed, failed, skipped, ok: failed === 0 && passed > 0 };
}
