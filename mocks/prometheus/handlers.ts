import { http, HttpResponse } from 'msw';
import type { HttpHandler } from 'msw';
import { systemClock } from '../../common/index.ts';
import type { Clock } from '../../common/index.ts';
import { PrometheusError } from './errors.ts';
import type { PrometheusErrorType } from './errors.ts';
import { evaluateInstant, formatAlertValue, sampleValue, selectSeries, sortedLabels } from './evaluate.ts';
import { loadPrometheusFixture } from './fixture.ts';
import type { FixtureAlertingRule, FixtureRecordingRule, FixtureRuleGroup, FixtureSeries, PrometheusFixture } from './fixture.ts';
import { parsePromql, parseSeriesSelector } from './promql.ts';
import type { LabelMatcher } from './promql.ts';

export interface PrometheusHandlersOptions {
  /**
   * Where the handlers answer, e.g. `http://prometheus.test:9090`. Default: any origin
   * (`*\/api/v1/query` patterns), which is what a server serving them wants.
   */
  baseUrl?: string;
  /** Series and rules to serve. Default: the shipped `fixture.json`. */
  fixture?: PrometheusFixture;
  /** Evaluation time when a query has no `time`, and the clock of rule evaluations. */
  clock?: Clock;
}

/** Prometheus's errorType -> HTTP status (web/api/v1/api.go respondError). */
const ERROR_STATUS: Record<PrometheusErrorType, number> = {
  bad_data: 400,
  execution: 422,
  canceled: 503,
  timeout: 503,
  internal: 500,
  unavailable: 503,
  not_found: 404,
  not_acceptable: 406,
};

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/i;
const FLOAT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

// Rule evaluations are not simulated; these are plausible constants for the JSON fields.
const RULE_EVALUATION_SECONDS = 0.000_312;
const GROUP_OVERHEAD_SECONDS = 0.000_058;

function success(data: unknown): Response {
  return HttpResponse.json({ status: 'success', data });
}

function apiError(errorType: PrometheusErrorType, error: string): Response {
  return HttpResponse.json({ status: 'error', errorType, error }, { status: ERROR_STATUS[errorType] });
}

function invalidParameter(name: string, message: string): Response {
  return apiError('bad_data', `invalid parameter ${JSON.stringify(name)}: ${message}`);
}

/** Go's r.Form: urlencoded POST body values first, then the URL's query values. */
async function formParams(request: Request): Promise<URLSearchParams> {
  const params = new URLSearchParams();
  const type = request.headers.get('content-type') ?? '';
  if (request.method === 'POST' && type.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
    for (const [key, value] of new URLSearchParams(await request.text())) params.append(key, value);
  }
  for (const [key, value] of new URL(request.url).searchParams) params.append(key, value);
  return params;
}

/** Prometheus's parseTime: unix seconds (float, ms precision) or RFC 3339. */
function parseTimeParam(value: string): number | undefined {
  if (FLOAT.test(value)) {
    const seconds = Number(value);
    if (Number.isFinite(seconds)) return Math.round(seconds * 1000);
  }
  if (RFC3339.test(value)) {
    const ms = Date.parse(value);
    if (!Number.isNaN(ms)) return ms;
  }
  return undefined;
}

/** Go's RFC3339Nano for a UTC instant: no trailing fractional zeros. */
function goTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.000Z$/, 'Z').replace(/(\.\d*?)0+Z$/, '$1Z');
}

function parseMatchSets(values: string[]): LabelMatcher[][] | Response {
  const sets: LabelMatcher[][] = [];
  for (const value of values) {
    try {
      sets.push(parseSeriesSelector(value));
    } catch (error) {
      if (error instanceof PrometheusError) return invalidParameter('match[]', error.message);
      throw error;
    }
  }
  return sets;
}

function seriesMatching(series: readonly FixtureSeries[], sets: LabelMatcher[][]): readonly FixtureSeries[] {
  if (sets.length === 0) return series;
  const picked = new Set<FixtureSeries>();
  for (const set of sets) for (const s of selectSeries(series, set)) picked.add(s);
  return [...picked];
}

function sortedUnique(values: Iterable<string>): string[] {
  return [...new Set(values)].sort();
}

