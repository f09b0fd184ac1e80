import { describe, expect, it } from 'vitest';
import { evaluateInstant, formatAlertValue, formatSampleValue } from './evaluate.ts';
import type { FixtureSeries } from './fixture.ts';
import { parsePromql } from './promql.ts';

const T = Date.parse('2025-10-01T18:00:00Z');
const series: FixtureSeries[] = [
  { metric: { __name__: 'up', job: 'node', instance: 'b:9100' }, value: 0 },
  { metric: { __name__: 'up', job: 'node', instance: 'a:9100' }, value: '1' },
  { metric: { __name__: 'up', job: 'grafana', instance: 'g:3000' }, value: 1 },
];

describe('formatSampleValue', () => {
  // Go's strconv.FormatFloat(v, 'f', -1, 64), as in Prometheus's JSON.
  it.each([
    [1, '1'],
    [0.5, '0.5'],
    [183204.51, '183204.51'],
    [1.5e-7, '0.00000015'],
    [1e21, '1000000000000000000000'],
    [-2.5e22, '-25000000000000000000000'],
    [NaN, 'NaN'],
    [Infinity, '+Inf'],
    [-Infinity, '-Inf'],
  ])('writes %d as %j', (value, text) => {
    expect(formatSampleValue(value)).toBe(text);
  });
});

describe('formatAlertValue', () => {
  it.each([
    [1, '1e+00'],
    [0, '0e+00'],
    [0.9835, '9.835e-01'],
    [12345, '1.2345e+04'],
  ])('writes %d as %j', (value, text) => {
    expect(formatAlertValue(value)).toBe(text);
  });
});

describe('evaluateInstant', () => {
  it('returns the matching series in label order, stamped with the evaluation time', () => {
    expect(evaluateInstant(parsePromql('up{job="node"}'), series, T)).toEqual({
      resultType: 'vector',
      result: [
        { metric: { __name__: 'up', instance: 'a:9100', job: 'node' }, value: [T / 1000, '1'] },
        { metric: { __name__: 'up', instance: 'b:9100', job: 'node' }, value: [T / 1000, '0'] },
      ],
    });
  });

  it.each([
    ['scalar(up{job="grafana"})', '1'],
    ['scalar(up)', 'NaN'],
    ['-(3)', '-3'],
    ['time()', String(T / 1000)],
  ])('evaluates %s to the scalar %j', (query, value) => {
    expect(evaluateInstant(parsePromql(query), series, T)).toEqual({ resultType: 'scalar', result: [T / 1000, value] });
  });

  it('drops the metric name when negating a vector', () => {
    const data = evaluateInstant(parsePromql('-up{job="grafana"}'), series, T);
    expect(data).toEqual({ resultType: 'vector', result: [{ metric: { instance: 'g:3000', job: 'grafana' }, value: [T / 1000, '-1'] }] });
  });

  it('throws ERR_PROMETHEUS_UNSUPPORTED for an aggregation', () => {
    expect(() => evaluateInstant(parsePromql('sum(up)'), series, T)).toThrow(
      expect.objectContaining({ code: 'ERR_PROMETHEUS_UNSUPPORTED', errorType: 'execution' }),
    );
  });
});
