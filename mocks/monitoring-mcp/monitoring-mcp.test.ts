import { describe, expect, it } from 'vitest';
import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startAuthServer } from '../auth-server/index.ts';
import { startPrometheus } from '../prometheus/index.ts';
import { listen, ManualClock } from '../../common/index.ts';
import type { LogEntry } from '../../common/index.ts';
import { connectMcpClient } from '../shared/index.ts';
import {
  DEVELOPMENT_MODE_MESSAGE,
  INVALID_TOKEN_BODY,
  MISSING_TOKEN_BODY,
  MONITORING_MCP_TOOLS,
  monitoringMcpOptionsFromEnv,
  startMonitoringMcp,
} from './index.ts';

const AUDIENCE = 'https://monitoring-mcp.example.invalid/v1/mcp';
const INITIALIZE = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'curl', version: '0' } },
});

function text(result: unknown): string {
  const content = (result as CallToolResult).content[0];
  if (content?.type !== 'text') throw new Error('expected a text result');
  return content.text;
}

function postInitialize(url: string, authorization?: string): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  if (authorization !== undefined) headers.authorization = authorization;
  return fetch(url, { method: 'POST', headers, body: INITIALIZE });
}

function lastAuth(entries: LogEntry[]): LogEntry | undefined {
  return entries.filter((e) => e.event.startsWith('auth.')).at(-1);
}

/** A base URL where nothing listens: a port that was just released. */
async function closedPortUrl(): Promise<string> {
  const listening = await listen((_req, res) => res.end());
  await listening.close();
  return listening.url;
}