interface RuleFilter {
  alerts: boolean;
  recording: boolean;
  excludeAlerts: boolean;
  ruleNames: Set<string>;
  groupNames: Set<string>;
  files: Set<string>;
}

function alertingRuleJson(rule: FixtureAlertingRule, lastEvaluation: string, filter: RuleFilter) {
  const alerts = (rule.alerts ?? []).map((alert) => ({
    labels: sortedLabels({ ...rule.labels, ...alert.labels, alertname: rule.name }),
    annotations: sortedLabels({ ...rule.annotations, ...alert.annotations }),
    state: alert.state,
    activeAt: alert.activeAt,
    value: formatAlertValue(sampleValue(alert.value)),
  }));
  const state = alerts.some((a) => a.state === 'firing') ? 'firing' : alerts.length > 0 ? 'pending' : 'inactive';
  return {
    state,
    name: rule.name,
    query: rule.query,
    duration: rule.duration ?? 0,
    keepFiringFor: rule.keepFiringFor ?? 0,
    labels: sortedLabels(rule.labels ?? {}),
    annotations: sortedLabels(rule.annotations ?? {}),
    ...(filter.excludeAlerts ? {} : { alerts }),
    health: rule.health ?? 'ok',
    ...(rule.lastError ? { lastError: rule.lastError } : {}),
    evaluationTime: RULE_EVALUATION_SECONDS,
    lastEvaluation,
    type: 'alerting' as const,
  };
}

function recordingRuleJson(rule: FixtureRecordingRule, lastEvaluation: string) {
  return {
    name: rule.name,
    query: rule.query,
    ...(rule.labels && Object.keys(rule.labels).length > 0 ? { labels: sortedLabels(rule.labels) } : {}),
    health: rule.health ?? 'ok',
    ...(rule.lastError ? { lastError: rule.lastError } : {}),
    evaluationTime: RULE_EVALUATION_SECONDS,
    lastEvaluation,
    type: 'recording' as const,
  };
}

function ruleGroupJson(group: FixtureRuleGroup, nowMs: number, filter: RuleFilter) {
  const intervalMs = group.interval * 1000;
  // The group last ran on the interval boundary before now, as a ticking rule manager would have.
  const lastEvaluation = goTime(Math.floor(nowMs / intervalMs) * intervalMs);
  const rules = group.rules
    .filter((rule) => (rule.type === 'alerting' ? filter.alerts : filter.recording))
    .filter((rule) => filter.ruleNames.size === 0 || filter.ruleNames.has(rule.name))
    .map((rule) =>
      rule.type === 'alerting' ? alertingRuleJson(rule, lastEvaluation, filter) : recordingRuleJson(rule, lastEvaluation),
    );
  return {
    name: group.name,
    file: group.file,
    rules,
    interval: group.interval,
    limit: group.limit ?? 0,
    evaluationTime: rules.length * RULE_EVALUATION_SECONDS + GROUP_OVERHEAD_SECONDS,
    lastEvaluation,
  };
}

/** Methods each served path answers to; what a server needs to tell 405 from 404. */
const ROUTES: { path: RegExp; methods: string[] }[] = [
  { path: /\/api\/v1\/query$/, methods: ['GET', 'POST'] },
  { path: /\/api\/v1\/rules$/, methods: ['GET'] },
  { path: /\/api\/v1\/labels$/, methods: ['GET', 'POST'] },
  { path: /\/api\/v1\/label\/[^/]+\/values$/, methods: ['GET'] },
  { path: /\/-\/(?:healthy|ready)$/, methods: ['GET', 'HEAD'] },
];

/** The methods `pathname` is served with (empty when the path is unknown). */
export function allowedMethods(pathname: string): string[] {
  return ROUTES.find((route) => route.path.test(pathname))?.methods ?? [];
}

/**
 * The Prometheus HTTP API as msw handlers, written once and used both by `startPrometheus` (a
 * real HTTP server) and by `setupServer` in unit tests.
 *
 * @example
 * const server = setupServer(...prometheusHandlers({ baseUrl: 'http://prometheus.test:9090', clock }));
 */
