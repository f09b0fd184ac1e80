import { describe, expect, it } from 'vitest';
import { isHarnessError } from '../../common/index.ts';
import { parsePromql, parseSeriesSelector } from './promql.ts';

function parseError(parse: (query: string) => unknown, query: string): { code?: string; errorType?: string; message?: string } {
  try {
    parse(query);
  } catch (error) {
    if (isHarnessError(error)) return { code: error.code, errorType: (error as { errorType?: string }).errorType, message: error.message };
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
    ['{"up", "service.name"="api"}', 2],
    ['job:http_requests:rate5m', 1],
    ['up # trailing comment', 1],
  ])('parses the selector %s into %i matchers', (query, count) => {
    const expr = parsePromql(query);
    expect(expr.kind).toBe('selector');
    expect(expr.kind === 'selector' && expr.matchers).toHaveLength(count);
  });

  it('reads label names, operators and unquoted values', () => {
    const expr = parsePromql('{"up", job!~"no\\\\.de", `a`=`x\\y`}');
    expect(expr.kind === 'selector' && expr.matchers.map(({ name, op, value }) => [name, op, value])).toEqual([
      ['__name__', '=', 'up'],
      ['job', '!~', 'no\\.de'],
      ['a', '=', 'x\\y'],
    ]);
  });

  it.each([
    ['1', 1],
    ['-1', -1],
    ['+2.5', 2.5],
    ['.5', 0.5],
    ['0x1f', 31],
    ['1e3', 1000],
    ['1_000', 1000],
    ['1h30m', 5400],
    ['1500ms', 1.5],
    ['-Inf', -Infinity],
  ])('parses the number literal %s', (query, value) => {
    expect(parsePromql(query)).toMatchObject({ kind: 'number', value });
  });

  it.each([
    ['"a\\tb"', 'a\tb'],
    ["'it\\'s'", "it's"],
    ['`raw\\n`', 'raw\\n'],
  ])('parses the string literal %s', (query, value) => {
    expect(parsePromql(query)).toMatchObject({ kind: 'string', value });
  });

  it.each([
    ['-up', 'unary'],
    ['-(3)', 'unary'],
    ['(up)', 'paren'],
    ['scalar(up)', 'call'],
    ['vector(1)', 'call'],
    ['time()', 'call'],
  ])('parses %s as %s', (query, kind) => {
    expect(parsePromql(query).kind).toBe(kind);
  });

  it.each([
    ['sum(rate(http_requests_total{job="monitoring-mcp"}[5m]))', 'aggregation "sum"'],
    ['sum by (job) (up) / count without (instance) (up)', 'binary operator "/"'],
    ['up == bool 0', 'binary operator "=="'],
    ['a * on(instance) group_left(job) b', 'binary operator "*"'],
    ['rate(up[5m] offset 1h)', 'function "rate"'],
    ['up[5m] offset 1h', 'offset modifier'],
    ['max_over_time(up[1h:5m])', 'function "max_over_time"'],
    ['up[1h:5m]', 'subquery'],
    ['up[5m]', 'range vector selector'],
    ['up @ 1700000000', '@ modifier'],
    ['topk(3, up)', 'aggregation "topk"'],
    ['SUM(up)', 'aggregation "sum"'],
    ['histogram_quantile(0.9, sum by (le) (rate(x_bucket[5m])))', 'function "histogram_quantile"'],
  ])('marks valid PromQL it does not evaluate as unsupported: %s', (query, what) => {
    expect(parsePromql(query)).toMatchObject({ kind: 'unsupported', what });
  });

  // Positions as Prometheus reports them (line:column, 1-based); wording close to Prometheus's.
  it.each([
    ['up{', '1:4: parse error: unexpected end of input inside braces'],
    ['up{job="a"', '1:11: parse error: unexpected end of input inside braces'],
    ['', '1:1: parse error: no expression found in input'],
    ['   # only a comment', '1:1: parse error: no expression found in input'],
    ['(up', '1:4: parse error: unclosed left parenthesis'],
    ['(up +', '1:6: parse error: unclosed left parenthesis'],
    ['sum(up', '1:7: parse error: unclosed left parenthesis'],
    ['up[5m', '1:6: parse error: unexpected end of input in duration expression'],
    ['up[5m:1m', '1:9: parse error: unexpected end of input in duration expression'],
    ['up ==', '1:6: parse error: unexpected end of input'],
    ['up offset', '1:10: parse error: unexpected end of input'],
    ['up)', '1:3: parse error: unexpected ")"'],
    ['up{job="node}', '1:8: parse error: unterminated quoted string'],
    ['up{job}', '1:7: parse error: unexpected "}"'],
    ['up{job=}', '1:8: parse error: unexpected "}"'],
    ['up{job="a" x="b"}', '1:12: parse error: unexpected "x"'],
    ['up{,}', '1:4: parse error: unexpected ","'],
    ['up{job:x="a"}', '1:7: parse error: unexpected ":x"'],
    ['up up', '1:4: parse error: unexpected "up"'],
    ['up $', '1:4: parse error: unexpected "$"'],
    ['sum up', '1:5: parse error: unexpected "up"'],
    ['rate(up,)', '1:9: parse error: unexpected ")"'],
    ['up\n  $', '2:3: parse error: unexpected "$"'],
    ['foo(up)', '1:1: parse error: unknown function with name "foo"'],
    ['1 + foo (up)', '1:5: parse error: unknown function with name "foo"'],
    ['{}', '1:1: parse error: vector selector must contain at least one non-empty matcher'],
    ['{job=""}', '1:1: parse error: vector selector must contain at least one non-empty matcher'],
    ['sum({job=~".*"})', '1:5: parse error: vector selector must contain at least one non-empty matcher'],
    ['up{__name__="x"}', '1:1: parse error: metric name must not be set twice: "up" or "x"'],
    ['scalar(1)', '1:8: parse error: expected type instant vector in call to function "scalar", got scalar'],
    ['vector(up)', '1:8: parse error: expected type scalar in call to function "vector", got instant vector'],
    ['time(up)', '1:1: parse error: expected 0 argument(s) in call to "time", got 1'],
    ['scalar()', '1:1: parse error: expected 1 argument(s) in call to "scalar", got 0'],
    ['-"a"', '1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got "string"'],
  ])('rejects %j with bad_data at the right position', (query, message) => {
    expect(parseError(parsePromql, query)).toEqual({ code: 'ERR_PROMETHEUS_PARSE', errorType: 'bad_data', message });
  });

  it('rejects a regex JavaScript cannot compile with bad_data at the value', () => {
    const { code, message } = parseError(parsePromql, 'up{job=~"("}');
    expect(code).toBe('ERR_PROMETHEUS_PARSE');
    expect(message).toMatch(/^1:9: parse error: error parsing regexp: /);
  });
});

describe('parseSeriesSelector', () => {
  it('returns the matchers of a match[] selector', () => {
    expect(parseSeriesSelector('up{job="node"}').map((m) => `${m.name}${m.op}${m.value}`)).toEqual(['job=node', '__name__=up']);
  });

  it.each([
    ['sum(up)', '1:1: parse error: unexpected "sum"'],
    ['up + 1', '1:4: parse error: unexpected "+"'],
    ['up[5m]', '1:3: parse error: unexpected "["'],
    ['(up)', '1:1: parse error: unexpected "("'],
    ['{}', '1:1: parse error: vector selector must contain at least one non-empty matcher'],
    ['up{', '1:4: parse error: unexpected end of input inside braces'],
  ])('rejects %j, which is not a lone vector selector', (query, message) => {
    expect(parseError(parseSeriesSelector, query)).toEqual({ code: 'ERR_PROMETHEUS_PARSE', errorType: 'bad_data', message });
  });
});
