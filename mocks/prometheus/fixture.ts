import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { PrometheusError } from './errors.ts';
import { parsePromql } from './promql.ts';

/** The fixture shipped with the mock: a monitoring-dev Prometheus (node, MCP servers, alertmanager, grafana). */
export const defaultPrometheusFixturePath = fileURLToPath(new URL('./fixture.json', import.meta.url));

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
// What Go's strconv.ParseFloat accepts in practice, plus Prometheus's spellings of the specials.
const SAMPLE_VALUE = /^(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|NaN|[+-]?Inf)$/;

export const LabelSetSchema = z.record(z.string().regex(LABEL_NAME, 'not a valid label name'), z.string());
export type LabelSet = z.infer<typeof LabelSetSchema>;

/** A sample value: a JSON number or Prometheus's string form ("0.5", "NaN", "+Inf"). */
export const SampleValueSchema = z.union([
  z.number(),
  z.string().regex(SAMPLE_VALUE, 'not a sample value (a number, "NaN", "+Inf" or "-Inf")'),
]);
export type SampleValue = z.infer<typeof SampleValueSchema>;

const PromqlSchema = z
  .string()
  .min(1)
  .superRefine((query, ctx) => {
    try {
      parsePromql(query);
    } catch (error) {
      if (!(error instanceof PrometheusError)) throw error;
      ctx.addIssue({ code: 'custom', message: `not valid PromQL: ${error.message}` });
    }
  });

/** One series with its current value; `metric` is the full label set, `__name__` included. */
export const FixtureSeriesSchema = z.strictObject({
  metric: LabelSetSchema.refine((labels) => METRIC_NAME.test(labels.__name__ ?? ''), {
    message: '__name__ is required and must be a valid metric name',
  }),
  value: SampleValueSchema,
});
export type FixtureSeries = z.infer<typeof FixtureSeriesSchema>;

/** An active alert of an alerting rule; rule labels and `alertname` are added when served. */
export const FixtureAlertSchema = z.strictObject({
  labels: LabelSetSchema.optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  state: z.enum(['firing', 'pending']),
  activeAt: z.iso.datetime({ offset: true }),
  value: SampleValueSchema,
});
export type FixtureAlert = z.infer<typeof FixtureAlertSchema>;

const RuleHealthSchema = z.enum(['ok', 'err', 'unknown']);

export const FixtureAlertingRuleSchema = z.strictObject({
  type: z.literal('alerting'),
  name: z.string().min(1),
  query: PromqlSchema,
  /** The rule's `for`, in seconds. */
  duration: z.number().nonnegative().optional(),
  keepFiringFor: z.number().nonnegative().optional(),
  labels: LabelSetSchema.optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  alerts: z.array(FixtureAlertSchema).optional(),
  health: RuleHealthSchema.optional(),
  lastError: z.string().optional(),
});
export type FixtureAlertingRule = z.infer<typeof FixtureAlertingRuleSchema>;

export const FixtureRecordingRuleSchema = z.strictObject({
  type: z.literal('recording'),
  name: z.string().regex(METRIC_NAME, 'not a valid metric name'),
  query: PromqlSchema,
  labels: LabelSetSchema.optional(),
  health: RuleHealthSchema.optional(),
  lastError: z.string().optional(),
});
export type FixtureRecordingRule = z.infer<typeof FixtureRecordingRuleSchema>;

export const FixtureRuleGroupSchema = z.strictObject({
  name: z.string().min(1),
  file: z.string().min(1),
  /** Evaluation interval in seconds. */
  interval: z.number().positive(),
  limit: z.number().int().nonnegative().optional(),
  rules: z.array(z.discriminatedUnion('type', [FixtureAlertingRuleSchema, FixtureRecordingRuleSchema])),
});
export type FixtureRuleGroup = z.infer<typeof FixtureRuleGroupSchema>;

/** What the mock Prometheus knows: current series values and the loaded rule groups. */
export const PrometheusFixtureSchema = z
  .strictObject({
    description: z.string().optional(),
    series: z.array(FixtureSeriesSchema),
    ruleGroups: z.array(FixtureRuleGroupSchema),
  })
  .superRefine((fixture, ctx) => {
    const seenSeries = new Map<string, number>();
    fixture.series.forEach((series, i) => {
      const key = seriesKey(series.metric);
      const first = seenSeries.get(key);
      if (first !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['series', i, 'metric'], message: `duplicate of series[${first}]` });
      } else {
        seenSeries.set(key, i);
      }
    });
    const seenGroups = new Set<string>();
    fixture.ruleGroups.forEach((group, i) => {
      const key = `${group.file}\u0000${group.name}`;
      if (seenGroups.has(key)) {
        ctx.addIssue({ code: 'custom', path: ['ruleGroups', i, 'name'], message: `duplicate group "${group.name}" in ${group.file}` });
      }
      seenGroups.add(key);
    });
  });
export type PrometheusFixture = z.infer<typeof PrometheusFixtureSchema>;

/** Identity of a series: its sorted label pairs. */
export function seriesKey(labels: LabelSet): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function formatIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((issue) => {
      const path = issue.path
        .map((part, i) => (typeof part === 'number' ? `[${part}]` : i === 0 ? String(part) : `.${String(part)}`))
        .join('');
      const nested = 'issues' in issue && Array.isArray(issue.issues) ? (issue.issues as z.core.$ZodIssue[])[0]?.message : undefined;
      return `${path || '(root)'}: ${nested ?? issue.message}`;
    })
    .join('; ');
}

/**
 * Validates a fixture object; throws `ERR_PROMETHEUS_FIXTURE_INVALID` naming every bad field.
 *
 * @example
 * const fixture = parsePrometheusFixture({ series: [], ruleGroups: [] });
 */
export function parsePrometheusFixture(value: unknown, source = 'prometheus fixture'): PrometheusFixture {
  const result = PrometheusFixtureSchema.safeParse(value);
  if (!result.success) {
    throw new PrometheusError('ERR_PROMETHEUS_FIXTURE_INVALID', `${source}: ${formatIssues(result.error.issues)}`);
  }
  return result.data;
}

/**
 * Reads and validates a fixture file (default: the shipped `fixture.json`). Synchronous so that
 * `prometheusHandlers()` can build its handlers without awaiting.
 *
 * @example
 * const fixture = loadPrometheusFixture(process.env.PROMETHEUS_FIXTURE);
 */
export function loadPrometheusFixture(path: string = defaultPrometheusFixturePath): PrometheusFixture {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new PrometheusError('ERR_PROMETHEUS_FIXTURE_NOT_FOUND', `${path}: cannot read the Prometheus fixture (${code})`, {
      cause: error,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new PrometheusError('ERR_PROMETHEUS_FIXTURE_INVALID_JSON', `${path}: not JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return parsePrometheusFixture(json, path);
}
