// A containers run interrupted mid-scenario (SIGINT, as Ctrl-C; SIGTERM, as a CI runner's cancel)
// leaves no container and no network with the harness's labels behind, and touches no other run's.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containersUnavailable, dockerLines, removeSession } from './docker-available.ts';
import { suiteSession } from './suite-sessions.ts';

const repo = path.resolve(import.meta.dirname, '../..');
const skip = containersUnavailable();
if (skip) console.warn(`test/containers/interrupt.test.ts skipped: ${skip}`);

// The seed as reported, with its dropped flow held for a minute (the worker gives up at its 30 s
// MCP_TIMEOUT): the run is mid-scenario for as long as the test needs, however slow the machine.
const HELD_SCENARIO = `extends: ${JSON.stringify(path.join(repo, 'scenarios/incidents/2025-10-01-prometheus-mcp/0-as-reported.yaml'))}
description: the seed as reported, its dropped flow held for a minute
timeout_ms: 60000
expect: {grafana: connected, alertmanager: connected, prometheus: {status: failed, reason: network.dropped}}
`;
let dir: string;
let SCENARIO: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'mth-interrupt-'));
  SCENARIO = path.join(dir, 'held-for-a-minute.yaml');
  await writeFile(SCENARIO, HELD_SCENARIO);
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});
const POLL_MS = 100;
const POLL_BOUND_MS = 120_000;

/** `harness run <targets> --runtime containers` as a child process, in its own session. */
function startRun(session: string, targets?: string[]) {
  const child = spawn(process.execPath, ['harness/cli.ts', 'run', ...(targets ?? [SCENARIO]), '--runtime', 'containers'], {
    cwd: repo,
    env: { ...process.env, MTH_SESSION_ID: session, CI: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = { stdout: '', stderr: '' };
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output.stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output.stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output, exited, session };
}

type Run = ReturnType<typeof startRun>;

/**
 * For a test's `finally`: a run still going is SIGKILLed, and since a killed run cannot clean up
 * after itself, its session's containers and networks are removed here, whatever the test's outcome.
 */
async function stop(runs: Run[]): Promise<void> {
  for (const run of runs) {
    if (run.child.exitCode !== null || run.child.signalCode !== null) continue;
    run.child.kill('SIGKILL');
    await run.exited;
    const removed = removeSession(run.session);
    if (removed.containers + removed.networks > 0) {
      console.warn(`interrupt.test.ts: removed what the SIGKILLed run ${run.session} left: ${removed.containers} container(s), ${removed.networks} network(s)`);
    }
  }
}

/** Waits (bounded) until the session's worker container exists: the run is mid-scenario. */
async function workerRunning(session: string, run: Run): Promise<void> {
  const deadline = performance.now() + POLL_BOUND_MS;
  const filters = ['--filter', `label=mcp-topology-harness.session=${session}`, '--filter', 'label=mcp-topology-harness.node=claude-worker'];
  while (dockerLines('ps', '-q', ...filters).length === 0) {
    if (run.child.exitCode !== null) throw new Error(`the run ended before its worker started (exit ${run.child.exitCode}): ${run.output.stderr}`);
    if (performance.now() > deadline) throw new Error(`no worker container within ${POLL_BOUND_MS} ms: ${run.output.stderr}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

describe.skipIf(skip !== undefined)('interrupting `harness run --runtime containers`', () => {
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('removes every container and network of the run on %s', async (signal, exitCode) => {
    const session = suiteSession();
    const label = `label=mcp-topology-harness.session=${session}`;
    const run = startRun(session);
    try {
      await workerRunning(session, run);
      expect(dockerLines('ps', '-aq', '--filter', label).length).toBeGreaterThanOrEqual(6);
      expect(dockerLines('network', 'ls', '-q', '--filter', label).length).toBe(5);
      run.child.kill(signal);
      expect(await run.exited, run.output.stdout + run.output.stderr).toBe(exitCode);
    } finally {
      await stop([run]);
    }
    expect(run.output.stderr).toMatch(new RegExp(`${signal}: removed \\d+ container\\(s\\) and \\d+ network\\(s\\)`));
    expect(dockerLines('ps', '-aq', '--filter', label)).toEqual([]);
    expect(dockerLines('network', 'ls', '-q', '--filter', label)).toEqual([]);
  });

  it("leaves another run's containers alone, and that run passes", async () => {
    const [a, b] = [suiteSession(), suiteSession()];
    // B runs three scenarios, two at a time: it is still mid-run when A, one scenario, is interrupted.
    const steps = ['0-as-reported', '1-after-firewall-fix', '2-option-1-dev-mode'].map((step) => `incidents/2025-10-01-prometheus-mcp/${step}`);
    const [runA, runB] = [startRun(a), startRun(b, steps)];
    try {
      await workerRunning(a, runA);
      expect(dockerLines('ps', '-aq', '--filter', `label=mcp-topology-harness.session=${b}`).length).toBeGreaterThan(0);
      runA.child.kill('SIGINT');
      expect(await runA.exited, runA.output.stdout + runA.output.stderr).toBe(130);
      expect(dockerLines('ps', '-aq', '--filter', `label=mcp-topology-harness.session=${a}`)).toEqual([]);
      expect(dockerLines('network', 'ls', '-q', '--filter', `label=mcp-topology-harness.session=${a}`)).toEqual([]);
      expect(dockerLines('ps', '-aq', '--filter', `label=mcp-topology-harness.session=${b}`).length).toBeGreaterThan(0);
      expect(await runB.exited, runB.output.stdout + runB.output.stderr).toBe(0);
      expect(runB.output.stdout).toMatch(/^3 passed, 0 failed$/m);
    } finally {
      await stop([runA, runB]);
    }
    expect(dockerLines('ps', '-aq', '--filter', `label=mcp-topology-harness.session=${b}`)).toEqual([]);
    expect(dockerLines('network', 'ls', '-q', '--filter', `label=mcp-topology-harness.session=${b}`)).toEqual([]);
  });
});
