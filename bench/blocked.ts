import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { VirtualClock } from '../common/index.ts';
import { compare, diagnose } from '../harness/runner/index.ts';
import { inProcessRuntime } from '../harness/runtime/index.ts';
import { loadScenarioFile } from '../harness/topology/index.ts';
import { SCENARIOS_DIR, writeWithTimeout } from './generate.ts';
import { median, round } from './measure.ts';

export interface BlockedArgs {
  /** Scenario bounds (timeout_ms) to try. */
  timeoutsMs: number[];
  repeats: number;
  /** `virtual`: each repeat on its own VirtualClock (the in-process default of `harness run`); default real time. */
  time?: 'virtual' | 'real';
}

export interface BlockedRow {
  flow: 'worker -> monitoring-mcp dropped' | 'monitoring-mcp -> auth-server (JWKS) dropped';
  timeoutMs: number;
  /** Median time from the worker's connect to prometheus's `failed`, on the run's clock (virtual or real). */
  failedAfterMs: number;
  /** Median wall time of the worker's run. */
  wallMs: number;
  time: 'virtual' | 'real';
  /** The wait the scenario implies (see expectedWaitMs). */
  expectedMs: number;
  /** failedAfterMs - expectedMs: what the harness adds to that wait. */
  overMs: number;
  reason: string;
  /** Every repeat ended as the scenario expects (status, reason, hop). */
  ok: boolean;
}

const INCIDENT = path.join(SCENARIOS_DIR, 'incidents', '2025-10-01-prometheus-mcp');
/** monitoring-mcp's default JWKS timeout (MCP_JWKS_TIMEOUT_MS) and the worker's MCP_TIMEOUT, as these scenarios leave them. */
const JWKS_TIMEOUT_MS = 5_000;
const MCP_TIMEOUT_MS = 30_000;

/**
 * What a blocked flow must cost: the worker sends its version probe and then `initialize`, so the
 * hold (or, behind monitoring-mcp, the JWKS wait, at most its own timeout) is met twice, unless the
 * worker's MCP_TIMEOUT ends it first.
 */
function expectedWaitMs(flow: BlockedRow['flow'], timeoutMs: number): number {
  const once = flow === 'worker -> monitoring-mcp dropped' ? timeoutMs : Math.min(timeoutMs, JWKS_TIMEOUT_MS);
  return Math.min(2 * once, MCP_TIMEOUT_MS);
}

/**
 * Part 4: how long a dropped flow takes to become a `failed` verdict. The worker's own flow
 * (0-as-reported: the shim holds the connection for timeout_ms, then gives up on it) and a dropped
 * hop behind the server (6-jwks-blocked: monitoring-mcp cannot fetch its JWKS; the shim gives up on
 * that flow at timeout_ms too, and monitoring-mcp answers 401).
 */
export async function measureBlockedFlow(args: BlockedArgs): Promise<{ rows: BlockedRow[] }> {
  const temp = await mkdtemp(path.join(os.tmpdir(), 'mth-bench-'));
  try {
    const rows: BlockedRow[] = [];
    for (const timeoutMs of args.timeoutsMs) {
      const dropped = await writeWithTimeout(temp, path.join(INCIDENT, '0-as-reported.yaml'), timeoutMs);
      rows.push(row('worker -> monitoring-mcp dropped', timeoutMs, await timeToFailed(dropped, args)));
      const jwks = await writeWithTimeout(temp, path.join(INCIDENT, '6-jwks-blocked.yaml'), timeoutMs, {
        prometheus: { status: 'failed', reason: 'auth.invalid_token', hop: 'monitoring-mcp -> auth-server' },
      });
      rows.push(row('monitoring-mcp -> auth-server (JWKS) dropped', timeoutMs, await timeToFailed(jwks, args)));
    }
    return { rows };
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

function row(flow: BlockedRow['flow'], timeoutMs: number, measured: Awaited<ReturnType<typeof timeToFailed>>): BlockedRow {
  const expectedMs = expectedWaitMs(flow, timeoutMs);
  return { flow, timeoutMs, expectedMs, overMs: round(measured.failedAfterMs - expectedMs), ...measured };
}

async function timeToFailed(file: string, { repeats, time = 'real' }: BlockedArgs) {
  const [scenario] = await loadScenarioFile(file);
  if (!scenario) throw new Error(`${file} defines no scenario`);
  const times: number[] = [];
  const walls: number[] = [];
  let ok = true;
  let reason = '';
  for (let i = 0; i < repeats; i++) {
    using clock = time === 'virtual' ? new VirtualClock() : undefined;
    await using running = await inProcessRuntime.start(scenario.topology, clock ? { clock } : {});
    const started = performance.now();
    const report = await running.runWorker();
    walls.push(performance.now() - started);
    const outcomes = compare(
      diagnose({ topology: scenario.topology, report, events: running.networkEvents(), serviceLog: (node) => running.serviceLog(node) }),
      scenario.expect,
    );
    const prometheus = outcomes.find((outcome) => outcome.name === 'prometheus');
    ok &&= outcomes.every((outcome) => outcome.ok);
    reason = prometheus?.reason?.kind ?? prometheus?.status ?? 'missing';
    times.push(prometheus?.elapsedMs ?? Number.NaN);
  }
  const failedAfterMs = median(times);
  return { failedAfterMs: round(failedAfterMs), wallMs: round(median(walls)), time, reason, ok };
}
