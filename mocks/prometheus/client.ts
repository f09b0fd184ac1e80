import { z } from 'zod';
import type { Fetch } from '../../common/index.ts';
import { PrometheusError } from './errors.ts';

// The Prometheus HTTP API as a caller sees it. Shared by the harness and by the MCP server mocks'
// prometheus tools, so that both read envelopes and errors the same way.

const LabelsSchema = z.record(z.string(), z.string());
const SamplePairSchema = z.tuple([z.number(), z.string()]);

export const PrometheusQueryDataSchema = z.discriminatedUnion('resultType', [
  z.object({
    resultType: z.literal('vector'),
    result: z.array(z.object({ metric: LabelsSchema, value: SamplePairSchema })),
  }),
  z.object({
    resultType: z.literal('matrix'),
    result: z.array(z.object({ metric: LabelsSchema, values: z.array(SamplePairSchema) })),
  }),
  z.object({ resultType: z.literal('scalar'), result: SamplePairSchema }),
  z.object({ resultType: z.literal('string'), result: SamplePairSchema }),
]);
/** The `data` of a `/api/v1/query` answer. */
export type PrometheusQueryData = z.infer<typeof PrometheusQueryDataSchema>;

export const PrometheusAlertSchema = z.object({
  labels: LabelsSchema,
  annotations: LabelsSchema,
  state: z.string(),
  activeAt: z.string().optional(),
  value: z.string(),
});
export type PrometheusAlert = z.infer<typeof PrometheusAlertSchema>;

export const PrometheusAlertingRuleSchema = z.object({
  type: z.literal('alerting'),
  state: z.string(),
  name: z.string(),
  query: z.string(),
  duration: z.number(),
  keepFiringFor: z.number().optional(),
  labels: LabelsSchema,
  annotations: LabelsSchema,
  alerts: z.array(PrometheusAlertSchema).optional(),
  health: z.string(),
  lastError: z.string().optional(),
  evaluationTime: z.number(),
  lastEvaluation: z.string(),
});
export type PrometheusAlertingRule = z.infer<typeof PrometheusAlertingRuleSchema>;

export const PrometheusRecordingRuleSchema = z.object({
  type: z.literal('recording'),
  name: z.string(),
  query: z.string(),
  labels: LabelsSchema.optional(),
  health: z.string(),
  lastError: z.string().optional(),
  evaluationTime: z.number(),
  lastEvaluation: z.string(),
});
export type PrometheusRecordingRule = z.infer<typeof PrometheusRecordingRuleSchema>;

export type PrometheusRule = PrometheusAlertingRule | PrometheusRecordingRule;

export const PrometheusRuleGroupSchema = z.object({
  name: z.string(),
  file: z.string(),
  rules: z.array(z.discriminatedUnion('type', [PrometheusAlertingRuleSchema, PrometheusRecordingRuleSchema])),
  interval: z.number(),
  limit: z.number().optional(),
  evaluationTime: z.number(),
  lastEvaluation: z.string(),
});
/** One group of `/api/v1/rules`. */
export type PrometheusRuleGroup = z.infer<typeof PrometheusRuleGroupSchema>;

const RulesDataSchema = z.object({ groups: z.array(PrometheusRuleGroupSchema) });
const StringListSchema = z.array(z.string());

const EnvelopeSchema = z.discriminatedUnion('status', [
  z.object({ status: z.literal('success'), data: z.unknown(), warnings: z.array(z.string()).optional() }),
  z.object({ status: z.literal('error'), errorType: z.string(), error: z.string() }),
]);

export interface PrometheusRequestOptions {
  /** Default: the global fetch, looked up per call (so msw's `setupServer` sees it). */
  fetch?: Fetch;
  signal?: AbortSignal;
}

export interface QueryPrometheusOptions extends PrometheusRequestOptions {
  /** Evaluation time (a Date, or ms since the epoch like `Clock.now()`). Default: Prometheus's now. */
  time?: Date | number;
}

export interface GetRulesOptions extends PrometheusRequestOptions {
  type?: 'alert' | 'record';
}

function normalize<O extends PrometheusRequestOptions>(fetchOrOptions: Fetch | O | undefined): O {
  if (typeof fetchOrOptions === 'function') return { fetch: fetchOrOptions } as O;
  return fetchOrOptions ?? ({} as O);
}

function apiUrl(baseUrl: string, path: string, params: URLSearchParams): URL {
  let url: URL;
  try {
    url = new URL(`${baseUrl.replace(/\/+$/, '')}${path}`);
  } catch (error) {
    throw new PrometheusError('ERR_PROMETHEUS_INVALID_URL', `not a URL: ${JSON.stringify(baseUrl)}`, { cause: error });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new PrometheusError('ERR_PROMETHEUS_INVALID_URL', `not an http(s) URL: ${JSON.stringify(baseUrl)}`);
  }
  url.search = params.toString();
  return url;
}

