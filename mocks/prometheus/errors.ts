import { HarnessError } from '../../common/index.ts';

/** Codes raised by the Prometheus mock and by its client helpers. */
export type PrometheusErrorCode =
  /** The fixture file does not exist or cannot be read. */
  | 'ERR_PROMETHEUS_FIXTURE_NOT_FOUND'
  /** The fixture file is not JSON. */
  | 'ERR_PROMETHEUS_FIXTURE_INVALID_JSON'
  /** The fixture is JSON but not a valid fixture (schema, duplicates). */
  | 'ERR_PROMETHEUS_FIXTURE_INVALID'
  /** A PromQL expression (or a `match[]` selector) does not parse: Prometheus's `bad_data`. */
  | 'ERR_PROMETHEUS_PARSE'
  /** Valid PromQL the mock does not evaluate (aggregations, binary operators, ranges, ...). */
  | 'ERR_PROMETHEUS_UNSUPPORTED'
  /** Client: the base URL is not an http(s) URL. */
  | 'ERR_PROMETHEUS_INVALID_URL'
  /** Client: the request never got an HTTP response (refused, reset, DNS, aborted). */
  | 'ERR_PROMETHEUS_UNREACHABLE'
  /** Client: Prometheus answered `status: "error"` with `errorType: "bad_data"`. */
  | 'ERR_PROMETHEUS_BAD_DATA'
  /** Client: Prometheus answered `status: "error"` with any other errorType. */
  | 'ERR_PROMETHEUS_API_ERROR'
  /** Client: the answer is not a Prometheus envelope (not JSON, wrong shape). */
  | 'ERR_PROMETHEUS_BAD_RESPONSE';

/** Prometheus API `errorType` values (web/api/v1 in prometheus/prometheus). */
export type PrometheusErrorType =
  | 'timeout'
  | 'canceled'
  | 'execution'
  | 'bad_data'
  | 'internal'
  | 'unavailable'
  | 'not_found'
  | 'not_acceptable';

export interface PrometheusErrorOptions extends ErrorOptions {
  /** The API's `errorType`, when the error is (or came from) an API error envelope. */
  errorType?: string;
  /** HTTP status of the answer, when there was one. */
  status?: number;
}

/**
 * Error of the Prometheus area. Tests assert `code`; `errorType` and `status` carry what the
 * API said, for callers that relay it (the MCP server's prometheus tools).
 *
 * @example
 * try { await queryPrometheus(url, 'up{') } catch (e) { if (isHarnessError(e, 'ERR_PROMETHEUS_BAD_DATA')) ... }
 */
export class PrometheusError extends HarnessError<PrometheusErrorCode> {
  readonly errorType: string | undefined;
  readonly status: number | undefined;

  constructor(code: PrometheusErrorCode, message: string, options: PrometheusErrorOptions = {}) {
    super(code, message, options);
    this.name = 'PrometheusError';
    this.errorType = options.errorType;
    this.status = options.status;
  }
}
