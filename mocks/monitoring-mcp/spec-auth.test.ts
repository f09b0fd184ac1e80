import { describe, expect, it } from 'vitest';
import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { OAuthProtectedResourceMetadataSchema } from '@modelcontextprotocol/sdk/shared/auth.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startAuthServer, type StartedAuthServer } from '../auth-server/index.ts';
import { startPrometheus } from '../prometheus/index.ts';
import { connectMcpClient } from '../shared/index.ts';
import type { Fetch } from '../../common/index.ts';
import { BASE_SCOPE, MonitoringMcpError, SCOPES_SUPPORTED, startMonitoringMcp } from './index.ts';
import type { MonitoringMcpOptions } from './index.ts';

const RESOURCE = 'http://monitoring-mcp.example.invalid:8000/v1/mcp';
const METADATA_URL = 'http://monitoring-mcp.example.invalid:8000/.well-known/oauth-protected-resource/v1/mcp';
const ALL = SCOPES_SUPPORTED.join(' ');
const INITIALIZE = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '0' } } });

function spec(auth: StartedAuthServer, extra: Partial<MonitoringMcpOptions> = {}) {
  return startMonitoringMcp({ authMode: 'spec', audience: RESOURCE, issuer: auth.issuer, jwksUrl: auth.jwksUrl, ...extra });
}

function post(url: string, headers: Record<string, string> = {}, body = INITIALIZE): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers }, body });
}

async function httpStatus(promise: Promise<unknown>): Promise<number | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return error instanceof StreamableHTTPError ? error.code : -1;
  }
}

describe('monitoring-mcp in spec mode', () => {
  it('serves RFC 9728 metadata at the path-inserted and the root well-known URLs', async () => {
    await using auth = await startAuthServer();
    await using server = await spec(auth);
    for (const path of ['/.well-known/oauth-protected-resource/v1/mcp', '/.well-known/oauth-protected-resource']) {
      const metadata = OAuthProtectedResourceMetadataSchema.parse(await (await fetch(`${server.url}${path}`)).json());
      expect(metadata).toMatchObject({ resource: RESOURCE, authorization_servers: [auth.issuer], scopes_supported: [...SCOPES_SUPPORTED] });
    }
  });

  it('answers a request without a token 401 with a challenge naming resource_metadata and scope', async () => {
    await using auth = await startAuthServer();
    await using server = await spec(auth);
    const res = await post(server.mcpUrl);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(`Bearer error="invalid_token", error_description="Missing Authorization header", scope="${BASE_SCOPE}", resource_metadata="${METADATA_URL}"`);
    expect(server.log.entries.find((entry) => entry.event === 'auth.rejected')).toMatchObject({ cause: 'missing_token' });
  });

  it('connects with an RFC 8707 token for its resource and refuses one for another audience or none', async () => {
    await using auth = await startAuthServer();
    await using server = await spec(auth);
    await using client = await connectMcpClient(server.mcpUrl, { token: await auth.mint('with-audience', { audience: RESOURCE, scope: ALL }) });
    expect((await client.listTools()).tools).toHaveLength(6);
    const other = await auth.mint('with-audience', { audience: 'https://monitoring-ai-mcp.example.invalid/monitoring/v1/mcp', scope: ALL });
    expect(await httpStatus(connectMcpClient(server.mcpUrl, { token: other }))).toBe(401);
    expect(server.log.entries.filter((entry) => entry.event === 'auth.rejected').at(-1)).toMatchObject({ cause: 'wrong_audience' });
    expect(await httpStatus(connectMcpClient(server.mcpUrl, { token: await auth.mint('no-audience', { scope: ALL }) }))).toBe(401);
    expect((await post(server.mcpUrl, { authorization: `Bearer ${await auth.mint('expired', { audience: RESOURCE, scope: ALL })}` })).status).toBe(401);
  });

  it('refuses a tools/call whose tool needs a scope the token lacks with 403 insufficient_scope naming it', async () => {
    await using auth = await startAuthServer();
    await using server = await spec(auth);
    const token = await auth.mint('with-audience', { audience: RESOURCE, scope: BASE_SCOPE });
    await using client = await connectMcpClient(server.mcpUrl, { token });
    expect(((await client.callTool({ name: 'echo', arguments: { message: 'hi' } })) as CallToolResult).content[0]).toEqual({ type: 'text', text: 'hi' });
    const call = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'list_metrics', arguments: {} } });
    const res = await post(server.mcpUrl, { authorization: `Bearer ${token}`, 'mcp-protocol-version': '2025-11-25' }, call);
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toContain(`error="insufficient_scope"`);
    expect(res.headers.get('www-authenticate')).toContain(`scope="${BASE_SCOPE} prometheus:read"`);
    expect(res.headers.get('www-authenticate')).toContain(`resource_metadata="${METADATA_URL}"`);
  });

  it('refuses a foreign Origin with 403 and a JSON-RPC error without id, and lets an allowed one in', async () => {
    await using auth = await startAuthServer();
    await using server = await spec(auth, { allowedOrigins: ['https://console.example.invalid'] });
    const token = await auth.mint('with-audience', { audience: RESOURCE, scope: ALL });
    const foreign = await post(server.mcpUrl, { authorization: `Bearer ${token}`, origin: 'https://attacker.example.invalid' });
    expect([foreign.status, ((await foreign.json()) as { id: unknown }).id]).toEqual([403, null]);
    expect((await post(server.mcpUrl, { authorization: `Bearer ${token}`, origin: 'https://console.example.invalid' })).status).toBe(200);
  });

  it('answers bad JSON with 400 and a JSON-RPC parse error', async () => {
    await using auth = await startAuthServer();
    await using server = await spec(auth);
    const res = await post(server.mcpUrl, {}, '{"jsonrpc": ');
    expect([res.status, ((await res.json()) as { error: { code: number } }).error.code]).toEqual([400, -32700]);
  });

  it('calls Prometheus with its own credential, never the caller\'s token', async () => {
    await using auth = await startAuthServer();
    await using prometheus = await startPrometheus();
    const seen: (string | null)[] = [];
    const recording: Fetch = (input, init) => {
      if (String(input).startsWith(prometheus.url)) seen.push(new Headers(init?.headers).get('authorization'));
      return fetch(input, init);
    };
    await using server = await spec(auth, { prometheusBaseUrl: prometheus.url, prometheusToken: 'own-credential', fetch: recording });
    const token = await auth.mint('with-audience', { audience: RESOURCE, scope: ALL });
    await using client = await connectMcpClient(server.mcpUrl, { token });
    const result = (await client.callTool({ name: 'list_metrics', arguments: {} })) as CallToolResult;
    expect(result.isError).toBeFalsy();
    expect(seen).toEqual(['Bearer own-credential']);
  });

  it('will not start without its resource, its authorization server and a JWKS URL', async () => {
    await using auth = await startAuthServer();
    await expect(startMonitoringMcp({ authMode: 'spec', audience: RESOURCE, jwksUrl: auth.jwksUrl })).rejects.toMatchObject({ code: 'ERR_MONITORING_MCP_OPTIONS' });
    await expect(startMonitoringMcp({ authMode: 'spec', issuer: auth.issuer, jwksUrl: auth.jwksUrl })).rejects.toBeInstanceOf(MonitoringMcpError);
  });
});
