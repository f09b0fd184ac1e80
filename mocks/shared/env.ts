import { readFileSync } from 'node:fs';
import type { ListenOptions, LogSink } from '../../common/index.ts';
import { jsonLinesSink } from '../../common/index.ts';

/** PORT and HOST from the environment, as every service's `main.ts` reads them. */
export function listenOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): ListenOptions {
  return { host: env.HOST || '127.0.0.1', port: env.PORT ? Number(env.PORT) : 0 };
}

/**
 * What `runMain` prints once the service listens; `resets` counts the SIGHUPs it has served so far.
 * On each SIGHUP it first prints `{"service", "event": "reset", "resets"}`: what follows is the new instance's.
 */
export interface ListeningLine {
  service: string;
  event: 'listening';
  url: string;
  resets: number;
}

/**
 * The variable naming the file a runtime may write before a SIGHUP to give the next instance
 * another env (the containers runtime, reusing a container for a scenario whose service env differs).
 */
export const SERVICE_ENV_FILE_ENV = 'HARNESS_SERVICE_ENV_FILE';

/** That file: applied by the reset numbered `n` only, so a file left from an earlier reset changes nothing. */
export interface ServiceEnvFile {
  n: number;
  /** Set in the process's env. */
  env: Record<string, string>;
  /** Removed from it (what the previous instance had and this one does not). */
  unset: string[];
}

/**
 * Runs a service from its `main.ts`: starts it with `log` (JSON lines on stdout), prints a
 * `listening` line (what a container runtime waits for), and closes it on SIGINT/SIGTERM.
 *
 * On SIGHUP it starts afresh in the same process: it prints a `reset` line, the running instance is
 * closed (its connections end, and whatever it would still log is dropped), a new one is started as at first (new keys, empty
 * caches, no session) and `listening` is printed again with `resets` one higher. A runtime that runs
 * one scenario after another on the same container sends it between them, so no state crosses.
 * When the file named by HARNESS_SERVICE_ENV_FILE holds this reset's number, its env is applied
 * first (the service reads its env anew as it starts).
 *
 * @example
 * await runMain('prometheus', (log) => startPrometheus({ ...listenOptionsFromEnv(), log }));
 */
export async function runMain(name: string, start: (log: LogSink) => Promise<{ url: string; close(): Promise<void> }>): Promise<void> {
  let resets = 0;
  /** The sink of the instance running now; an instance closed by a reset writes nothing more. */
  const instanceSink = () => {
    const own = resets;
    return ((entry) => {
      if (own === resets) jsonLinesSink(entry);
    }) as LogSink;
  };
  const up = async () => {
    const service = await start(instanceSink());
    const line: ListeningLine = { service: name, event: 'listening', url: service.url, resets };
    process.stdout.write(`${JSON.stringify(line)}\n`);
    return service;
  };
  const fail = (error: unknown) => {
    process.stderr.write(`${name}: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  };
  // The handlers go in before the first start: a signal sent as soon as `listening` is read must find
  // them (SIGHUP's default would end the process).
  let service: { url: string; close(): Promise<void> } | undefined;
  let queue: Promise<void> = up().then((started) => {
    service = started;
  }, fail);
  const stop = () => {
    void queue.then(() => service?.close()).then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  process.on('SIGHUP', () => {
    queue = queue
      .then(async () => {
        resets++;
        applyEnvFile(resets);
        // Every line after this one is the new instance's (the old one's sink is silent from now on).
        process.stdout.write(`${JSON.stringify({ service: name, event: 'reset', resets })}\n`);
        await service?.close();
        service = await up();
      })
      .catch(fail);
  });
  await queue;
}

function applyEnvFile(reset: number): void {
  const file = process.env[SERVICE_ENV_FILE_ENV];
  if (!file) return;
  let next: ServiceEnvFile;
  try {
    next = JSON.parse(readFileSync(file, 'utf8')) as ServiceEnvFile;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new Error(`${file}: not a service env file: ${(error as Error).message}`, { cause: error });
  }
  if (next.n !== reset) return;
  for (const name of next.unset) delete process.env[name];
  Object.assign(process.env, next.env);
}

