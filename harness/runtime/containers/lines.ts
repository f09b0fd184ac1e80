import type { Readable } from 'node:stream';

/** A JSON object printed as one line by a container's process (services, the shim, the worker). */
export type JsonLine = Record<string, unknown>;

/**
 * Reads a container's log stream line by line: keeps the JSON object lines, and the last plain
 * lines (stderr messages) for error reports. `waitFor` resolves once a matching line has arrived.
 *
 * @example
 * const lines = new LineCollector();
 * container.withLogConsumer((stream) => lines.attach(stream));
 * await lines.waitFor((line) => line.event === 'mark', 5_000);
 */
export class LineCollector {
  readonly json: JsonLine[] = [];
  readonly #plain: string[] = [];
  readonly #waiters = new Set<{ match: (line: JsonLine) => boolean; resolve: (line: JsonLine) => void }>();
  readonly #streams = new Set<Readable>();
  readonly #listeners = new Set<(line: JsonLine) => void>();
  #partial = '';

  attach(stream: Readable): void {
    this.#streams.add(stream);
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => this.push(chunk));
    stream.on('error', () => {}); // a stream cut by the container's removal
    stream.once('close', () => this.#streams.delete(stream));
  }

  /** Feeds raw output (for a stream attached elsewhere). */
  push(chunk: string): void {
    const text = this.#partial + chunk;
    const lines = text.split('\n');
    this.#partial = lines.pop() ?? '';
    for (const line of lines) this.#line(line.replace(/\r$/, ''));
  }

  /** The last plain (non-JSON) lines, for an error message. */
  tail(count = 8): string {
    return [...this.#plain, ...(this.#partial ? [this.#partial] : [])].slice(-count).join('\n');
  }

  /** Resolves with the first line (already seen or still to come) that `match`es; rejects after `timeoutMs`. */
  waitFor(match: (line: JsonLine) => boolean, timeoutMs: number, what = 'a log line'): Promise<JsonLine> {
    const seen = this.json.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter = {
        match,
        resolve: (line: JsonLine) => {
          clearTimeout(timer);
          this.#waiters.delete(waiter);
          resolve(line);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`${what} did not arrive within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }

  /** Calls `listener` on each JSON line from now on; returns the unsubscribe function. */
  onLine(listener: (line: JsonLine) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  close(): void {
    for (const stream of this.#streams) stream.destroy();
    this.#streams.clear();
  }

  #line(line: string): void {
    if (line.startsWith('{')) {
      try {
        const value: unknown = JSON.parse(line);
        if (value && typeof value === 'object' && !Array.isArray(value)) {
          this.json.push(value as JsonLine);
          for (const waiter of [...this.#waiters]) if (waiter.match(value as JsonLine)) waiter.resolve(value as JsonLine);
          for (const listener of [...this.#listeners]) listener(value as JsonLine);
          return;
        }
      } catch {
        // not JSON after all: a plain line
      }
    }
    if (line.trim() === '') return;
    this.#plain.push(line);
    if (this.#plain.length > 50) this.#plain.shift();
  }
}