describe('startMonitoringMcp', () => {
  it('announces the service and its six tools on GET /, byte for byte', async () => {
    await using server = await startMonitoringMcp();
    const response = await fetch(server.url);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(
      '{"service":"Monitoring AI MCP Server","tools":["hello_world","echo","server_info","prometheus_query","get_rules","list_metrics"]}',
    );
  });

  it('lets everything in without validation when no audience is configured (development mode)', async () => {
    await using server = await startMonitoringMcp();
    await using client = await connectMcpClient(server.mcpUrl);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(MONITORING_MCP_TOOLS);
    expect(text(await client.callTool({ name: 'hello_world', arguments: { name: 'worker' } }))).toBe('Hello, worker!');
    expect(lastAuth(server.log.entries)).toMatchObject({ event: 'auth.skipped', detail: DEVELOPMENT_MODE_MESSAGE });
  });

  it('completes the handshake and a tool call with a valid token in strict mode', async () => {
    const clock = new ManualClock();
    await using auth = await startAuthServer({ clock });
    await using server = await startMonitoringMcp({ audience: AUDIENCE, issuer: auth.issuer, jwksUrl: auth.jwksUrl, clock });
    await using client = await connectMcpClient(server.mcpUrl, { token: await auth.mint('valid') });
    expect(client.getServerVersion()?.name).toBe('Monitoring AI MCP Server');
    expect((await client.listTools()).tools).toHaveLength(6);
    expect(text(await client.callTool({ name: 'echo', arguments: { message: 'ping' } }))).toBe('ping');
    expect(lastAuth(server.log.entries)).toMatchObject({ event: 'auth.allowed', mode: 'strict', sub: 'claude-worker', iss: auth.issuer });
    // One JWKS fetch, then the cached set for every later request of the handshake.
    expect(auth.jwksRequests).toBe(1);
  });

  it('serves 2026-07-28 (v2 SDK) behind the same auth, with the same tools', async () => {
    const clock = new ManualClock();
    await using auth = await startAuthServer({ clock });
    await using server = await startMonitoringMcp({ audience: AUDIENCE, issuer: auth.issuer, jwksUrl: auth.jwksUrl, clock, mcpRevisions: ['2026-07-28'] });
    const connect = async (token: string) => {
      const client = new ModernClient({ name: 'worker', version: '0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
      await client.connect(new ModernTransport(new URL(server.mcpUrl), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
      return Object.assign(client, { [Symbol.asyncDispose]: () => client.close() });
    };
    await using client = await connect(await auth.mint('valid'));
    expect(client.getNegotiatedProtocolVersion()).toBe('2026-07-28');
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(MONITORING_MCP_TOOLS);
    expect(text(await client.callTool({ name: 'echo', arguments: { message: 'ping' } }))).toBe('ping');
    expect(lastAuth(server.log.entries)).toMatchObject({ event: 'auth.allowed', mode: 'strict', sub: 'claude-worker' });
    await expect(connect('orchestration-agent')).rejects.toThrow();
    expect(lastAuth(server.log.entries)).toMatchObject({ event: 'auth.rejected', cause: 'malformed' });
  });

  it('answers the fake orchestration-agent token with 401 invalid_token, as the incident curl showed', async () => {
    await using auth = await startAuthServer();
    await using server = await startMonitoringMcp({ audience: AUDIENCE, issuer: auth.issuer, jwksUrl: auth.jwksUrl });
    const response = await postInitialize(server.mcpUrl, 'Bearer orchestration-agent');
    expect(response.status).toBe(401);
    expect(await response.text()).toBe('{"error":"invalid_token","error_description":"The access token is malformed or invalid"}');
    expect(response.headers.get('www-authenticate')).toBe('Bearer error="invalid_token", error_description="The access token is malformed or invalid"');
    expect(lastAuth(server.log.entries)).toMatchObject({ event: 'auth.rejected', cause: 'malformed', detail: 'Not enough segments' });
    const refused = await connectMcpClient(server.mcpUrl, { token: 'orchestration-agent' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(StreamableHTTPError);
    expect((refused as StreamableHTTPError).code).toBe(401);
    expect(auth.jwksRequests).toBe(0);
  });

  it.each([
    ['no Authorization header', undefined],
    ['another scheme', 'Basic Y2xhdWRlOndvcmtlcg=='],
  ])('answers 401 missing_token for %s in strict mode', async (_label, authorization) => {
    await using auth = await startAuthServer();
    await using server = await startMonitoringMcp({ audience: AUDIENCE, issuer: auth.issuer, jwksUrl: auth.jwksUrl });
    const response = await postInitialize(server.mcpUrl, authorization);
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual(MISSING_TOKEN_BODY);
    expect(lastAuth(server.log.entries)).toMatchObject({ event: 'auth.rejected', cause: 'missing_token' });
  });

  it('announces RFC 9728 protected resource metadata when given an authorization server (opt-in)', async () => {
    await using auth = await startAuthServer();
    const resourceUrl = 'http://monitoring-mcp.service.dc.consul:8000/v1/mcp';
    await using server = await startMonitoringMcp({ audience: AUDIENCE, issuer: auth.issuer, jwksUrl: auth.jwksUrl, authorizationServer: auth.url, resourceUrl });
    const response = await postInitialize(server.mcpUrl, undefined);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe(
      'Bearer error="invalid_token", error_description="Authentication required", resource_metadata="http://monitoring-mcp.service.dc.consul:8000/.well-known/oauth-protected-resource/v1/mcp"',
    );
    const origin = new URL(server.mcpUrl).origin;
    for (const at of ['/.well-known/oauth-protected-resource/v1/mcp', '/.well-known/oauth-protected-resource']) {
      expect(await (await fetch(`${origin}${at}`)).json()).toEqual({ resource: resourceUrl, authorization_servers: [auth.url], bearer_methods_supported: ['header'] });
    }
    await using plain = await startMonitoringMcp({ audience: AUDIENCE, issuer: auth.issuer, jwksUrl: auth.jwksUrl });
    expect((await fetch(`${new URL(plain.mcpUrl).origin}/.well-known/oauth-protected-resource`)).status).toBe(404);
    expect(monitoringMcpOptionsFromEnv({ MCP_AUTHORIZATION_SERVER: auth.url, MCP_RESOURCE_URL: resourceUrl })).toMatchObject({ authorizationServer: auth.url, resourceUrl });
  });

  it('lets the fake token in with authMode decode-only (the seed\'s Option 2) and logs the decode error', async () => {
    await using server = await startMonitoringMcp({ audience: AUDIENCE, authMode: 'decode-only' });
    await using client = await connectMcpClient(server.mcpUrl, { token: 'orchestration-agent' });
    expect((await client.listTools()).tools).toHaveLength(6);
    expect(lastAuth(server.log.entries)).toMatchObject({ event: 'auth.allowed', mode: 'decode-only', cause: 'malformed' });
  });

  it('answers GET and DELETE on the MCP path with 405 once past auth', async () => {
    await using server = await startMonitoringMcp();
    for (const method of ['GET', 'DELETE']) {
      const response = await fetch(server.mcpUrl, { method, headers: { accept: 'text/event-stream' } });
      expect(response.status).toBe(405);
    }
  });

  describe('prometheus tools', () => {
    it('runs prometheus_query, get_rules and list_metrics against the Prometheus HTTP API', async () => {
      const clock = new ManualClock();
      await using prometheus = await startPrometheus({ clock });
      await using server = await startMonitoringMcp({ prometheusBaseUrl: prometheus.url, clock });
      await using client = await connectMcpClient(server.mcpUrl);
      const query = await client.callTool({ name: 'prometheus_query', arguments: { query: 'up{job="monitoring-mcp"}' } });
      expect(query.isError).toBeFalsy();
      const data = JSON.parse(text(query));
      expect(data).toMatchObject({ resultType: 'vector', result: [{ metric: { job: 'monitoring-mcp' } }] });
      const metrics = JSON.parse(text(await client.callTool({ name: 'list_metrics', arguments: {} })));
      expect(metrics).toContain('up');
      const rules = JSON.parse(text(await client.callTool({ name: 'get_rules', arguments: {} })));
      expect(Array.isArray(rules.groups)).toBe(true);
      expect(prometheus.log.entries.map((e) => e.target ?? e.url)).toContainEqual(expect.stringContaining('/api/v1/query'));
    });

    it('turns a Prometheus error answer into a tool error', async () => {
      await using prometheus = await startPrometheus();
      await using server = await startMonitoringMcp({ prometheusBaseUrl: prometheus.url });
      await using client = await connectMcpClient(server.mcpUrl);
      const result = await client.callTool({ name: 'prometheus_query', arguments: { query: 'up{' } });
      expect(result.isError).toBe(true);
      expect(text(result)).toMatch(/^Prometheus error \(bad_data\)/);
    });

    it('turns an unreachable Prometheus into a tool error naming ECONNREFUSED', async () => {
      await using server = await startMonitoringMcp({ prometheusBaseUrl: await closedPortUrl() });
      await using client = await connectMcpClient(server.mcpUrl);
      const result = await client.callTool({ name: 'list_metrics', arguments: {} });
      expect(result.isError).toBe(true);
      expect(text(result)).toContain('ECONNREFUSED');
      expect(server.log.entries.at(-1)).toMatchObject({ event: 'prometheus.request_failed', errorCode: 'ECONNREFUSED' });
    });

    it('answers a tool error when PROMETHEUS_BASE_URL is not configured', async () => {
      await using server = await startMonitoringMcp();
      await using client = await connectMcpClient(server.mcpUrl);
      const result = await client.callTool({ name: 'get_rules', arguments: {} });
      expect(result).toMatchObject({ isError: true, content: [{ type: 'text', text: 'PROMETHEUS_BASE_URL is not configured' }] });
    });
  });

  describe('options', () => {
    it.each([
      ['strict mode with an audience and no JWKS URL', { audience: AUDIENCE }],
      ['an unknown auth mode', { authMode: 'lenient' as never }],
      ['a JWKS URL that is not a URL', { audience: AUDIENCE, jwksUrl: 'jwks' }],
      ['a JWKS timeout of 0', { audience: AUDIENCE, jwksUrl: 'http://127.0.0.1:1/jwks', jwksTimeoutMs: 0 }],
      ['an unknown PyJWT version', { pyjwtVersion: '2.11' as never }],
    ])('refuses to start with %s', async (_label, options) => {
      await expect(startMonitoringMcp(options)).rejects.toMatchObject({ code: 'ERR_MONITORING_MCP_OPTIONS' });
    });

    it('reads its configuration from the environment', () => {
      const options = monitoringMcpOptionsFromEnv({
        PORT: '8000',
        MCP_JWT_AUDIENCE: AUDIENCE,
        MCP_JWT_ISSUER: 'https://auth.example.invalid',
        MCP_JWKS_URL: 'http://auth.example.invalid/.well-known/jwks.json',
        MCP_JWT_VERIFY_AUDIENCE: 'true',
        MCP_AUTH_MODE: 'decode-only',
        PROMETHEUS_BASE_URL: 'http://trickster-dev:9090',
        PYJWT_VERSION: '2.12',
      });
      expect(options).toMatchObject({
        pyjwtVersion: '2.12',
        port: 8000,
        audience: AUDIENCE,
        issuer: 'https://auth.example.invalid',
        verifyAudience: true,
        authMode: 'decode-only',
        prometheusBaseUrl: 'http://trickster-dev:9090',
      });
    });

    it.each([
      ['MCP_AUTH_MODE', 'lenient'],
      ['MCP_JWT_VERIFY_AUDIENCE', 'maybe'],
      ['MCP_JWKS_TIMEOUT_MS', '-5'],
      ['PYJWT_VERSION', '2.11'],
      ['PYJWT_VERSION', 'latest'],
    ])('refuses %s=%s from the environment', (name, value) => {
      expect(() => monitoringMcpOptionsFromEnv({ [name]: value })).toThrow(expect.objectContaining({ code: 'ERR_MONITORING_MCP_OPTIONS' }));
    });

    it('names PYJWT_VERSION and the known versions when the version is unknown, and defaults to the current one', () => {
      expect(() => monitoringMcpOptionsFromEnv({ PYJWT_VERSION: '2.16' })).toThrow(
        expect.objectContaining({ message: expect.stringMatching(/^PYJWT_VERSION must be one of 2\.12, 2\.13, 2\.14, 2\.15 .*got "2\.16"$/) }),
      );
      expect(monitoringMcpOptionsFromEnv({}).pyjwtVersion).toBe('2.15');
    });
  });

  it('rejects every request with the JWKS down and names the hop in the log', async () => {
    await using auth = await startAuthServer();
    await using server = await startMonitoringMcp({ audience: AUDIENCE, issuer: auth.issuer, jwksUrl: auth.jwksUrl });
    const token = await auth.mint('valid');
    await auth.setJwksFault('connection-refused');
    const response = await postInitialize(server.mcpUrl, `Bearer ${token}`);
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual(INVALID_TOKEN_BODY);
    expect(lastAuth(server.log.entries)).toMatchObject({ cause: 'jwks_unreachable', jwksUrl: auth.jwksUrl, errorCode: 'ECONNREFUSED' });
  });
});