export function prometheusHandlers(options: PrometheusHandlersOptions = {}): HttpHandler[] {
  const fixture = options.fixture ?? loadPrometheusFixture();
  const clock = options.clock ?? systemClock;
  const base = options.baseUrl === undefined ? '*' : options.baseUrl.replace(/\/+$/, '');

  const query = async ({ request }: { request: Request }): Promise<Response> => {
    const params = await formParams(request);
    let timeMs = clock.now();
    const time = params.get('time');
    if (time) {
      const parsed = parseTimeParam(time);
      if (parsed === undefined) {
        return invalidParameter('time', `Invalid time value for 'time': cannot parse ${JSON.stringify(time)} to a valid timestamp`);
      }
      timeMs = parsed;
    }
    try {
      return success(evaluateInstant(parsePromql(params.get('query') ?? ''), fixture.series, timeMs));
    } catch (error) {
      if (!(error instanceof PrometheusError)) throw error;
      if (error.code === 'ERR_PROMETHEUS_PARSE') return invalidParameter('query', error.message);
      return apiError('execution', error.message);
    }
  };

  const labels = async ({ request }: { request: Request }): Promise<Response> => {
    const sets = parseMatchSets((await formParams(request)).getAll('match[]'));
    if (sets instanceof Response) return sets;
    return success(sortedUnique(seriesMatching(fixture.series, sets).flatMap((s) => Object.keys(s.metric))));
  };

  const healthy = () =>
    new HttpResponse('Prometheus Server is Healthy.\n', { headers: { 'content-type': 'text/plain; charset=utf-8' } });
  const ready = () =>
    new HttpResponse('Prometheus Server is Ready.\n', { headers: { 'content-type': 'text/plain; charset=utf-8' } });

  return [
    http.get(`${base}/api/v1/query`, query),
    http.post(`${base}/api/v1/query`, query),

    http.get(`${base}/api/v1/rules`, ({ request }) => {
      const url = new URL(request.url);
      const type = (url.searchParams.get('type') ?? '').toLowerCase();
      if (type !== '' && type !== 'alert' && type !== 'record') {
        return invalidParameter('type', `not supported value ${JSON.stringify(type)}`);
      }
      const filter: RuleFilter = {
        alerts: type !== 'record',
        recording: type !== 'alert',
        excludeAlerts: ['true', '1', 't'].includes((url.searchParams.get('exclude_alerts') ?? '').toLowerCase()),
        ruleNames: new Set(url.searchParams.getAll('rule_name[]')),
        groupNames: new Set(url.searchParams.getAll('rule_group[]')),
        files: new Set(url.searchParams.getAll('file[]')),
      };
      const filtered = type !== '' || filter.ruleNames.size > 0;
      const groups = fixture.ruleGroups
        .filter((g) => filter.groupNames.size === 0 || filter.groupNames.has(g.name))
        .filter((g) => filter.files.size === 0 || filter.files.has(g.file))
        .map((g) => ruleGroupJson(g, clock.now(), filter))
        // Like Prometheus: a group whose rules were all filtered out is left out.
        .filter((g) => !filtered || g.rules.length > 0);
      return success({ groups });
    }),

    http.get(`${base}/api/v1/labels`, labels),
    http.post(`${base}/api/v1/labels`, labels),

    http.get(`${base}/api/v1/label/:name/values`, async ({ request, params }) => {
      const name = String(params.name);
      if (!LABEL_NAME.test(name)) return apiError('bad_data', `invalid label name: ${JSON.stringify(name)}`);
      const sets = parseMatchSets(new URL(request.url).searchParams.getAll('match[]'));
      if (sets instanceof Response) return sets;
      const values = seriesMatching(fixture.series, sets)
        .map((s) => s.metric[name])
        .filter((v): v is string => v !== undefined && v !== '');
      return success(sortedUnique(values));
    }),

    http.get(`${base}/-/healthy`, healthy),
    http.head(`${base}/-/healthy`, () => new HttpResponse(null, { status: 200 })),
    http.get(`${base}/-/ready`, ready),
    http.head(`${base}/-/ready`, () => new HttpResponse(null, { status: 200 })),
  ];
}
