/**
 * The simulated claude-worker as a long-lived process: one worker run per SIGHUP, so a containers
 * topology that runs many scenarios pays for Node and the MCP SDK once, not once per scenario.
 * On SIGHUP it reads `{"n": N, "env": {...}}` from WORKER_RUN_FILE (default /tmp/harness-worker/run.json),
 * runs the worker as `harness/client/main.ts` would with the image's environment plus that env (its
 * config and settings files already in place), and prints `{"type":"harness_run","n":N,"report":...}`,
 * or `{"type":"harness_run_failed","n":N,"error":"..."}`. Each run has its own connections, closed
 * when it ends: nothing of one run is left for the next. Prints `{"type":"worker_ready"}` once it waits.
 */
import { readFileSync } from 'node:fs';
import { isHarnessError } from '../../common/index.ts';
import { runWorkerMain } from './worker-main.ts';

const RUN_FILE = process.env.WORKER_RUN_FILE || '/tmp/harness-worker/run.json';
const print = (line: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(line)}\n`);
const base = { ...process.env };
let queue: Promise<void> = Promise.resolve();

process.on('SIGHUP', () => {
  queue = queue.then(async () => {
    let n = -1;
    try {
      const run = JSON.parse(readFileSync(RUN_FILE, 'utf8')) as { n?: unknown; env?: unknown };
      if (typeof run.n !== 'number' || !run.env || typeof run.env !== 'object') throw new Error(`${RUN_FILE} must hold {"n": number, "env": {...}}`);
      n = run.n;
      const report = await runWorkerMain({ ...base, ...(run.env as Record<string, string>) });
      print({ type: 'harness_run', n, report });
    } catch (error) {
      const message = isHarnessError(error) ? `${error.code}: ${error.message}` : error instanceof Error ? error.message : String(error);
      print({ type: 'harness_run_failed', n, error: message });
    }
  });
});
process.once('SIGTERM', () => process.exit(0));
process.once('SIGINT', () => process.exit(0));
print({ type: 'worker_ready' });
// Keeps the process up between runs.
setInterval(() => {}, 1 << 30);
