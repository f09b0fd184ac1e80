import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { getResponse } from 'msw';
import { listen, ServiceLog, systemClock } from '../../common/index.ts';
import type { Clock, ListenOptions, LogSink, Started } from '../../common/index.ts';
import { loadPrometheusFixture } from './fixture.ts';
import type { PrometheusFixture } from './fixture.ts';
import { allowedMethods, prometheusHandlers } from './handlers.ts';

export interface PrometheusOptions extends ListenOptions {
  /** A validated fixture, or the path of a fixture file. Default: the shipped `fixture.json`. */
  fixture?: PrometheusFixture | string;
  clock?: Clock;
  /** Where log entries go besides `StartedPrometheus.log` (e.g. `jsonLinesSink` in main.ts). */
  log?: LogSink;
}

export interface StartedPrometheus extends Started {
  readonly port: number;
  /** One `http.request` entry per request: method, target, status. */
  readonly log: ServiceLog;
  readonly fixture: PrometheusFixture;
}

const TEXT_PLAIN = 'text/plain; charset=utf-8';

/** What Go's net/http answers for an unknown path (http.NotFound). */
function notFound(): Response {
  return new Response('404 page not found\n', {
    status: 404,
    headers: { 'content-type': TEXT_PLAIN, 'x-content-type-options': 'nosniff' },
  });
}

/** What Prometheus's router (httprouter) answers for a known path and a wrong method. */
function methodNotAllowed(allow: string[]): Response {
  return new Response('Method Not Allowed\n', {
    status: 405,
    headers: { allow: allow.join(', '), 'content-type': TEXT_PLAIN, 'x-content-type-options': 'nosniff' },
  });
}

function internalError(error: unknown): Response {
  const message = error instanceof Error ? error.message : String(error);
  return Response.json({ status: 'error', errorType: 'internal', error: message }, { status: 500 });
}

function toFetchRequest(req: IncomingMessage, origin: string, signal: AbortSignal): Request {
  const headers = new Headers();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
  const method = req.method ?? 'GET';
  const hasBody = method !== 'GET' && method !== 'HEAD';
  return new Request(new URL(req.url ?? '/', origin), {
    method,
    headers,
    signal,
    ...(hasBody ? { body: Readable.toWeb(req) as ReadableStream<Uint8Array>, duplex: 'half' } : {}),
  } as RequestInit);
}

async function writeResponse(res: ServerResponse, response: Response, head: boolean): Promise<void> {
  res.statusCode = response.status;
  for (const [name, value] of response.headers) if (name !== 'set-cookie') res.setHeader(name, value);
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) res.setHeader('set-cookie', cookies);
  if (!response.body || head) {
    res.end();
    return;
  }
  await pipeline(Readable.fromWeb(response.body as NodeReadableStream<Uint8Array>), res);
}

/**
 * Serves the Prometheus HTTP API (the msw handlers of `prometheusHandlers`) on a real port.
 *
 * @example
 * await using prometheus = await startPrometheus({ clock: new ManualClock() });
 * await fetch(`${prometheus.url}/api/v1/query?query=up`);
 */
export async function startPrometheus(options: PrometheusOptions = {}): Promise<StartedPrometheus> {
  const clock = options.clock ?? systemClock;
  const fixture =
    typeof options.fixture === 'string' ? loadPrometheusFixture(options.fixture) : (options.fixture ?? loadPrometheusFixture());
  // Built on the first request: msw's handlers take a stack trace each, and in a topology most Prometheus servers are never asked.
  let handlers: ReturnType<typeof prometheusHandlers> | undefined;
  const log = new ServiceLog('prometheus', clock, options.log);
  let origin = 'http://127.0.0.1';

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const controller = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) controller.abort();
    });
    const method = req.method ?? 'GET';
    let response: Response;
    try {
      const request = toFetchRequest(req, origin, controller.signal);
      const matched = await getResponse((handlers ??= prometheusHandlers({ fixture, clock })), request);
      if (matched) {
        response = matched;
      } else {
        const allow = allowedMethods(new URL(request.url).pathname);
        response = allow.length > 0 && !allow.includes(method) ? methodNotAllowed(allow) : notFound();
      }
    } catch (error) {
      response = internalError(error);
    }
    log.write('http.request', { method, target: req.url, status: response.status });
    await writeResponse(res, response, method === 'HEAD');
  };

  const listening = await listen(
    (req, res) => {
      handle(req, res).catch(() => {
        // The client went away mid-answer; nothing is left to tell it.
        res.destroy();
      });
    },
    { host: options.host, port: options.port },
  );
  origin = listening.url;

  // Built by hand rather than with disposable(): its AsyncDisposable type returns PromiseLike,
  // which does not satisfy Started's Promise-returning [Symbol.asyncDispose].
  return {
    url: listening.url,
    port: listening.port,
    log,
    fixture,
    close: () => listening.close(),
    [Symbol.asyncDispose]: () => listening.close(),
  };
}
