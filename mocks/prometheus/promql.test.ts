import { describe, expect, it } from 'vitest';
import { isHarnessError } from '../../harness/errors.ts';
import { parsePromql, parseSeriesSelector } from './promql.ts';

function parseError(query: string): { code?: string; message?: string } {
  try {
    parsePromql(query);
  } catch (error) {
    if (isHarnessError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  return {};
}

describe('parsePromql', () => {
  it.each([
    ['up', 1],
    ['up{job="node"}', 2],
    ['up{job="node",}', 2],
    ["up{job='node', instance!=\"x\"}", 3],
    ['{__name__="up"}', 1],
    ['{"up", job=~"no.*"}', 2],
    ['job:http_requests:rate5m', 1],
    ['up # trailing comment', 1],
  ])('parses the selector %s into %i matchers', (query, count) => {
    const expr = parsePromql(query);
    expect(expr.kind).toBe('selector');
    expect(expr.kind === 'selector' && expr.matchers).toHaveLength(count);
  });

  it.each([
    ['1', 1],
    ['0x1f', 31],
    ['1e3', 1000],
    ['1_000', 1000],
    ['1h30m', 5400],
  ])('parses the number literal %s', (query, value) => {
    expect(parsePromql(query)).toMatchObject({ kind: 'number', value });
  });

  it.each([
    'sum(rate(http_requests_total{job="monitoring-mcp"}[5m]))',
    'sum by (job) (up) / count without (instance) (up)',
    'up == bool 0',
    'a * on(instance) group_left(job) b',
    'rate(up[5m] offset 1h)',
    'max_over_time(up[1h:5m])',
    'up @ 1700000000',
    'topk(3, up)',
    'histogram_quantile(0.9, sum by (le) (rate(x_bucket[5m])))',
  ])('accepts valid PromQL it does not evaluate: %s', (query) => {
    expect(() => parsePromql(query)).not.toThrow();
  });

  // Wording and positions as Prometheus 3 answers them (promql/parser lex.go, parse.go).
  it.each([
    ['up{', '1:4: parse error: unexpected end of input inside braces'],
    ['', '1:1: parse error: no expression found in input'],
    ['   ', '1:1: parse error: no expression found in input'],
    ['(up', '1:4: parse error: unclosed left parenthesis'],
    ['up)', "1:4: parse error: unexpected right parenthesis ')'"],
    ['up{job="node}', '1:8: parse error: unterminated quoted string'],
    ['up{job}', '1:7: parse error: unexpected "}" in label matching, expected label matching operator'],
    ['up{job=}', '1:8: parse error: unexpected "}" in label matching, expected string'],
    ['up{job="a" x="b"}', '1:12: parse error: unexpected identifier "x" in label matching, expected "," or "}"'],
    ['up{,}', '1:4: parse error: unexpected "," in label matching, expected identifier or "}"'],
    ['up{job:x="a"}', "1:7: parse error: unexpected character inside braces: ':'"],
    ['up up', '1:4: parse error: unexpected identifier "up"'],
    ['up $', "1:4: parse error: unexpected character: '$'"],
    ['up ==', '1:6: parse error: unexpected end of input'],
    ['foo(up)', '1:1: parse error: unknown function with name "foo"'],
    ['sum up', '1:5: parse error: unexpected identifier "up" in aggregation'],
    ['{}', '1:1: parse error: vector selector must contain at least one non-empty matcher'],
    ['{job=""}', '1:1: parse error: vector selector must contain at least one non-empty matcher'],
    ['up{__name__="x"}', '1:1: parse error: metric name must not be set twice: "up" or "x"'],
    ['scalar(1)', '1:8: parse error: expected type instant vector in call to function "scalar", got scalar'],
    ['time(up)', '1:1: parse error: expected 0 argument(s) in call to "time", got 1'],
    ['(up)[5m]', '1:5: parse error: ranges only allowed for vector selectors'],
    ['up[5m:1m', '1:9: parse error: unexpected end of input in duration expression'],
    ['up offset', '1:10: parse error: unexpected end of input in offset, expected number, duration, step(), or range()'],
    ['up[5m', '1:6: parse error: unexpected end of input in duration expression'],
    ['rate(up,)', '1:8: parse error: trailing commas not allowed in function call args'],
    ['up\n  $', "2:3: parse error: unexpected character: '$'"],
  ])('rejects %j like Prometheus', (query, message) => {
    expect(parseError(query)).toEqual({ code: 'ERR_PROMETHEUS_PARSE', message });
  });
});

describe('parseSeriesSelector', () => {
  it('returns the matchers of a match[] selector', () => {
    expect(parseSeriesSelector('up{job="node"}').map((m) => `${m.name}${m.op}${m.value}`)).toEqual(['job=node', '__name__=up']);
  });

  it('rejects an expression that is not a selector', () => {
    expect(() => parseSeriesSelector('sum(up)')).toThrow(expect.objectContaining({ code: 'ERR_PROMETHEUS_PARSE' }));
  });
});
