import type { DelayAwareClock, Fetch, VirtualClock } from '../../common/index.ts';
import type { HeldFlow } from '../network/index.ts';

/** One request a node sent through its egress, from the call until its answer is read. */
interface Flow {
  readonly source: string;
  /** `host:port` as the request named it (what the egress sees in its CONNECT). */
  readonly key: string;
  /** The node serving `key`, when the overlay's names know it. */
  readonly node: string | undefined;
}

/**
 * What a scenario's virtual clock needs to know of the in-process network: whether any request
 * between nodes may still get a real answer. Every node's outbound fetch goes through `fetchOf`,
 * which counts a request from the call until its response body is read to the end, cancelled or
 * aborted (a GET that opens an event stream: until its headers). The egress reports the flows it
 * holds (`onHold`). A request is **waiting** (it can only end by a deadline) when
 * - the egress holds as many flows from its node to its `host:port` as the node has requests
 *   there (a drop applies to every connection from the node to that address, so each of them is
 *   held once its CONNECT arrives; until then the count is short and the request counts as real), or
 * - it was forwarded to a node that is itself waiting: that node has requests out, every one of
 *   them waiting, or deliberate waits on its clock (`clockOf`: a server slow on purpose), and at
 *   least as many of the two as there are requests into it (so each request into it can be
 *   matched with one of its held flows or waits). This is the approximation: the egress cannot tell
 *   which inbound request a node's outbound one serves; a node busy on one request while another
 *   waits on two held flows would count as waiting. A cycle of nodes waiting on each other counts
 *   as real work. A node's other timers (a fetch's timeout) are deadlines, never counted as waits.
 * Anything else is a real answer on its way, and the clock does not move.
 *
 * @example
 * const accounting = new FlowAccounting(clock, (host, port) => network.names.resolve(host, port)?.node);
 * const network = await startNetwork({ nodes, clock, onHold: accounting.onHold });
 * const fetch = accounting.fetchOf('claude-worker', proxiedFetch(network.egress('claude-worker').proxyUrl));
 */
export class FlowAccounting {
  readonly #clock: VirtualClock;
  readonly #resolve: (host: string, port: number) => string | undefined;
  readonly #flows = new Set<Flow>();
  readonly #held = new Map<string, number>();
  readonly #delays = new Map<string, number>();
  readonly #stop: () => void;

  constructor(clock: VirtualClock, resolve: (host: string, port: number) => string | undefined) {
    this.#clock = clock;
    this.#resolve = resolve;
    this.#stop = clock.addActivitySource(() => this.active());
  }

  /** The egress's hook: counts a held flow until the returned function is called. */
  readonly onHold = (flow: HeldFlow): (() => void) => this.#hold(this.#held, heldKey(flow.source, flowKey(flow.destination, flow.port)));

  /** The scenario's clock as `node`'s services see it: the same time and timers, with the node's deliberate waits counted. */
  clockOf(node: string): DelayAwareClock {
    const clock = this.#clock;
    return {
      now: () => clock.now(),
      setTimeout: (callback, ms) => clock.setTimeout(callback, ms),
      clearTimeout: (handle) => clock.clearTimeout(handle),
      delaying: () => this.#hold(this.#delays, node),
    };
  }

  /** `base` (node's fetch through its egress), with each request counted as above. */
  fetchOf(node: string, base: Fetch): Fetch {
    return (async (input: Parameters<Fetch>[0], init?: Parameters<Fetch>[1]) => {
      const request = input instanceof Request ? input : undefined;
      const url = new URL(request ? request.url : String(input));
      const host = url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
      const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
      const flow: Flow = { source: node, key: flowKey(host, port), node: this.#resolve(host, port) };
      const release = this.#add(flow);
      const signal = init?.signal ?? request?.signal;
      signal?.addEventListener('abort', release, { once: true });
      let response: Response;
      try {
        response = await base(input, init);
      } catch (error) {
        release();
        throw error;
      }
      const method = (init?.method ?? request?.method ?? 'GET').toUpperCase();
      const eventStream = method === 'GET' && (response.headers.get('content-type') ?? '').includes('text/event-stream');
      if (!response.body || eventStream) {
        release();
        return response;
      }
      return releasedAtEnd(response, release);
    }) as Fetch;
  }

  /** True while some request may still get a real answer. */
  active(): boolean {
    for (const flow of this.#flows) if (!this.#waiting(flow, new Set())) return true;
    return false;
  }

  /** The requests counted now, `source -> host:port (waiting|real)`, for tests and diagnostics. */
  describe(): string[] {
    return [...this.#flows].map((flow) => `${flow.source} -> ${flow.key} (${this.#waiting(flow, new Set()) ? 'waiting' : 'real'})`);
  }

  close(): void {
    this.#stop();
  }

  #add(flow: Flow): () => void {
    this.#flows.add(flow);
    this.#clock.notify();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#flows.delete(flow);
      this.#clock.notify();
    };
  }

  #waiting(flow: Flow, visiting: Set<string>): boolean {
    const held = this.#held.get(heldKey(flow.source, flow.key)) ?? 0;
    if (held > 0 && held >= this.#count((other) => other.source === flow.source && other.key === flow.key)) return true;
    if (flow.node === undefined || flow.node === flow.source || visiting.has(flow.node)) return false;
    return this.#nodeWaiting(flow.node, new Set(visiting).add(flow.node));
  }

  #nodeWaiting(node: string, visiting: Set<string>): boolean {
    const out = [...this.#flows].filter((flow) => flow.source === node);
    const waits = out.length + (this.#delays.get(node) ?? 0);
    if (waits === 0) return false;
    if (waits < this.#count((flow) => flow.node === node && flow.source !== node)) return false;
    return out.every((flow) => this.#waiting(flow, visiting));
  }

  /** One more under `key` in `counts` until the returned function is first called. */
  #hold(counts: Map<string, number>, key: string): () => void {
    counts.set(key, (counts.get(key) ?? 0) + 1);
    this.#clock.notify();
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      const left = (counts.get(key) ?? 1) - 1;
      if (left > 0) counts.set(key, left);
      else counts.delete(key);
      this.#clock.notify();
    };
  }

  #count(match: (flow: Flow) => boolean): number {
    let count = 0;
    for (const flow of this.#flows) if (match(flow)) count += 1;
    return count;
  }
}

function flowKey(host: string, port: number): string {
  return `${host.replace(/^\[(.*)\]$/, '$1').toLowerCase()}:${port}`;
}

function heldKey(source: string, key: string): string {
  return `${source}\u0000${key}`;
}

/** The same response, with `release` called once its body has been read to the end, failed or been cancelled. */
function releasedAtEnd(response: Response, release: () => void): Response {
  const reader = response.body!.getReader();
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { done, value } = await reader.read();
          if (done) {
            release();
            controller.close();
          } else {
            controller.enqueue(value);
          }
        } catch (error) {
          release();
          controller.error(error);
        }
      },
      cancel(reason) {
        release();
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
  const wrapped = new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  Object.defineProperty(wrapped, 'url', { value: response.url });
  Object.defineProperty(wrapped, 'redirected', { value: response.redirected });
  return wrapped;
}
