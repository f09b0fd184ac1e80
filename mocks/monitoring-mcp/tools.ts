import * as z from 'zod';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { getRules, listMetrics, PrometheusError, queryPrometheus } from '../prometheus/index.ts';
import type { PrometheusRequestOptions } from '../prometheus/index.ts';
import { errorResult, networkErrorCode, textResult, toolInputSchema } from '../shared/index.ts';
import { systemClock, timeoutSignal } from '../../common/index.ts';
import type { Clock, Fetch, ServiceLog } from '../../common/index.ts';
import type { ToolHost } from '../shared/index.ts';

/** The six tools, in the order `GET /` and tools/list give them. */
export const MONITORING_MCP_TOOLS = ['hello_world', 'echo', 'server_info', 'prometheus_query', 'get_rules', 'list_metrics'] as const;

/** The service name the real server announces on `GET /`. */
export const MONITORING_MCP_SERVICE_NAME = 'Monitoring AI MCP Server';

export interface MonitoringMcpToolsContext {
  /** PROMETHEUS_BASE_URL; unset: the Prometheus tools answer a tool error. */
  prometheusBaseUrl: string | undefined;
  fetch: Fetch;
  timeoutMs: number;
  /** Whose timers run `timeoutMs`; default real time. */
  clock?: Clock;
  log: ServiceLog;
  /** What `server_info` reports about the running configuration. */
  info: Record<string, unknown>;
}

/**
 * Runs one Prometheus API call (through the prometheus area's client, with the injected fetch)
 * and turns the outcome into a tool result: `data` as JSON text on success; a tool error
 * (isError) for an API error envelope, a non-API answer, or no answer at all (refused, timeout),
 * naming the network code, which also goes to the log as `prometheus.request_failed`.
 */
async function callPrometheus(context: MonitoringMcpToolsContext, call: (baseUrl: string, options: PrometheusRequestOptions) => Promise<unknown>): Promise<CallToolResult> {
  const baseUrl = context.prometheusBaseUrl;
  if (!baseUrl) return errorResult('PROMETHEUS_BASE_URL is not configured');
  try {
    const data = await call(baseUrl, { fetch: context.fetch, signal: timeoutSignal(context.clock ?? systemClock, context.timeoutMs) });
    context.log.write('prometheus.request', { baseUrl, ok: true });
    return textResult(data);
  } catch (error) {
    if (!(error instanceof PrometheusError)) throw error;
    const errorCode = error.code === 'ERR_PROMETHEUS_UNREACHABLE' ? networkErrorCode(error.cause) : error.status === undefined ? error.code : `HTTP_${error.status}`;
    context.log.write('prometheus.request_failed', { baseUrl, code: error.code, errorCode, errorType: error.errorType, detail: error.message });
    if (error.errorType !== undefined) return errorResult(`Prometheus error (${error.errorType}): ${error.message}`);
    if (error.code === 'ERR_PROMETHEUS_UNREACHABLE') return errorResult(`Error querying Prometheus at ${baseUrl}: ${error.message} (${errorCode})`);
    return errorResult(`Error querying Prometheus at ${baseUrl}: ${error.message}`);
  }
}

// The tool's `time`: unix seconds or an RFC 3339 date, as Prometheus itself takes it.
function parseTime(time: string): number | undefined {
  if (/^\s*\d+(\.\d+)?\s*$/.test(time)) return Number(time) * 1000;
  const ms = Date.parse(time);
  return Number.isNaN(ms) ? undefined : ms;
}

// Argument schemas, built once per process (with their JSON Schema): the server registers its tools
// anew for every request (stateless mode, a server per request), and they are only read, never changed.
const INPUTS = {
  hello_world: toolInputSchema({ name: z.string().optional() }),
  echo: toolInputSchema({ message: z.string() }),
  server_info: toolInputSchema({}),
  prometheus_query: toolInputSchema({ query: z.string().min(1), time: z.string().optional() }),
  get_rules: toolInputSchema({ type: z.enum(['alert', 'record']).optional() }),
  list_metrics: toolInputSchema({}),
};

/**
 * Registers monitoring-mcp's six tools: three trivial ones and three that call the Prometheus
 * HTTP API (`/api/v1/query`, `/api/v1/rules`, `/api/v1/label/__name__/values`).
 *
 * @example
 * registerMonitoringMcpTools(server, { prometheusBaseUrl, fetch, timeoutMs: 10_000, log, info: {} });
 */
export function registerMonitoringMcpTools(server: ToolHost, context: MonitoringMcpToolsContext): void {
  server.registerTool(
    'hello_world',
    { description: 'Say hello.', inputSchema: INPUTS.hello_world },
    ({ name }) => textResult(`Hello, ${name ?? 'World'}!`),
  );
  server.registerTool(
    'echo',
    { description: 'Echo the message back.', inputSchema: INPUTS.echo },
    ({ message }) => textResult(message),
  );
  server.registerTool('server_info', { description: 'Information about this MCP server.', inputSchema: INPUTS.server_info }, () =>
    textResult({ name: MONITORING_MCP_SERVICE_NAME, tools: MONITORING_MCP_TOOLS, ...context.info }),
  );
  server.registerTool(
    'prometheus_query',
    {
      description: 'Run an instant PromQL query against Prometheus.',
      inputSchema: INPUTS.prometheus_query,
    },
    ({ query, time }) => {
      const at = time === undefined ? undefined : parseTime(time);
      if (time !== undefined && at === undefined) return errorResult(`invalid time ${JSON.stringify(time)}: use unix seconds or RFC 3339`);
      return callPrometheus(context, (baseUrl, options) => queryPrometheus(baseUrl, query, at === undefined ? options : { ...options, time: at }));
    },
  );
  server.registerTool(
    'get_rules',
    { description: 'List Prometheus alerting and recording rules.', inputSchema: INPUTS.get_rules },
    ({ type }) => callPrometheus(context, async (baseUrl, options) => ({ groups: await getRules(baseUrl, type === undefined ? options : { ...options, type }) })),
  );
  server.registerTool('list_metrics', { description: 'List all metric names known to Prometheus.', inputSchema: INPUTS.list_metrics }, () =>
    callPrometheus(context, (baseUrl, options) => listMetrics(baseUrl, options)),
  );
}
