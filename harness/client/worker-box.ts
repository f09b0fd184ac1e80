import type { Readable } from 'node:stream';
import { ClientError, type ClientErrorCode } from './errors.ts';

/** A command to run as the worker node, in the place its runtime keeps for it. */
export interface WorkerBoxCommand {
  argv: string[];
  /** The process's whole environment (the box adds only its image's PATH when this has none). */
  env: Record<string, string>;
  /** Written into the box before the command starts (the worker's `.mcp.json`, settings.json, ...). */
  files?: { target: string; content: string }[];
  /** Files of this machine given to the box read-only (a user's own binary), at `target`. */
  mounts?: { source: string; target: string }[];
  /** What the box runs from; default the runtime's own (the harness image). */
  image?: string;
  /** How to get `image` when it is missing (said in the error). */
  imageHint?: string;
}

/** A command running in a box: its output, its end, and a way to end it. */
export interface StartedBoxCommand extends AsyncDisposable {
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** Its exit status once it ends (128 + the signal's number when a signal ended it). */
  readonly exited: Promise<number>;
  /** Ends it (SIGTERM, then SIGKILL) and removes the box; safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Where a runtime runs the worker's processes when they cannot run in this one: the containers
 * runtime's is a fresh container on the worker node's network (the egress its only way out).
 * A client adapter that can run there says so with `WorkerClient.runInBox`.
 *
 * @example
 * await using started = await box.start({ argv: ['node', '-e', 'console.log(1)'], env: {} });
 * await started.exited; // 0
 */
export interface WorkerBox {
  start(command: WorkerBoxCommand): Promise<StartedBoxCommand>;
}

/**
 * Runs `command` in `box` until its stdout prints a JSON line that `match` accepts, then stops it
 * and returns that line. Rejects with `code` (and the last lines of stderr) when it ends first or
 * `timeoutMs` passes. The box is gone when this returns or throws.
 *
 * @example
 * const line = await runBoxUntilLine(box, command, (line) => line.type === 'harness_report', { timeoutMs: 60_000, what: "the worker's report" });
 */
export async function runBoxUntilLine(
  box: WorkerBox,
  command: WorkerBoxCommand,
  match: (line: Record<string, unknown>) => boolean,
  options: { timeoutMs: number; what: string; code?: ClientErrorCode },
): Promise<Record<string, unknown>> {
  await using started = await box.start(command);
  let stderr = '';
  started.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const fail = (why: string) =>
    new ClientError(options.code ?? 'ERR_CLIENT_BOX', `${options.what}: ${command.argv[0]} ${why}${stderr.trim() ? `; stderr: ${stderr.trim().slice(-1500)}` : ''}`);
  return await new Promise<Record<string, unknown>>((resolve, reject) => {
    let partial = '';
    const timer = setTimeout(() => reject(fail(`printed nothing it was waiting for within ${options.timeoutMs} ms`)), options.timeoutMs);
    const done = () => clearTimeout(timer);
    started.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.startsWith('{')) continue;
        let parsed: unknown;
        try {
          parsed = JSON.parse(line);
        } catch {
          continue;
        }
        if (parsed && typeof parsed === 'object' && match(parsed as Record<string, unknown>)) {
          done();
          resolve(parsed as Record<string, unknown>);
        }
      }
    });
    // Its stdout ends once it has exited and every line it printed has been read: only then is a missing line missing.
    started.stdout.once('close', () => {
      void started.exited.then(
        (code) => {
          done();
          reject(fail(`exited (code ${code}) without it`));
        },
        (error: unknown) => {
          done();
          reject(fail(`could not run (${(error as Error).message})`));
        },
      );
    });
  });
}