function describeFailure(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const cause = error instanceof Error ? (error.cause as { code?: string; message?: string } | undefined) : undefined;
  return cause?.code ? `${message} (${cause.code})` : cause?.message ? `${message}: ${cause.message}` : message;
}

async function callApi<T>(
  baseUrl: string,
  path: string,
  params: URLSearchParams,
  options: PrometheusRequestOptions,
  schema: z.ZodType<T>,
): Promise<T> {
  const url = apiUrl(baseUrl, path, params);
  const fetch = options.fetch ?? globalThis.fetch;
  let status: number;
  let text: string;
  try {
    const response = await fetch(url, { headers: { accept: 'application/json' }, signal: options.signal });
    status = response.status;
    text = await response.text();
  } catch (error) {
    throw new PrometheusError('ERR_PROMETHEUS_UNREACHABLE', `GET ${url.origin}${url.pathname}: ${describeFailure(error)}`, {
      cause: error,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new PrometheusError(
      'ERR_PROMETHEUS_BAD_RESPONSE',
      `GET ${url.pathname}: HTTP ${status}, not a Prometheus API answer: ${JSON.stringify(text.slice(0, 200))}`,
      { status },
    );
  }
  const envelope = EnvelopeSchema.safeParse(json);
  if (!envelope.success) {
    throw new PrometheusError('ERR_PROMETHEUS_BAD_RESPONSE', `GET ${url.pathname}: HTTP ${status}, no Prometheus envelope`, { status });
  }
  if (envelope.data.status === 'error') {
    const { errorType, error } = envelope.data;
    throw new PrometheusError(errorType === 'bad_data' ? 'ERR_PROMETHEUS_BAD_DATA' : 'ERR_PROMETHEUS_API_ERROR', error, {
      errorType,
      status,
    });
  }
  const data = schema.safeParse(envelope.data.data);
  if (!data.success) {
    throw new PrometheusError('ERR_PROMETHEUS_BAD_RESPONSE', `GET ${url.pathname}: unexpected data: ${data.error.issues[0]?.message}`, {
      status,
    });
  }
  return data.data;
}

/**
 * Runs an instant query and returns the envelope's `data`. A `status: "error"` answer throws a
 * PrometheusError: `ERR_PROMETHEUS_BAD_DATA` for a query Prometheus rejects, `ERR_PROMETHEUS_API_ERROR`
 * otherwise (`errorType` and `message` are Prometheus's); no answer at all is `ERR_PROMETHEUS_UNREACHABLE`.
 *
 * @example
 * const data = await queryPrometheus('http://127.0.0.1:9090', 'up{job="node"}');
 * if (data.resultType === 'vector') console.log(data.result.map((s) => s.value[1]));
 */
export async function queryPrometheus(
  baseUrl: string,
  query: string,
  fetchOrOptions?: Fetch | QueryPrometheusOptions,
): Promise<PrometheusQueryData> {
  const options = normalize<QueryPrometheusOptions>(fetchOrOptions);
  const params = new URLSearchParams({ query });
  if (options.time !== undefined) {
    const ms = options.time instanceof Date ? options.time.getTime() : options.time;
    params.set('time', String(ms / 1000));
  }
  return callApi(baseUrl, '/api/v1/query', params, options, PrometheusQueryDataSchema);
}

/**
 * Lists rule groups (`/api/v1/rules`), optionally only alerting (`alert`) or recording (`record`) rules.
 *
 * @example
 * const groups = await getRules(url, { type: 'alert' });
 */
export async function getRules(baseUrl: string, fetchOrOptions?: Fetch | GetRulesOptions): Promise<PrometheusRuleGroup[]> {
  const options = normalize<GetRulesOptions>(fetchOrOptions);
  const params = new URLSearchParams(options.type ? { type: options.type } : {});
  return (await callApi(baseUrl, '/api/v1/rules', params, options, RulesDataSchema)).groups;
}

/**
 * Metric names Prometheus knows (`/api/v1/label/__name__/values`), sorted.
 *
 * @example
 * const names = await listMetrics(url); // ['ALERTS', 'up', ...]
 */
export async function listMetrics(baseUrl: string, fetchOrOptions?: Fetch | PrometheusRequestOptions): Promise<string[]> {
  const options = normalize<PrometheusRequestOptions>(fetchOrOptions);
  return callApi(baseUrl, '/api/v1/label/__name__/values', new URLSearchParams(), options, StringListSchema);
}
