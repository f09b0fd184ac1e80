import { HarnessError } from '../../common/index.ts';

/** Codes of the monitoring-mcp mock: its JWKS client, and its refusal to start. */
export type MonitoringMcpErrorCode =
  /** PyJWKClientConnectionError: connection failed, HTTP error status, or timeout. The cache is cleared. */
  | 'ERR_JWKS_UNREACHABLE'
  /** The JWKS body is not JSON (Python's JSONDecodeError out of `json.load`). The cache is cleared. */
  | 'ERR_JWKS_INVALID_JSON'
  /** "The JWKS endpoint did not return a JSON object". */
  | 'ERR_JWKS_NOT_AN_OBJECT'
  /** PyJWKSetError: no keys, `keys` not a list, or no usable key. */
  | 'ERR_JWKS_NO_KEYS'
  /** "The JWKS endpoint did not contain any signing keys" (none with use sig/none and a kid). */
  | 'ERR_JWKS_NO_SIGNING_KEYS'
  /** "Unable to find a signing key that matches: <kid>", after the one refetch. */
  | 'ERR_JWKS_NO_MATCHING_KEY'
  /** `startMonitoringMcp` / `JwksClient` options (or the environment `main.ts` reads) are unusable. */
  | 'ERR_MONITORING_MCP_OPTIONS';

export interface MonitoringMcpErrorOptions extends ErrorOptions {
  /** The JWKS URL, for JWKS errors. */
  url?: string;
  /** The network-level code under a JWKS fetch failure: ECONNREFUSED, ETIMEDOUT, HTTP_500, ... */
  networkCode?: string;
}

/**
 * Error of the monitoring-mcp area; tests assert `code`. JWKS errors carry the URL and the
 * network code so the auth log can name the failing hop.
 *
 * @example
 * await expect(jwks.getSigningKey('nope')).rejects.toMatchObject({ code: 'ERR_JWKS_NO_MATCHING_KEY' });
 */
export class MonitoringMcpError extends HarnessError<MonitoringMcpErrorCode> {
  readonly url: string | undefined;
  readonly networkCode: string | undefined;

  constructor(code: MonitoringMcpErrorCode, message: string, options: MonitoringMcpErrorOptions = {}) {
    super(code, message, options);
    this.name = 'MonitoringMcpError';
    this.url = options.url;
    this.networkCode = options.networkCode;
  }
}
