// The client helper against the same handlers, in-process through msw's setupServer. This file
// patches the global fetch while it runs, so no real-server test lives here.
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../common/index.ts';
import type { Fetch } from '../../common/index.ts';
import { getRules, listMetrics, queryPrometheus } from './client.ts';
import { prometheusHandlers } from './handlers.ts';

// Never dialled: msw answers every request to it, and unhandled ones fail instead of leaving the process.
const PROMETHEUS = 'http://127.0.0.1:9090';
const NOW = Date.parse('2025-10-01T18:00:00Z');

const server = setupServer(...prometheusHandlers({ baseUrl: PROMETHEUS, clock: new ManualClock(NOW) }));

beforeAll(() => server.listen({ onUnhandledFrame: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('queryPrometheus', () => {
  it('returns the vector of a selector', async () => {
    const data = await queryPrometheus(PROMETHEUS, 'up{job="node"}');
    expect(data).toEqual({
      resultType: 'vector',
      result: [
        { metric: { __name__: 'up', instance: 'monitoring-dev-1:9100', job: 'node' }, value: [NOW / 1000, '1'] },
        { metric: { __name__: 'up', instance: 'monitoring-dev-2:9100', job: 'node' }, value: [NOW / 1000, '0'] },
      ],
    });
  });

  it('returns a scalar for a numeric literal, at the requested time', async () => {
    const data = await queryPrometheus(PROMETHEUS, '42', { time: new Date('2024-01-01T00:00:00Z') });
    expect(data).toEqual({ resultType: 'scalar', result: [1704067200, '42'] });
  });

  it('uses the fetch it is given', async () => {
    const seen: string[] = [];
    const counting: Fetch = (input, init) => {
      seen.push(String(input));
      return globalThis.fetch(input, init);
    };
    await queryPrometheus(PROMETHEUS, 'up', counting);
    expect(seen).toEqual([`${PROMETHEUS}/api/v1/query?query=up`]);
  });

  it('throws ERR_PROMETHEUS_BAD_DATA with Prometheus errorType and status for a query that does not parse', async () => {
    const error = await rejection(queryPrometheus(PROMETHEUS, 'up{'));
    expect(error).toMatchObject({ code: 'ERR_PROMETHEUS_BAD_DATA', errorType: 'bad_data', status: 400 });
    expect((error as Error).message).toBe('invalid parameter "query": 1:4: parse error: unexpected end of input inside braces');
  });

  it('throws ERR_PROMETHEUS_API_ERROR for any other API error', async () => {
    const error = await rejection(queryPrometheus(PROMETHEUS, 'sum(up)'));
    expect(error).toMatchObject({ code: 'ERR_PROMETHEUS_API_ERROR', errorType: 'execution', status: 422 });
  });

  it('throws ERR_PROMETHEUS_UNREACHABLE when the request fails', async () => {
    server.use(http.get(`${PROMETHEUS}/api/v1/query`, () => HttpResponse.error()));
    expect(await rejection(queryPrometheus(PROMETHEUS, 'up'))).toMatchObject({ code: 'ERR_PROMETHEUS_UNREACHABLE' });
  });

  it('throws ERR_PROMETHEUS_BAD_RESPONSE when the answer is not a Prometheus envelope', async () => {
    server.use(http.get(`${PROMETHEUS}/api/v1/query`, () => HttpResponse.text('Bad Gateway', { status: 502 })));
    expect(await rejection(queryPrometheus(PROMETHEUS, 'up'))).toMatchObject({ code: 'ERR_PROMETHEUS_BAD_RESPONSE', status: 502 });
  });

  it('throws ERR_PROMETHEUS_BAD_RESPONSE when data has the wrong shape', async () => {
    server.use(http.get(`${PROMETHEUS}/api/v1/query`, () => HttpResponse.json({ status: 'success', data: { resultType: 'vector' } })));
    expect(await rejection(queryPrometheus(PROMETHEUS, 'up'))).toMatchObject({ code: 'ERR_PROMETHEUS_BAD_RESPONSE' });
  });

  it.each(['not a url', 'ftp://127.0.0.1:9090'])('throws ERR_PROMETHEUS_INVALID_URL for the base URL %j', async (baseUrl) => {
    expect(await rejection(queryPrometheus(baseUrl, 'up'))).toMatchObject({ code: 'ERR_PROMETHEUS_INVALID_URL' });
  });

  it('answers under a base URL with a path prefix', async () => {
    const prefixed = `${PROMETHEUS}/prometheus`;
    server.use(...prometheusHandlers({ baseUrl: `${prefixed}/`, clock: new ManualClock(NOW) }));
    expect(await queryPrometheus(prefixed, '1')).toEqual({ resultType: 'scalar', result: [NOW / 1000, '1'] });
  });
});

describe('getRules', () => {
  it('returns only alerting rules with type alert', async () => {
    const groups = await getRules(PROMETHEUS, { type: 'alert' });
    expect(groups.length).toBeGreaterThan(0);
    expect(new Set(groups.flatMap((g) => g.rules.map((r) => r.type)))).toEqual(new Set(['alerting']));
  });

  it('returns alerting and recording rules without a type', async () => {
    const groups = await getRules(PROMETHEUS);
    expect(new Set(groups.flatMap((g) => g.rules.map((r) => r.type)))).toEqual(new Set(['alerting', 'recording']));
  });
});

describe('listMetrics', () => {
  it('returns metric names sorted', async () => {
    const names = await listMetrics(PROMETHEUS);
    expect(names).toContain('up');
    expect(names).toEqual([...names].sort());
  });
});
