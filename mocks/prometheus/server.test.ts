// Over a real HTTP server on loopback. No msw setupServer in this file: it would intercept fetch.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../common/index.ts';
import { startPrometheus } from './server.ts';
import type { PrometheusFixture } from './fixture.ts';

const NOW = Date.parse('2025-10-01T18:00:00Z');

function start(fixture?: PrometheusFixture) {
  return startPrometheus({ clock: new ManualClock(NOW), ...(fixture ? { fixture } : {}) });
}

async function getJson(url: string, init?: RequestInit): Promise<{ status: number; type: string | null; body: any }> {
  const response = await fetch(url, init);
  return { status: response.status, type: response.headers.get('content-type'), body: await response.json() };
}

function query(base: string, q: string, extra: Record<string, string> = {}): string {
  return `${base}/api/v1/query?${new URLSearchParams({ query: q, ...extra })}`;
}

describe('startPrometheus /api/v1/query', () => {
  it.each([
    ['up', 7],
    ['up{job="node"}', 2],
    ['up{job=~"monitoring-.*mcp"}', 2],
    ['up{job!="node"}', 5],
    ['node_cpu_seconds_total{mode="idle"}', 2],
  ])('answers %s with a vector of %i series', async (q, count) => {
    await using prometheus = await start();
    const { status, type, body } = await getJson(query(prometheus.url, q));
    expect(status).toBe(200);
    expect(type).toBe('application/json');
    expect(body.status).toBe('success');
    expect(body.data.resultType).toBe('vector');
    expect(body.data.result).toHaveLength(count);
  });

  it('answers a label matcher with the full envelope, stamped with the injected clock', async () => {
    await using prometheus = await start();
    const { body } = await getJson(query(prometheus.url, 'up{job="node",instance="monitoring-dev-2:9100"}'));
    expect(body).toEqual({
      status: 'success',
      data: {
        resultType: 'vector',
        result: [{ metric: { __name__: 'up', instance: 'monitoring-dev-2:9100', job: 'node' }, value: [NOW / 1000, '0'] }],
      },
    });
  });

  it('answers an unknown metric with an empty vector', async () => {
    await using prometheus = await start();
    const { status, body } = await getJson(query(prometheus.url, 'no_such_metric'));
    expect(status).toBe(200);
    expect(body).toEqual({ status: 'success', data: { resultType: 'vector', result: [] } });
  });

  it('answers a numeric literal with a scalar', async () => {
    await using prometheus = await start();
    const { body } = await getJson(query(prometheus.url, '1'));
    expect(body).toEqual({ status: 'success', data: { resultType: 'scalar', result: [NOW / 1000, '1'] } });
  });

  it.each([
    ['1727805600.123', 1727805600.123],
    ['2024-10-01T18:00:00Z', 1727805600],
  ])('evaluates at the time parameter %s', async (time, seconds) => {
    await using prometheus = await start();
    const { body } = await getJson(query(prometheus.url, 'time()', { time }));
    expect(body.data.result[0]).toBe(seconds);
  });

  it('reads query and time from a POST form', async () => {
    await using prometheus = await start();
    const { body } = await getJson(`${prometheus.url}/api/v1/query`, {
      method: 'POST',
      body: new URLSearchParams({ query: 'up{job="grafana"}', time: '1700000000' }),
    });
    expect(body.data.result).toEqual([
      { metric: { __name__: 'up', instance: 'grafana.service.dev-us-east-1.consul:3000', job: 'grafana' }, value: [1700000000, '1'] },
    ]);
  });

  it.each([
    ['up{', 'invalid parameter "query": 1:4: parse error: unexpected end of input inside braces'],
    ['', 'invalid parameter "query": 1:1: parse error: no expression found in input'],
    ['(up', 'invalid parameter "query": 1:4: parse error: unclosed left parenthesis'],
    ['up)', 'invalid parameter "query": 1:3: parse error: unexpected ")"'],
    ['foo(up)', 'invalid parameter "query": 1:1: parse error: unknown function with name "foo"'],
  ])('answers the unparsable query %j with 400 bad_data', async (q, error) => {
    await using prometheus = await start();
    const { status, type, body } = await getJson(query(prometheus.url, q));
    expect(status).toBe(400);
    expect(type).toBe('application/json');
    expect(body).toEqual({ status: 'error', errorType: 'bad_data', error });
  });

  it('answers 400 bad_data when the query parameter is missing', async () => {
    await using prometheus = await start();
    const { status, body } = await getJson(`${prometheus.url}/api/v1/query`);
    expect(status).toBe(400);
    expect(body.errorType).toBe('bad_data');
  });

  it('answers 400 bad_data for a time it cannot parse', async () => {
    await using prometheus = await start();
    const { status, body } = await getJson(query(prometheus.url, 'up', { time: 'yesterday' }));
    expect(status).toBe(400);
    expect(body).toEqual({
      status: 'error',
      errorType: 'bad_data',
      error: 'invalid parameter "time": Invalid time value for \'time\': cannot parse "yesterday" to a valid timestamp',
    });
  });

  it('answers 422 execution for valid PromQL the mock does not evaluate', async () => {
    await using prometheus = await start();
    const { status, body } = await getJson(query(prometheus.url, 'sum by (job) (rate(http_requests_total[5m]))'));
    expect(status).toBe(422);
    expect(body.status).toBe('error');
    expect(body.errorType).toBe('execution');
  });

  it('serves a fixture given as an object', async () => {
    await using prometheus = await start({ series: [{ metric: { __name__: 'custom_metric', team: 'sre' }, value: '2.5' }], ruleGroups: [] });
    const { body } = await getJson(query(prometheus.url, 'custom_metric'));
    expect(body.data.result).toEqual([{ metric: { __name__: 'custom_metric', team: 'sre' }, value: [NOW / 1000, '2.5'] }]);
  });
});

