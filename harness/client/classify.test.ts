import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { classifyFailure, type ObservedAnswer } from './classify.ts';

function fetchFailed(cause: unknown): TypeError {
  return new TypeError('fetch failed', { cause });
}

function errno(code: string, message = code): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}

function answer(fields: Partial<ObservedAnswer>): ObservedAnswer {
  return { status: 500, body: undefined, wwwAuthenticate: undefined, proxyStatus: undefined, networkHint: undefined, authorization: 'Bearer x', ...fields };
}

const base = { timedOut: false, timeoutMs: 1_000, stage: 'initialize' as const, answer: undefined };

// Failures that cannot be produced on loopback without leaving it (DNS) or without a real network.
describe('classifyFailure', () => {
  it.each([
    { name: 'DNS ENOTFOUND', error: fetchFailed(errno('ENOTFOUND', 'getaddrinfo ENOTFOUND monitoring-mcp')), kind: 'network.no_such_host' },
    { name: 'DNS EAI_AGAIN', error: fetchFailed(errno('EAI_AGAIN')), kind: 'network.no_such_host' },
    { name: 'an AggregateError of refusals', error: fetchFailed(new AggregateError([errno('ECONNREFUSED'), errno('ECONNREFUSED')])), kind: 'network.refused' },
    { name: 'EHOSTUNREACH', error: fetchFailed(errno('EHOSTUNREACH')), kind: 'network.refused' },
    { name: 'socket hang up', error: fetchFailed(new Error('socket hang up')), kind: 'network.refused' },
    { name: 'undici other side closed', error: fetchFailed(Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' })), kind: 'network.refused' },
    { name: 'a 504 to CONNECT (the egress gave up on a held flow)', error: fetchFailed(new Error('Proxy response (504) !== 200 when HTTP Tunneling')), kind: 'timeout' },
    { name: 'a 403 to CONNECT', error: fetchFailed(new Error('Proxy response (403) !== 200 when HTTP Tunneling')), kind: 'network.refused' },
    { name: 'an undici connect timeout', error: fetchFailed(Object.assign(new Error('Connect Timeout Error'), { code: 'UND_ERR_CONNECT_TIMEOUT' })), kind: 'timeout' },
    { name: "the SDK's request timeout", error: new McpError(-32001, 'Request timed out'), kind: 'timeout' },
    { name: 'a JSON-RPC error', error: new McpError(-32601, 'Method not found'), kind: 'protocol' },
  ])('says $kind for $name', ({ error, kind }) => {
    expect(classifyFailure({ ...base, error })).toMatchObject({ status: 'failed', reason: { kind } });
  });

  it.each([
    { name: 'a 403', fields: { status: 403, body: '{"detail":"Forbidden"}' }, status: 'failed', kind: 'auth.unauthorized' },
    { name: 'a 401 saying invalid_token only in WWW-Authenticate', fields: { status: 401, body: 'nope', wwwAuthenticate: 'Bearer realm="x", error="invalid_token"' }, status: 'failed', kind: 'auth.invalid_token' },
    { name: 'a 401 in a JSON-RPC envelope', fields: { status: 401, body: '{"jsonrpc":"2.0","error":{"code":-32001,"message":"Unauthorized"},"id":null}' }, status: 'failed', kind: 'auth.unauthorized' },
    { name: 'a 401 to a request without Authorization', fields: { status: 401, body: '{"error":"invalid_token"}', authorization: undefined }, status: 'failed', kind: 'auth.missing_token' },
    { name: 'a 401 to "Bearer " with no token', fields: { status: 401, body: '{"error":"invalid_token"}', authorization: 'Bearer ' }, status: 'failed', kind: 'auth.missing_token' },
    // needs-auth is decided by connectWorker's OAuth discovery (oauth-discovery.ts), not from the answer alone.
    { name: 'a 401 with OAuth metadata', fields: { status: 401, wwwAuthenticate: 'Bearer resource_metadata="https://mcp.example/.well-known/oauth-protected-resource"' }, status: 'failed', kind: 'auth.unauthorized' },
    { name: 'a 502 with Proxy-Status dns_error', fields: { status: 502, proxyStatus: 'egress; error=dns_error' }, status: 'failed', kind: 'network.no_such_host' },
    { name: 'a 502 with Proxy-Status connection_refused', fields: { status: 502, proxyStatus: 'egress; error=connection_refused' }, status: 'failed', kind: 'network.refused' },
    { name: 'a 504 from the egress after holding a dropped flow', fields: { status: 504, proxyStatus: 'mth-egress; error=connection_timeout', networkHint: 'dropped' }, status: 'failed', kind: 'timeout' },
    { name: 'a 504 with Proxy-Status connection_timeout', fields: { status: 504, proxyStatus: 'squid; error=connection_timeout' }, status: 'failed', kind: 'timeout' },
    { name: 'a 504 from the server itself', fields: { status: 504, body: 'upstream timed out' }, status: 'failed', kind: 'protocol' },
    { name: 'a 502 from the server itself', fields: { status: 502, body: 'upstream prometheus failed' }, status: 'failed', kind: 'protocol' },
    { name: 'a 500', fields: { status: 500, body: '{"detail":"Internal Server Error"}' }, status: 'failed', kind: 'protocol' },
  ])('says $status $kind for $name', ({ fields, status, kind }) => {
    const error = Object.assign(new Error(`Streamable HTTP error: ${fields.status}`), { code: fields.status });
    const result = classifyFailure({ ...base, error, answer: answer(fields) });
    expect(result).toMatchObject({ status, reason: { kind }, http: { status: fields.status } });
  });

  it('says timeout when the deadline fired, whatever came before', () => {
    expect(classifyFailure({ ...base, stage: 'tools/list', timedOut: true, error: undefined })).toEqual({
      status: 'failed',
      reason: { kind: 'timeout', detail: 'no answer to tools/list within 1000 ms' },
    });
  });

  it('keeps the innermost code and every message of the error chain', () => {
    const result = classifyFailure({ ...base, error: fetchFailed(errno('ECONNRESET', 'read ECONNRESET')) });
    expect(result.error).toEqual({ name: 'TypeError', code: 'ECONNRESET', message: 'fetch failed: read ECONNRESET' });
  });
});
