import { spawn, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';
import { NebulaLabError, type NebulaLabErrorCode } from './errors.ts';

/** One line of nebula's JSON log (`logging.format: json`); a non-JSON line becomes `{ level: 'raw', msg }`. */
export interface NebulaLogEntry {
  readonly level: string;
  readonly msg: string;
  readonly [field: string]: unknown;
}

export type NebulaLogPredicate = (entry: NebulaLogEntry) => boolean;

export interface WaitForLogOptions {
  /** Look only at entries with index >= from (see `mark()`); default 0. */
  from?: number;
  timeoutMs: number;
  /** What is awaited, for the error message. */
  what: string;
  /** Error code on timeout; default ERR_NEBULA_START. */
  code?: NebulaLabErrorCode;
  /** Stops waiting (rejects with the signal's reason). */
  signal?: AbortSignal;
}

/** A nebula process running inside a namespace, with its log kept in memory. */
export interface StartedNebulaProcess extends AsyncDisposable {
  readonly name: string;
  readonly pid: number;
  readonly entries: readonly NebulaLogEntry[];
  /** The index the next log entry will get: pass it as `from` to look only at what follows. */
  mark(): number;
  find(predicate: NebulaLogPredicate, from?: number): NebulaLogEntry | undefined;
  /** Resolves with the first entry (from `from` on) that matches; rejects on timeout or exit. */
  waitFor(predicate: NebulaLogPredicate, options: WaitForLogOptions): Promise<NebulaLogEntry>;
  /** Sends SIGHUP and awaits nebula's own word on the firewall part of the reload. */
  reload(options?: { timeoutMs?: number }): Promise<'installed' | 'unchanged'>;
  /** The last `count` log lines, for error messages. */
  tail(count?: number): string;
  close(): Promise<void>;
}

export interface StartNebulaProcessOptions {
  /** Label for messages, e.g. `a`. */
  name: string;
  namespace: string;
  configFile: string;
  /** How long to wait for "Nebula interface is active"; default 5000 ms. */
  readyTimeoutMs?: number;
}

const STOP_GRACE_MS = 3_000;

interface Waiter {
  predicate: NebulaLogPredicate;
  from: number;
  resolve(entry: NebulaLogEntry): void;
  reject(error: Error): void;
}

/**
 * Starts `ip netns exec NS nebula -config FILE` and resolves once nebula says its interface is
 * active; rejects with ERR_NEBULA_START (with the log tail) if it exits or stays silent.
 *
 * @example
 * await using node = await startNebulaProcess({ name: 'a', namespace: 'mth-1-0-a', configFile });
 * await node.waitFor((e) => e.msg === 'Handshake message received', { timeoutMs: 5000, what: 'handshake' });
 */
export async function startNebulaProcess(options: StartNebulaProcessOptions): Promise<StartedNebulaProcess> {
  const child = spawn('ip', ['netns', 'exec', options.namespace, 'nebula', '-config', options.configFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const node = new NebulaProcess(options.name, child);
  try {
    await node.waitFor((entry) => entry.msg === 'Nebula interface is active', {
      timeoutMs: options.readyTimeoutMs ?? 5_000,
      what: '"Nebula interface is active"',
    });
    return node;
  } catch (error) {
    await node.close();
    throw error;
  }
}

class NebulaProcess implements StartedNebulaProcess {
  readonly name: string;
  readonly entries: NebulaLogEntry[] = [];
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;
  #exit: string | undefined;
  #waiters = new Set<Waiter>();
  #closing: Promise<void> | undefined;

  constructor(name: string, child: ChildProcess) {
    this.name = name;
    this.#child = child;
    this.#exited = new Promise((resolve) => {
      const settle = (description: string): void => {
        if (this.#exit !== undefined) return;
        this.#exit = description;
        for (const waiter of this.#waiters) waiter.reject(this.#error('ERR_NEBULA_START', `nebula ${name} ${description}`));
        this.#waiters.clear();
        resolve();
      };
      // 'close' comes after the output streams ended, so the log is complete by then.
      child.once('close', (code, signal) => settle(signal ? `killed by ${signal}` : `exited with code ${code}`));
      child.once('error', (error) => settle(`failed to start: ${error.message}`));
    });
    for (const stream of [child.stdout, child.stderr]) {
      if (stream) readline.createInterface({ input: stream }).on('line', (line) => this.#push(line));
    }
  }

  get pid(): number {
    return this.#child.pid ?? -1;
  }

  mark(): number {
    return this.entries.length;
  }

  find(predicate: NebulaLogPredicate, from = 0): NebulaLogEntry | undefined {
    for (let index = from; index < this.entries.length; index++) {
      const entry = this.entries[index];
      if (entry && predicate(entry)) return entry;
    }
    return undefined;
  }

  waitFor(predicate: NebulaLogPredicate, options: WaitForLogOptions): Promise<NebulaLogEntry> {
    const from = options.from ?? 0;
    const found = this.find(predicate, from);
    if (found) return Promise.resolve(found);
    if (this.#exit) return Promise.reject(this.#error('ERR_NEBULA_START', `nebula ${this.name} ${this.#exit}`));
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.#waiters.delete(waiter);
      };
      const waiter: Waiter = {
        predicate,
        from,
        resolve: (entry) => {
          done();
          resolve(entry);
        },
        reject: (error) => {
          done();
          reject(error);
        },
      };
      const onAbort = (): void => waiter.reject(signal?.reason as Error);
      const timer = setTimeout(() => {
        const code = options.code ?? 'ERR_NEBULA_START';
        waiter.reject(this.#error(code, `nebula ${this.name}: no ${options.what} within ${options.timeoutMs} ms`));
      }, options.timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.add(waiter);
    });
  }

  async reload(options: { timeoutMs?: number } = {}): Promise<'installed' | 'unchanged'> {
    const from = this.mark();
    this.#child.kill('SIGHUP');
    const entry = await this.waitFor(
      (e) =>
        e.msg === 'New firewall has been installed' ||
        e.msg === 'No firewall config change detected' ||
        e.msg === 'Error while creating firewall during reload',
      { from, timeoutMs: options.timeoutMs ?? 5_000, what: 'firewall reload outcome', code: 'ERR_NEBULA_RELOAD' },
    );
    if (entry.msg === 'Error while creating firewall during reload') {
      throw this.#error('ERR_NEBULA_RELOAD', `nebula ${this.name} refused the new firewall: ${String(entry['error'])}`);
    }
    return entry.msg === 'New firewall has been installed' ? 'installed' : 'unchanged';
  }

  tail(count = 15): string {
    return this.entries
      .slice(-count)
      .map((entry) => JSON.stringify(entry))
      .join('\n');
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#exit === undefined) {
        this.#child.kill('SIGTERM');
        const timer = setTimeout(() => this.#child.kill('SIGKILL'), STOP_GRACE_MS);
        await this.#exited;
        clearTimeout(timer);
      }
    })();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #push(line: string): void {
    let entry: NebulaLogEntry;
    try {
      const parsed = JSON.parse(line) as unknown;
      entry =
        typeof parsed === 'object' && parsed !== null && 'msg' in parsed
          ? (parsed as NebulaLogEntry)
          : { level: 'raw', msg: line };
    } catch {
      entry = { level: 'raw', msg: line };
    }
    this.entries.push(entry);
    const index = this.entries.length - 1;
    for (const waiter of this.#waiters) {
      if (index >= waiter.from && waiter.predicate(entry)) {
        this.#waiters.delete(waiter);
        waiter.resolve(entry);
      }
    }
  }

  #error(code: NebulaLabErrorCode, message: string): NebulaLabError {
    return new NebulaLabError(code, `${message}\n--- last log lines of nebula ${this.name} ---\n${this.tail()}`);
  }
}
