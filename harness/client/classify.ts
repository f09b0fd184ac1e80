import type { ErrorSummary, FailureReason, HttpAnswer, McpServerStatus } from './worker-report.ts';

/** The last non-2xx answer to a POST, as the client's fetch saw it. */
export interface ObservedAnswer {
  status: number;
  body: string | undefined;
  wwwAuthenticate: string | undefined;
  /** RFC 9209 `Proxy-Status`, set by proxies on the errors they generate. */
  proxyStatus: string | undefined;
  /** `x-harness-network`, set by the harness's egress on the answers it makes itself (e.g. `no-such-host`). */
  networkHint: string | undefined;
  /** The `Authorization` header of the request that got this answer. */
  authorization: string | undefined;
}

export interface Observation {
  /** What the SDK threw; undefined when the deadline came first. */
  error: unknown;
  /** The per-server deadline fired before an outcome. */
  timedOut: boolean;
  timeoutMs: number;
  /** What the worker was waiting for. */
  stage: 'initialize' | 'tools/list';
  answer: ObservedAnswer | undefined;
}

export interface Classification {
  status: Extract<McpServerStatus, 'failed' | 'needs-auth'>;
  reason: FailureReason;
  http?: HttpAnswer;
  error?: ErrorSummary;
}

const BODY_LIMIT = 2000;

/**
 * Decides a failed server's status and reason from what the client saw: the SDK's error, the last
 * HTTP answer, and whether the deadline fired. Nothing here knows about the network's events.
 */
export function classifyFailure(observation: Observation): Classification {
  const { answer, error } = observation;
  const summary = error === undefined ? undefined : summarizeError(error);
  const withError = <T extends object>(value: T): T & { error?: ErrorSummary } => (summary ? { ...value, error: summary } : value);
  const http = answer ? httpAnswer(answer) : undefined;

  if (answer && (answer.status === 401 || answer.status === 403)) {
    // `failed`; connectWorker upgrades it to `needs-auth` where Claude Code would (oauth-discovery.ts).
    return withError({ status: 'failed', reason: authReason(answer), ...(http ? { http } : {}) });
  }

  if (answer && (answer.status === 502 || answer.status === 504)) {
    const proxied = proxyAnswerReason(answer);
    if (proxied) return withError({ status: 'failed', reason: proxied, ...(http ? { http } : {}) });
  }

  const mismatch = revisionMismatch(answer, error);
  if (mismatch) return withError({ status: 'failed', reason: mismatch, ...(http ? { http } : {}) });

  const network = error === undefined ? undefined : transportReason(error);
  if (network) return withError({ status: 'failed', reason: network, ...(http ? { http } : {}) });

  if (observation.timedOut || isTimeout(error)) {
    return withError({
      status: 'failed',
      reason: { kind: 'timeout', detail: `no answer to ${observation.stage} within ${observation.timeoutMs} ms` },
    });
  }

  if (answer) {
    const body = answer.body ? `: ${oneLine(answer.body, 200)}` : '';
    return withError({
      status: 'failed',
      reason: { kind: 'protocol', detail: `HTTP ${answer.status} to ${observation.stage}${body}` },
      ...(http ? { http } : {}),
    });
  }

  return withError({
    status: 'failed',
    reason: { kind: 'protocol', detail: `${observation.stage} failed: ${summary ? summary.message : 'unknown error'}` },
  });
}

/** JSON-RPC -32022: the server does not speak the revision the request carried (MCP 2026-07-28). */
const UNSUPPORTED_PROTOCOL_VERSION = -32022;

/**
 * The client and the server share no MCP revision: a -32022 answer (a 2026-07-28-only server to a
 * 2025-11-25 `initialize`, naming what it supports), or a probe pinned to 2026-07-28 that the
 * server's `server/discover` did not offer (the v2 SDK's ERA_NEGOTIATION_FAILED).
 */
function revisionMismatch(answer: ObservedAnswer | undefined, error: unknown): FailureReason | undefined {
  const rpc = jsonRpcError(answer?.body) ?? causeChain(error).map((link) => jsonRpcErrorOf(link)).find((found) => found !== undefined);
  if (rpc?.code === UNSUPPORTED_PROTOCOL_VERSION) {
    const data = (rpc.data ?? {}) as { supported?: unknown; requested?: unknown };
    const supported = Array.isArray(data.supported) ? data.supported.map(String) : [];
    const requested = typeof data.requested === 'string' ? data.requested : /protocol version:?\s*(\S+)/i.exec(rpc.message)?.[1];
    return {
      kind: 'protocol.revision_mismatch',
      detail: `the server speaks MCP ${supported.length > 0 ? supported.join(', ') : 'another revision'}; the worker asked for ${requested ?? 'one it does not speak'} (${rpc.code} ${rpc.message})`,
    };
  }
  for (const link of causeChain(error)) {
    const message = link instanceof Error ? link.message : '';
    const pinned = /did not offer pinned protocol version (\S+)/.exec(message);
    if (pinned) {
      return { kind: 'protocol.revision_mismatch', detail: `the server's server/discover did not offer MCP ${pinned[1]}, the revision the worker is pinned to (${message})` };
    }
  }
  return undefined;
}

