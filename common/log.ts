import type { Clock } from './clock.ts';

/** One structured line of a service's log: what the diagnosis reads as the "server log". */
export interface LogEntry {
  /** ISO time from the service's clock. */
  time: string;
  service: string;
  /** Dotted event name, e.g. `auth.rejected`, `jwks.fetch_failed`. */
  event: string;
  [field: string]: unknown;
}

export type LogSink = (entry: LogEntry) => void;

/** Writes each entry as one JSON line on stdout: what a service's `main.ts` uses. */
export const jsonLinesSink: LogSink = (entry) => {
  process.stdout.write(`${JSON.stringify(entry)}\n`);
};

/** A service's log: keeps the last `limit` entries in memory and forwards each to an optional sink. */
export class ServiceLog {
  readonly entries: LogEntry[] = [];
  readonly #service: string;
  readonly #clock: Clock;
  readonly #sink: LogSink | undefined;
  readonly #limit: number;
  readonly #listeners = new Set<LogSink>();

  constructor(service: string, clock: Clock, sink?: LogSink, limit = 1000) {
    this.#service = service;
    this.#clock = clock;
    this.#sink = sink;
    this.#limit = limit;
  }

  write(event: string, fields: Record<string, unknown> = {}): LogEntry {
    const entry: LogEntry = { time: new Date(this.#clock.now()).toISOString(), service: this.#service, event, ...fields };
    this.entries.push(entry);
    if (this.entries.length > this.#limit) this.entries.shift();
    this.#sink?.(entry);
    for (const listener of [...this.#listeners]) listener(entry);
    return entry;
  }

  /**
   * Calls `listener` with each entry written from now on; returns the unsubscribe function.
   *
   * @example
   * const stop = server.log.onEntry((entry) => console.log(entry.event));
   */
  onEntry(listener: LogSink): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
