import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A running service: where it listens and how to stop it. `await using` disposes it. */
export interface Started {
  /** Base URL, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface ListenOptions {
  /** Defaults to 127.0.0.1 (loopback only). */
  host?: string;
  /** Defaults to 0: the OS picks a free port. */
  port?: number;
}

export interface Listening {
  readonly server: http.Server;
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Serves `handler` on loopback and returns how to reach and close it. Closing also ends
 * keep-alive and streaming connections, so no socket outlives the service.
 *
 * @example
 * const { url, close } = await listen(expressApp, { port: 0 });
 */
export async function listen(handler: http.RequestListener, options: ListenOptions = {}): Promise<Listening> {
  const host = options.host ?? '127.0.0.1';
  const server = http.createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  let closing: Promise<void> | undefined;
  return {
    server,
    port,
    url: `http://${urlHost}:${port}`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/** Adds `Symbol.asyncDispose` to an object that has `close()`. */
export function disposable<T extends { close(): Promise<void> }>(value: T): T & { [Symbol.asyncDispose](): Promise<void> } {
  return Object.assign(value, { [Symbol.asyncDispose]: () => value.close() });
}