function jsonRpcError(body: string | undefined): { code: number; message: string; data?: unknown } | undefined {
  try {
    return jsonRpcErrorOf(JSON.parse(body ?? ''));
  } catch {
    return undefined;
  }
}

function jsonRpcErrorOf(value: unknown): { code: number; message: string; data?: unknown } | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const record = value as Record<string, unknown>;
  const inner = record.error && typeof record.error === 'object' ? (record.error as Record<string, unknown>) : record;
  if (typeof inner.code !== 'number' || typeof inner.message !== 'string') return undefined;
  return { code: inner.code, message: inner.message, ...(inner.data !== undefined ? { data: inner.data } : {}) };
}

function authReason(answer: ObservedAnswer): FailureReason {
  const serverError = authErrorOf(answer);
  const said = serverError.error
    ? `${serverError.error}${serverError.description ? `: ${serverError.description}` : ''}`
    : answer.body ? oneLine(answer.body, 200) : 'no error given';
  const detail = `HTTP ${answer.status} (${said})`;
  if (!hasCredentials(answer.authorization)) {
    return { kind: 'auth.missing_token', detail: `${detail}; no Authorization header was sent${answer.authorization !== undefined ? ' (it was empty)' : ''}` };
  }
  if (answer.status === 401 && serverError.error === 'invalid_token') return { kind: 'auth.invalid_token', detail };
  return { kind: 'auth.unauthorized', detail };
}

function hasCredentials(authorization: string | undefined): boolean {
  if (authorization === undefined) return false;
  const [, credentials = ''] = /^\s*\S+\s*(.*)$/s.exec(authorization) ?? [];
  return credentials.trim() !== '';
}

/** The OAuth error code and description from the JSON body or, failing that, from WWW-Authenticate. */
function authErrorOf(answer: ObservedAnswer): { error?: string; description?: string } {
  try {
    const body: unknown = JSON.parse(answer.body ?? '');
    if (body && typeof body === 'object') {
      const record = body as Record<string, unknown>;
      if (typeof record.error === 'string') {
        return {
          error: record.error,
          ...(typeof record.error_description === 'string' ? { description: record.error_description } : {}),
        };
      }
      // A JSON-RPC error envelope.
      if (record.error && typeof record.error === 'object' && typeof (record.error as Record<string, unknown>).message === 'string') {
        const fromHeader = wwwAuthenticateParam(answer.wwwAuthenticate, 'error');
        const message = (record.error as Record<string, string>).message;
        return fromHeader ? { error: fromHeader, description: message } : { description: message };
      }
    }
  } catch {
    // Not JSON: the header may still say.
  }
  const error = wwwAuthenticateParam(answer.wwwAuthenticate, 'error');
  const description = wwwAuthenticateParam(answer.wwwAuthenticate, 'error_description');
  return { ...(error ? { error } : {}), ...(description ? { description } : {}) };
}

function wwwAuthenticateParam(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  const match = new RegExp(`(?:^|[\\s,])${name}\\s*=\\s*(?:"((?:[^"\\\\]|\\\\.)*)"|([^\\s,]+))`, 'i').exec(header);
  if (!match) return undefined;
  return match[1] !== undefined ? match[1].replace(/\\(.)/g, '$1') : match[2];
}

/**
 * A 502 or 504 the proxy made itself rather than passed on: the egress's `x-harness-network`
 * header, an RFC 9209 `Proxy-Status` error type, or a body reporting a DNS failure.
 */
function proxyAnswerReason(answer: ObservedAnswer): FailureReason | undefined {
  const said = answer.body ? `: ${oneLine(answer.body, 200)}` : '';
  if (answer.networkHint === 'no-such-host') {
    return { kind: 'network.no_such_host', detail: `the proxy answered ${answer.status} (x-harness-network: no-such-host)${said}` };
  }
  if (answer.networkHint === 'dropped') {
    return { kind: 'timeout', detail: `the proxy answered ${answer.status} (x-harness-network: dropped)${said}` };
  }
  if (answer.proxyStatus) {
    const fromHeader = proxyStatusReason(answer.proxyStatus, answer.status);
    if (fromHeader) return fromHeader;
  }
  if (/\b(ENOTFOUND|EAI_NONAME|EAI_AGAIN)\b/.test(answer.body ?? '')) {
    return { kind: 'network.no_such_host', detail: `the proxy answered 502${said}` };
  }
  return undefined;
}

