import { summarize, type ScenarioResult } from '../runner/index.ts';

/** The `--json` document: one entry per scenario, servers in the worker's report shape. */
export interface JsonReport {
  /** Something ran and every expectation was met (a run that skipped everything is not ok). */
  ok: boolean;
  results: {
    scenario: string;
    ok: boolean;
    skipped?: string;
    error?: { code: string; message: string };
    /** Who played the worker: `simulated` or `claude-code` (with its version). */
    client?: { name: string; version?: string };
    /** Wall time of the scenario, ms. */
    elapsedMs: number;
    /** On a virtual clock: the bounds it jumped over, ms (absent in real time). */
    waitedMs?: number;
    mcp_servers: {
      name: string;
      status: string;
      expected: unknown;
      ok: boolean;
      reason?: { kind: string; detail: string; hop?: unknown };
      tools: string[];
      unpermitted: string[];
      mismatches: string[];
    }[];
  }[];
}

/**
 * @example
 * process.stdout.write(`${JSON.stringify(toJsonReport(results), null, 2)}\n`);
 */
export function toJsonReport(results: ScenarioResult[]): JsonReport {
  return {
    ok: summarize(results).ok,
    results: results.map((result) => ({
      scenario: result.scenario,
      ok: result.ok,
      ...(result.skipped ? { skipped: result.skipped } : {}),
      ...(result.error ? { error: result.error } : {}),
      ...(result.client ? { client: result.client } : {}),
      elapsedMs: Math.round(result.elapsedMs),
      ...(result.waitedMs === undefined ? {} : { waitedMs: result.waitedMs }),
      mcp_servers: result.servers.map((server) => ({
        name: server.name,
        status: server.status,
        expected: server.expected ?? null,
        ok: server.ok,
        ...(server.reason ? { reason: server.reason } : {}),
        tools: server.tools,
        unpermitted: server.unpermitted,
        mismatches: server.mismatches,
      })),
    })),
  };
}
