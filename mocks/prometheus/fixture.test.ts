import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPrometheusFixture, parsePrometheusFixture } from './fixture.ts';

async function tempDir(): Promise<{ path: string } & AsyncDisposable> {
  const path = await mkdtemp(join(tmpdir(), 'prometheus-fixture-'));
  return { path, [Symbol.asyncDispose]: () => rm(path, { recursive: true, force: true }) };
}

const up = { metric: { __name__: 'up', job: 'node' }, value: 1 };

describe('loadPrometheusFixture', () => {
  it('loads the shipped monitoring-dev fixture when given no path', () => {
    const fixture = loadPrometheusFixture();
    const names = new Set(fixture.series.map((s) => s.metric.__name__));
    for (const name of ['up', 'node_cpu_seconds_total', 'http_requests_total', 'alertmanager_alerts', 'grafana_build_info']) {
      expect(names).toContain(name);
    }
    expect(fixture.ruleGroups.flatMap((g) => g.rules.map((r) => r.type))).toEqual(expect.arrayContaining(['alerting', 'recording']));
  });

  it('loads a fixture file from a path', async () => {
    await using dir = await tempDir();
    const path = join(dir.path, 'fixture.json');
    await writeFile(path, JSON.stringify({ series: [up], ruleGroups: [] }));
    expect(loadPrometheusFixture(path).series).toEqual([up]);
  });

  it('throws ERR_PROMETHEUS_FIXTURE_NOT_FOUND when the file is missing', async () => {
    await using dir = await tempDir();
    expect(() => loadPrometheusFixture(join(dir.path, 'missing.json'))).toThrow(
      expect.objectContaining({ code: 'ERR_PROMETHEUS_FIXTURE_NOT_FOUND' }),
    );
  });

  it('throws ERR_PROMETHEUS_FIXTURE_INVALID_JSON when the file is not JSON', async () => {
    await using dir = await tempDir();
    const path = join(dir.path, 'fixture.json');
    await writeFile(path, '{"series": [');
    expect(() => loadPrometheusFixture(path)).toThrow(expect.objectContaining({ code: 'ERR_PROMETHEUS_FIXTURE_INVALID_JSON' }));
  });
});

describe('parsePrometheusFixture', () => {
  const group = (rule: object) => ({ name: 'g', file: '/rules.yml', interval: 30, rules: [rule] });

  it.each([
    ['a series without __name__', { series: [{ metric: { job: 'x' }, value: 1 }], ruleGroups: [] }, 'series[0].metric'],
    ['a bad label name', { series: [{ metric: { __name__: 'up', 'bad-name': 'x' }, value: 1 }], ruleGroups: [] }, 'series[0].metric.bad-name'],
    ['a value that is not a number', { series: [{ metric: { __name__: 'up' }, value: 'one' }], ruleGroups: [] }, 'series[0].value'],
    ['a duplicate series', { series: [up, up], ruleGroups: [] }, 'series[1].metric: duplicate of series[0]'],
    ['an unknown field', { series: [], ruleGroups: [], extra: true }, 'extra'],
    ['a rule query that is not PromQL', { series: [], ruleGroups: [group({ type: 'alerting', name: 'A', query: 'up{' })] }, 'not valid PromQL'],
    ['an unknown rule type', { series: [], ruleGroups: [group({ type: 'other', name: 'A', query: 'up' })] }, 'ruleGroups[0].rules[0].type'],
    ['a bad alert state', { series: [], ruleGroups: [group({ type: 'alerting', name: 'A', query: 'up', alerts: [{ state: 'on', activeAt: '2025-10-01T00:00:00Z', value: 1 }] })] }, 'state'],
  ])('throws ERR_PROMETHEUS_FIXTURE_INVALID for %s, naming the field', (_case, value, where) => {
    let caught: unknown;
    try {
      parsePrometheusFixture(value, 'test.json');
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ code: 'ERR_PROMETHEUS_FIXTURE_INVALID' });
    expect((caught as Error).message).toContain(where);
  });
});
