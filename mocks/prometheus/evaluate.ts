import { PrometheusError } from './errors.ts';
import type { FixtureSeries, LabelSet, SampleValue } from './fixture.ts';
import { matchesLabel } from './promql.ts';
import type { Expr, LabelMatcher } from './promql.ts';

/** `[<unix seconds>, "<value>"]`, as Prometheus writes a sample. */
export type SamplePair = [number, string];

export type QueryData =
  | { resultType: 'vector'; result: { metric: LabelSet; value: SamplePair }[] }
  | { resultType: 'scalar'; result: SamplePair }
  | { resultType: 'string'; result: SamplePair };

type Value =
  | { type: 'vector'; samples: { metric: LabelSet; value: number }[] }
  | { type: 'scalar'; value: number }
  | { type: 'string'; value: string };

/** A fixture value as a float. */
export function sampleValue(value: SampleValue): number {
  if (typeof value === 'number') return value;
  if (value === 'NaN') return NaN;
  if (value === '+Inf' || value === 'Inf') return Infinity;
  if (value === '-Inf') return -Infinity;
  return Number(value);
}

/**
 * A float the way Prometheus writes sample values: Go's strconv.FormatFloat(v, 'f', -1, 64),
 * i.e. the shortest round-tripping digits and never an exponent.
 */
export function formatSampleValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  if (Object.is(value, -0)) return '-0';
  const text = String(value);
  const e = text.indexOf('e');
  if (e < 0) return text;
  const negative = text.startsWith('-');
  const mantissa = text.slice(negative ? 1 : 0, e);
  const exponent = Number(text.slice(e + 1));
  const [whole = '', fraction = ''] = mantissa.split('.');
  const digits = whole + fraction;
  const point = whole.length + exponent;
  let out: string;
  if (point <= 0) out = `0.${'0'.repeat(-point)}${digits}`;
  else if (point >= digits.length) out = digits + '0'.repeat(point - digits.length);
  else out = `${digits.slice(0, point)}.${digits.slice(point)}`;
  return negative ? `-${out}` : out;
}

/** Go's strconv.FormatFloat(v, 'e', -1, 64): how Prometheus writes an alert's `value`. */
export function formatAlertValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  const [mantissa, exponent = '0'] = value.toExponential().split('e');
  const sign = exponent.startsWith('-') ? '-' : '+';
  const digits = exponent.replace(/^[+-]/, '');
  return `${mantissa}e${sign}${digits.padStart(2, '0')}`;
}

/** Sorted like Prometheus's labels.Compare, so results come out in a stable order. */
function compareLabelSets(a: LabelSet, b: LabelSet): number {
  const ea = Object.entries(a).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
  const eb = Object.entries(b).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
  for (let i = 0; i < Math.min(ea.length, eb.length); i++) {
    const [na, va] = ea[i]!;
    const [nb, vb] = eb[i]!;
    if (na !== nb) return na < nb ? -1 : 1;
    if (va !== vb) return va < vb ? -1 : 1;
  }
  return ea.length - eb.length;
}

/** A label set with keys in sorted order, as Go's JSON encoder writes a map. */
export function sortedLabels(labels: LabelSet): LabelSet {
  return Object.fromEntries(Object.entries(labels).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)));
}

/** The fixture series a selector picks, in label order. */
export function selectSeries(series: readonly FixtureSeries[], matchers: readonly LabelMatcher[]): FixtureSeries[] {
  return series
    .filter((s) => matchers.every((m) => matchesLabel(m, s.metric[m.name])))
    .sort((a, b) => compareLabelSets(a.metric, b.metric));
}

function evaluate(expr: Expr, series: readonly FixtureSeries[], timeMs: number): Value {
  switch (expr.kind) {
    case 'number':
      return { type: 'scalar', value: expr.value };
    case 'string':
      return { type: 'string', value: expr.value };
    case 'paren':
      return evaluate(expr.expr, series, timeMs);
    case 'selector':
      return {
        type: 'vector',
        samples: selectSeries(series, expr.matchers).map((s) => ({ metric: s.metric, value: sampleValue(s.value) })),
      };
    case 'unary': {
      const value = evaluate(expr.expr, series, timeMs);
      if (expr.op === '+') return value;
      if (value.type === 'scalar') return { type: 'scalar', value: -value.value };
      if (value.type === 'vector') {
        // Like Prometheus, arithmetic drops the metric name.
        return {
          type: 'vector',
          samples: value.samples.map(({ metric: { __name__: _name, ...rest }, value: v }) => ({ metric: rest, value: -v })),
        };
      }
      return value;
    }
    case 'call':
      switch (expr.func) {
        case 'time':
          return { type: 'scalar', value: timeMs / 1000 };
        case 'scalar': {
          const arg = evaluate(expr.args[0]!, series, timeMs);
          const samples = arg.type === 'vector' ? arg.samples : [];
          return { type: 'scalar', value: samples.length === 1 ? samples[0]!.value : NaN };
        }
        case 'vector': {
          const arg = evaluate(expr.args[0]!, series, timeMs);
          return { type: 'vector', samples: [{ metric: {}, value: arg.type === 'scalar' ? arg.value : NaN }] };
        }
      }
      throw new PrometheusError('ERR_PROMETHEUS_UNSUPPORTED', `function "${expr.func}"`, { errorType: 'execution' });
    case 'unsupported':
      throw new PrometheusError(
        'ERR_PROMETHEUS_UNSUPPORTED',
        `the mock Prometheus does not evaluate ${expr.what}; it evaluates vector selectors, number and string literals, scalar(), vector() and time()`,
        { errorType: 'execution' },
      );
  }
}

/**
 * Evaluates a parsed query at `timeMs` against the fixture's series, shaped as the `data` of a
 * `/api/v1/query` answer. Throws `ERR_PROMETHEUS_UNSUPPORTED` for PromQL the mock does not evaluate.
 *
 * @example
 * evaluateInstant(parsePromql('up'), fixture.series, clock.now()) // { resultType: 'vector', result: [...] }
 */
export function evaluateInstant(expr: Expr, series: readonly FixtureSeries[], timeMs: number): QueryData {
  const t = Math.round(timeMs) / 1000;
  const value = evaluate(expr, series, timeMs);
  switch (value.type) {
    case 'scalar':
      return { resultType: 'scalar', result: [t, formatSampleValue(value.value)] };
    case 'string':
      return { resultType: 'string', result: [t, value.value] };
    case 'vector':
      return {
        resultType: 'vector',
        result: value.samples.map((s) => ({ metric: sortedLabels(s.metric), value: [t, formatSampleValue(s.value)] })),
      };
  }
}
