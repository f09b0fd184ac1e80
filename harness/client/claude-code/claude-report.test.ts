import { describe, expect, it } from 'vitest';
import type { McpServerConfig } from '../worker-config.ts';
import type { ClaudeInitLine, ClaudeMcpLogLine } from './claude-process.ts';
import { claudeReport } from './claude-report.ts';

const servers: McpServerConfig[] = [
  { name: 'grafana', type: 'http', url: '${BASE}/grafana', headers: { Authorization: 'Bearer ${GRAFANA_TOKEN:-orchestration-agent}' } },
  { name: 'prometheus', type: 'http', url: 'http://monitoring-mcp:8000/v1/mcp', headers: { Authorization: 'Bearer ${PROMETHEUS_TOKEN}' } },
  { name: 'open', type: 'http', url: 'http://open:8000/mcp', headers: {} },
  { name: 'slow', type: 'http', url: 'http://slow:8000/mcp', headers: {} },
];

function init(statuses: Record<string, string>, tools: string[]): ClaudeInitLine {
  return {
    type: 'system',
    subtype: 'init',
    mcp_servers: Object.entries(statuses).map(([name, status]) => ({ name, status, source: 'dynamic' })),
    tools: ['Bash', 'Read', ...tools],
    claude_code_version: '2.1.332',
  };
}

const log = (...lines: ClaudeMcpLogLine[]) => lines;

describe('claudeReport', () => {
  it('takes statuses from mcp_servers, tools by server prefix, and reasons from the MCP logs', () => {
    const report = claudeReport({
      servers,
      env: { BASE: 'http://ai:8000', PROMETHEUS_TOKEN: 'not-a-jwt' },
      init: init({ grafana: 'connected', prometheus: 'failed', open: 'needs-auth', slow: 'pending' }, ['mcp__grafana__query', 'mcp__grafana__search']),
      mcpLogs: {
        grafana: log({ debug: 'Initializing HTTP transport to http://ai:8000/grafana' }),
        prometheus: log(
          { debug: 'Initializing HTTP transport to http://monitoring-mcp:8000/v1/mcp' },
          { error: 'SdkHttpError: Error POSTing to endpoint: {"error":"invalid_token"}\n    at _send (/$bunfs/root/chunk.js:1:1)' },
          { error: 'Server rejected the configured Authorization header (HTTP 401). Check that the token is valid' },
          { debug: 'Connection failed after 83ms: ...' },
        ),
        open: log({ error: 'McpClientRegistrationDeferredError: Authentication required; client registration is deferred' }),
      },
      mcpTimeoutMs: 30_000,
      elapsedMs: 700,
      settings: undefined,
    });
    expect(report.client).toEqual({ name: 'claude-code', version: '2.1.332' });
    expect(report.servers.map((server) => [server.name, server.status, server.tools.length, server.reason?.kind])).toEqual([
      ['grafana', 'connected', 2, undefined],
      ['prometheus', 'failed', 0, 'auth.invalid_token'],
      ['open', 'needs-auth', 0, 'auth.missing_token'],
      ['slow', 'pending', 0, 'timeout'],
    ]);
    expect(report.servers[0]!.url).toBe('http://ai:8000/grafana');
    expect(report.servers[1]!.url).toBe('http://monitoring-mcp:8000/v1/mcp');
    expect(report.servers[1]).toMatchObject({ elapsedMs: 83, reason: { detail: expect.stringContaining('Server rejected the configured Authorization header') } });
    expect(report.servers[3]!.reason!.detail).toContain('MCP_TIMEOUT 30000 ms');
  });

  it.each([
    ['Connection failed (ECONNREFUSED): ECONNREFUSED: Unable to connect', 'network.refused'],
    ['Connection failed (ECONNRESET): ECONNRESET: The socket connection was closed unexpectedly', 'network.refused'],
    ['Connection failed (CONNECT_TIMEOUT): MCP server "x" connection timed out after 2000ms', 'timeout'],
    ['Connection failed: something else entirely', 'protocol'],
  ])('classifies "%s" as %s', (error, kind) => {
    const report = claudeReport({
      servers: [servers[2]!],
      env: {},
      init: init({ open: 'failed' }, []),
      mcpLogs: { open: log({ error }) },
      mcpTimeoutMs: 30_000,
      elapsedMs: 1,
      settings: undefined,
    });
    expect(report.servers[0]!.reason?.kind).toBe(kind);
  });

  it('fails a server Claude Code did not list, and lists the denied tools it left out', () => {
    const report = claudeReport({
      servers: servers.slice(0, 2),
      env: {},
      init: init({ grafana: 'connected' }, ['mcp__grafana__query']),
      mcpLogs: {},
      mcpTimeoutMs: 30_000,
      elapsedMs: 1,
      settings: { permissions: { allow: [], deny: [], ask: [] } },
    });
    expect(report.servers[1]).toMatchObject({ status: 'failed', reason: { kind: 'config' } });
    expect(report.unpermitted).toEqual(['mcp__grafana__query']);
  });
});
