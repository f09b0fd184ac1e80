import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import type { Fetch } from '../../common/index.ts';
import type { Exchange } from './finding.ts';

/** How the audit reaches a URL: a fetch, what to call it in the evidence, and the URL to really ask. */
export interface Route {
  fetch: Fetch;
  /** e.g. `claude-worker's egress`, or `direct (claude-worker's firewall drops this flow)`. */
  via: string;
  /** The URL the fetch is given: the logical one through an egress, a loopback one when direct. */
  url: string;
}

/** Picks the route to a logical URL (a Consul name, say). */
export type Router = (url: string) => Route;

/** A request to send; `token` is shown in the evidence by its kind and length only. */
export interface ProbeRequest {
  method: 'GET' | 'POST';
  url: string;
  headers?: Record<string, string>;
  /** The bearer token and its kind: sent as `Authorization: Bearer <token>`. */
  token?: { kind: string; value: string };
  body?: unknown;
}

/** What came back, with the evidence to show it. */
export interface ProbeAnswer {
  exchange: Exchange;
  status?: number;
  headers?: Headers;
  /** The body, parsed when it is JSON. */
  json?: unknown;
  text?: string;
}

/** Time allowed to one probe request. A request the firewall holds is never sent: routes avoid it. */
export const PROBE_TIMEOUT_MS = 5_000;
const BODY_EVIDENCE_CHARS = 300;

/** The MCP initialize request the battery sends: the first request any client makes. */
export function initializeRequest(): unknown {
  return {
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'harness-audit', version: '1.0.0' } },
  };
}

/** Headers of a Streamable HTTP POST (transports: Accept lists both content types). */
export const MCP_POST_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' } as const;

/** `<kind token, N chars>`: how a token appears in evidence. */
export function tokenLabel(kind: string, value: string): string {
  return `<${kind} token, ${value.length} chars>`;
}

/**
 * Sends one request along `router`'s route and records it as evidence.
 *
 * @example
 * const answer = await probe(router, { method: 'POST', url, token: { kind: 'alg-none', value }, body: initializeRequest() });
 * answer.status; // 401
 */
export async function probe(router: Router, request: ProbeRequest): Promise<ProbeAnswer> {
  const route = router(request.url);
  const headers: Record<string, string> = { ...request.headers };
  const shown: Record<string, string> = { ...request.headers };
  if (request.token) {
    headers.authorization = `Bearer ${request.token.value}`;
    shown.authorization = `Bearer ${tokenLabel(request.token.kind, request.token.value)}`;
  }
  const exchange: Exchange = { request: { method: request.method, url: request.url, headers: shown }, via: route.via };
  try {
    const response = await route.fetch(route.url, {
      method: request.method,
      headers,
      ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
      redirect: 'manual',
    });
    const text = await response.text();
    const answerHeaders: Record<string, string> = {};
    for (const name of ['content-type', 'www-authenticate', 'location']) {
      const value = response.headers.get(name);
      if (value !== null) answerHeaders[name] = value;
    }
    exchange.response = { status: response.status, headers: answerHeaders, body: text.length > BODY_EVIDENCE_CHARS ? `${text.slice(0, BODY_EVIDENCE_CHARS)}...` : text };
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { exchange, status: response.status, headers: response.headers, json, text };
  } catch (error) {
    exchange.error = error instanceof Error ? `${error.name}: ${error.message}${error.cause instanceof Error ? ` (${error.cause.message})` : ''}` : String(error);
    return { exchange };
  }
}

/** A router for tests and for URLs on loopback: every URL as it is, with the global fetch. */
export function directRouter(via = 'direct'): Router {
  return (url) => ({ fetch: globalThis.fetch, via, url });
}