/** RFC 9209 error types a proxy puts in `Proxy-Status` when it answers for the destination. */
function proxyStatusReason(header: string, status: number): FailureReason | undefined {
  const error = /(?:^|;)\s*error\s*=\s*"?([a-z_]+)"?/i.exec(header)?.[1]?.toLowerCase();
  const detail = `the proxy answered ${status} (Proxy-Status: ${header})`;
  switch (error) {
    case 'dns_error':
    case 'destination_not_found':
      return { kind: 'network.no_such_host', detail };
    case 'connection_refused':
    case 'destination_unavailable':
    case 'connection_terminated':
      return { kind: 'network.refused', detail };
    case 'connection_timeout':
      return { kind: 'timeout', detail };
    default:
      return undefined;
  }
}

const REFUSED_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);
const NO_SUCH_HOST_CODES = new Set(['ENOTFOUND', 'EAI_NONAME', 'EAI_AGAIN', 'EAI_FAIL']);
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** What the error chain of a failed fetch says about the connection (or, for a blocked port, the config). */
function transportReason(error: unknown): FailureReason | undefined {
  for (const link of causeChain(error)) {
    const code = codeOf(link);
    const message = link instanceof Error ? link.message : '';
    const tunnel = /Proxy response \((\d+)\) !== 200/.exec(message);
    if (tunnel) {
      const status = Number(tunnel[1]);
      const detail = `the proxy answered ${status} to CONNECT`;
      // 504: a proxy's connect timeout; the harness's egress answers so once it has held a dropped flow for timeout_ms.
      if (status === 504) return { kind: 'timeout', detail: `${detail} (its connect timed out)` };
      return status === 502 ? { kind: 'network.no_such_host', detail } : { kind: 'network.refused', detail };
    }
    if (typeof code === 'string' && NO_SUCH_HOST_CODES.has(code)) return { kind: 'network.no_such_host', detail: `${code}: ${message}` };
    if (typeof code === 'string' && REFUSED_CODES.has(code)) return { kind: 'network.refused', detail: `${code}: ${message}` };
    if (/socket hang up|other side closed/i.test(message)) return { kind: 'network.refused', detail: message };
    if (message === 'bad port') return { kind: 'config', detail: 'fetch refuses this port (a "bad port" of the Fetch standard); Claude Code could not reach it either' };
  }
  return undefined;
}

function isTimeout(error: unknown): boolean {
  for (const link of causeChain(error)) {
    const code = codeOf(link);
    if (typeof code === 'string' && TIMEOUT_CODES.has(code)) return true;
    // McpError RequestTimeout (-32001) from the SDK's per-request timeout.
    if (code === -32001) return true;
    if (link instanceof Error && (link.name === 'TimeoutError' || link.name === 'AbortError')) return true;
  }
  return false;
}

/** The error, its causes, and the members of AggregateErrors (how fetch reports connect failures), bounded. */
function causeChain(error: unknown): unknown[] {
  const seen: unknown[] = [];
  const queue: unknown[] = [error];
  while (queue.length > 0 && seen.length < 16) {
    const next = queue.shift();
    if (next === undefined || next === null || seen.includes(next)) continue;
    seen.push(next);
    if (typeof next === 'object') {
      if ('cause' in next) queue.push(next.cause);
      if (next instanceof AggregateError) queue.push(...next.errors);
    }
  }
  return seen;
}

function codeOf(value: unknown): unknown {
  return value && typeof value === 'object' && 'code' in value ? value.code : undefined;
}

/** name, code and message of the error, with the code of the innermost cause that has one. */
export function summarizeError(error: unknown): ErrorSummary {
  const chain = causeChain(error);
  const outer = chain[0];
  const name = outer instanceof Error ? outer.name : typeof outer;
  const messages = chain.map((link) => (link instanceof Error ? link.message : String(link))).filter((m) => m !== '');
  const unique = messages.filter((m, i) => messages.indexOf(m) === i);
  let code: string | number | undefined;
  for (const link of chain) {
    const candidate = codeOf(link);
    if (typeof candidate === 'string' || typeof candidate === 'number') code = candidate;
  }
  return { name, ...(code !== undefined ? { code } : {}), message: oneLine(unique.join(': '), 500) };
}

function httpAnswer(answer: ObservedAnswer): HttpAnswer {
  return {
    status: answer.status,
    ...(answer.body !== undefined ? { body: answer.body.slice(0, BODY_LIMIT) } : {}),
    ...(answer.wwwAuthenticate !== undefined ? { wwwAuthenticate: answer.wwwAuthenticate } : {}),
  };
}

function oneLine(text: string, limit: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > limit ? `${flat.slice(0, limit)}…` : flat;
}