describe('startPrometheus /api/v1/rules', () => {
  it('lists every group with alerting and recording rules in Prometheus field names', async () => {
    await using prometheus = await start();
    const { status, body } = await getJson(`${prometheus.url}/api/v1/rules`);
    expect(status).toBe(200);
    const node = body.data.groups.find((g: { name: string }) => g.name === 'node');
    expect(node).toMatchObject({ file: '/etc/prometheus/rules/node.yml', interval: 30, limit: 0, lastEvaluation: '2025-10-01T18:00:00Z' });
    const instanceDown = node.rules.find((r: { name: string }) => r.name === 'InstanceDown');
    expect(Object.keys(instanceDown)).toEqual([
      'state', 'name', 'query', 'duration', 'keepFiringFor', 'labels', 'annotations', 'alerts', 'health', 'evaluationTime', 'lastEvaluation', 'type',
    ]);
    expect(instanceDown).toMatchObject({ type: 'alerting', state: 'firing', query: 'up == 0', duration: 300, health: 'ok' });
    expect(instanceDown.alerts).toEqual([
      expect.objectContaining({
        labels: { alertname: 'InstanceDown', instance: 'monitoring-dev-2:9100', job: 'node', severity: 'critical' },
        state: 'firing',
        activeAt: '2025-10-01T17:41:30Z',
        value: '0e+00',
      }),
    ]);
    const recording = node.rules.find((r: { type: string }) => r.type === 'recording');
    expect(Object.keys(recording)).toEqual(['name', 'query', 'health', 'evaluationTime', 'lastEvaluation', 'type']);
  });

  it.each([
    ['alert', 'alerting'],
    ['record', 'recording'],
  ])('keeps only %s rules with type=%s', async (type, ruleType) => {
    await using prometheus = await start();
    const { body } = await getJson(`${prometheus.url}/api/v1/rules?type=${type}`);
    const types = new Set(body.data.groups.flatMap((g: { rules: { type: string }[] }) => g.rules.map((r) => r.type)));
    expect([...types]).toEqual([ruleType]);
    expect(body.data.groups.every((g: { rules: unknown[] }) => g.rules.length > 0)).toBe(true);
  });

  it('answers 400 bad_data for an unknown type', async () => {
    await using prometheus = await start();
    const { status, body } = await getJson(`${prometheus.url}/api/v1/rules?type=bogus`);
    expect(status).toBe(400);
    expect(body).toEqual({ status: 'error', errorType: 'bad_data', error: 'invalid parameter "type": not supported value "bogus"' });
  });
});

describe('startPrometheus label and health endpoints', () => {
  it('lists metric names sorted at /api/v1/label/__name__/values', async () => {
    await using prometheus = await start();
    const { status, body } = await getJson(`${prometheus.url}/api/v1/label/__name__/values`);
    expect(status).toBe(200);
    expect(body.status).toBe('success');
    expect(body.data).toEqual([...new Set(prometheus.fixture.series.map((s) => s.metric.__name__!))].sort());
    expect(body.data).toContain('up');
  });

  it('filters label values with match[]', async () => {
    await using prometheus = await start();
    const { body } = await getJson(`${prometheus.url}/api/v1/label/instance/values?match[]=${encodeURIComponent('up{job="node"}')}`);
    expect(body.data).toEqual(['monitoring-dev-1:9100', 'monitoring-dev-2:9100']);
  });

  it('answers 400 bad_data for a match[] that does not parse', async () => {
    await using prometheus = await start();
    const { status, body } = await getJson(`${prometheus.url}/api/v1/label/job/values?match[]=up{`);
    expect(status).toBe(400);
    expect(body.errorType).toBe('bad_data');
  });

  it('answers /-/healthy with 200 and Prometheus text', async () => {
    await using prometheus = await start();
    const response = await fetch(`${prometheus.url}/-/healthy`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await response.text()).toBe('Prometheus Server is Healthy.\n');
  });

  it('answers HEAD /-/healthy with 200 and no body', async () => {
    await using prometheus = await start();
    const response = await fetch(`${prometheus.url}/-/healthy`, { method: 'HEAD' });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('');
  });

  it('answers an unknown path with Go-style 404', async () => {
    await using prometheus = await start();
    const response = await fetch(`${prometheus.url}/api/v1/nope`);
    expect(response.status).toBe(404);
    expect(await response.text()).toBe('404 page not found\n');
  });

  it('answers a known path with a wrong method with 405 and Allow', async () => {
    await using prometheus = await start();
    const response = await fetch(`${prometheus.url}/api/v1/query`, { method: 'DELETE' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, POST');
    await response.body?.cancel();
  });

  it('logs one http.request entry per request', async () => {
    await using prometheus = await start();
    await (await fetch(query(prometheus.url, 'up{'))).body?.cancel();
    expect(prometheus.log.entries).toEqual([
      expect.objectContaining({ service: 'prometheus', event: 'http.request', method: 'GET', status: 400, time: '2025-10-01T18:00:00.000Z' }),
    ]);
  });
});
