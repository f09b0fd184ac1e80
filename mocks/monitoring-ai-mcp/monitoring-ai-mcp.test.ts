import { describe, expect, it } from 'vitest';
import { generateKeyPair, SignJWT } from 'jose';
import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { ManualClock } from '../../common/index.ts';
import type { LogEntry } from '../../common/index.ts';
import { connectMcpClient } from '../shared/index.ts';
import { startMonitoringAiMcp, TOOLSET_TOOLS, TOOLSETS } from './index.ts';

function text(result: unknown): string {
  const content = (result as CallToolResult).content[0];
  if (content?.type !== 'text') throw new Error('expected a text result');
  return content.text;
}

async function signedJwt(): Promise<string> {
  const { privateKey } = await generateKeyPair('RS256');
  return new SignJWT({ sub: 'claude-worker', aud: 'https://elsewhere.invalid' })
    .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
    .setIssuer('https://auth.invalid')
    .setExpirationTime('1h')
    .sign(privateKey);
}

function authEntries(entries: LogEntry[]): LogEntry[] {
  return entries.filter((e) => e.event.startsWith('auth.'));
}

describe('startMonitoringAiMcp', () => {
  it.each(TOOLSETS)('completes the MCP handshake and lists the %s tools', async (toolset) => {
    await using server = await startMonitoringAiMcp();
    await using client = await connectMcpClient(server.mcpUrl(toolset), { token: 'orchestration-agent' });
    expect(client.getServerVersion()?.name).toBe(`monitoring-ai-mcp-${toolset}`);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(TOOLSET_TOOLS[toolset]);
  });

  it('answers grafana tools from the fixtures', async () => {
    await using server = await startMonitoringAiMcp();
    await using client = await connectMcpClient(server.mcpUrl('grafana'), { token: 'orchestration-agent' });
    const found = JSON.parse(text(await client.callTool({ name: 'search_dashboards', arguments: { query: 'mcp' } })));
    expect(found.map((d: { uid: string }) => d.uid)).toEqual(['mcp-servers']);
    const missing = await client.callTool({ name: 'get_dashboard_by_uid', arguments: { uid: 'nope' } });
    expect(missing.isError).toBe(true);
    const up = JSON.parse(text(await client.callTool({ name: 'query_prometheus', arguments: { datasourceUid: 'prometheus-dev', expr: 'up' } })));
    expect(up.result).toHaveLength(2);
  });

  it('keeps a created silence for later requests and stamps it with the clock', async () => {
    const clock = new ManualClock(Date.parse('2025-10-01T18:00:00Z'));
    await using server = await startMonitoringAiMcp({ clock });
    {
      await using client = await connectMcpClient(server.mcpUrl('alertmanager'));
      const created = await client.callTool({
        name: 'create_silence',
        arguments: { matchers: [{ name: 'server', value: 'prometheus' }], createdBy: 'test', comment: 'incident' },
      });
      expect(JSON.parse(text(created))).toEqual({ silenceID: 'silence-1' });
    }
    await using client = await connectMcpClient(server.mcpUrl('alertmanager'));
    const silences = JSON.parse(text(await client.callTool({ name: 'list_silences', arguments: { filter: ['server="prometheus"'] } })));
    expect(silences).toEqual([expect.objectContaining({ id: 'silence-1', startsAt: '2025-10-01T18:00:00.000Z', endsAt: '2025-10-01T19:00:00.000Z', status: { state: 'active' } })]);
    const alerts = JSON.parse(text(await client.callTool({ name: 'list_alerts', arguments: { filter: ['alertname=HighErrorRate'], silenced: false } })));
    expect(alerts.map((a: { labels: { service: string } }) => a.labels.service)).toEqual(['monitoring-mcp']);
    const bad = await client.callTool({ name: 'list_alerts', arguments: { filter: ['not a matcher'] } });
    expect(bad.isError).toBe(true);
  });

  it.each([
    ['no toolset', undefined, 'no toolset'],
    ['an unknown toolset', 'loki', 'unknown toolset "loki"'],
  ])('answers 400 with a JSON-RPC error when given %s', async (_label, toolset, message) => {
    await using server = await startMonitoringAiMcp();
    const response = await fetch(server.mcpUrl(toolset), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: {} }),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { message: string } };
    expect(body).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32000 } });
    expect(body.error.message).toContain(message);
    const refused = await connectMcpClient(server.mcpUrl(toolset)).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(StreamableHTTPError);
    expect((refused as StreamableHTTPError).code).toBe(400);
  });

  it.each(['GET', 'DELETE'])('answers %s with 405 as the SDK stateless mode does', async (method) => {
    await using server = await startMonitoringAiMcp();
    const response = await fetch(server.mcpUrl('grafana'), { method, headers: { accept: 'text/event-stream' } });
    expect(response.status).toBe(405);
    expect(await response.json()).toEqual({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed.' }, id: null });
  });

  it('lets every request in and logs what it decoded without verifying', async () => {
    const jwt = await signedJwt();
    await using server = await startMonitoringAiMcp({ audience: 'https://monitoring-ai-mcp-dev.example/monitoring/v1/mcp' });
    for (const token of [jwt, 'orchestration-agent', undefined]) {
      await using client = await connectMcpClient(server.mcpUrl('grafana'), { token });
      expect((await client.listTools()).tools).not.toHaveLength(0);
    }
    const [started] = server.log.entries;
    expect(started).toMatchObject({ event: 'server.started', audience: 'https://monitoring-ai-mcp-dev.example/monitoring/v1/mcp' });
    const seen = authEntries(server.log.entries);
    expect(new Set(seen.map((e) => e.event))).toEqual(new Set(['auth.allowed']));
    expect(seen).toContainEqual(expect.objectContaining({ sub: 'claude-worker', iss: 'https://auth.invalid', aud: 'https://elsewhere.invalid' }));
    expect(seen).toContainEqual(expect.objectContaining({ cause: 'malformed', detail: expect.stringContaining('JWT decode error') }));
    expect(seen).toContainEqual(expect.objectContaining({ cause: 'missing_token', detail: 'no Authorization header' }));
  });

  it('serves a JSON 404 elsewhere', async () => {
    await using server = await startMonitoringAiMcp();
    const response = await fetch(`${server.url}/v1/mcp`, { method: 'POST' });
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ detail: 'Not Found' });
  });

  it('refuses to start with a fixtures file that does not exist', async () => {
    await expect(startMonitoringAiMcp({ fixturesFile: '/nonexistent/fixtures.json' })).rejects.toMatchObject({ code: 'ERR_MONITORING_AI_MCP_FIXTURES' });
  });
});
