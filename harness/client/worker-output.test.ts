import { describe, expect, it } from 'vitest';
import { formatMcpServersLine, initMessage } from './worker-output.ts';
import type { McpServerReport, WorkerReport } from './worker-report.ts';

function server(name: string, status: McpServerReport['status'], tools: string[] = []): McpServerReport {
  return { name, status, tools, url: `http://${name}/mcp`, missingEnv: [], elapsedMs: 1 };
}

// Config order of the seed's agent_config.yaml.
const SEED_REPORT: WorkerReport = {
  servers: [
    server('grafana', 'connected', ['mcp__grafana__query_loki', 'mcp__grafana__list_dashboards']),
    server('alertmanager', 'connected', ['mcp__alertmanager__list_alerts']),
    { ...server('prometheus', 'failed'), reason: { kind: 'auth.invalid_token', detail: 'HTTP 401' } },
  ],
  permissionsChecked: false,
  unpermitted: [],
  denied: [],
};

describe('formatMcpServersLine', () => {
  it('prints the seed log line, sorted by name', () => {
    expect(formatMcpServersLine(SEED_REPORT)).toBe(
      "'mcp_servers': [{'name': 'alertmanager', 'status': 'connected'}, {'name': 'grafana', 'status': 'connected'}, {'name': 'prometheus', 'status': 'failed'}]",
    );
  });

  it.each([
    ["o'brien", `"o'brien"`],
    ['say "hi"', `'say "hi"'`],
    [`both ' and "`, `'both \\' and "'`],
    ['back\\slash', `'back\\\\slash'`],
    ['new\nline', `'new\\nline'`],
  ])('quotes the name %j as Python would: %s', (name, repr) => {
    expect(formatMcpServersLine({ servers: [server(name, 'needs-auth')] })).toBe(`'mcp_servers': [{'name': ${repr}, 'status': 'needs-auth'}]`);
  });

  it('prints an empty list for no servers', () => {
    expect(formatMcpServersLine({ servers: [] })).toBe("'mcp_servers': []");
  });
});

describe('initMessage', () => {
  it('lists servers in config order and the tools of connected servers', () => {
    expect(initMessage(SEED_REPORT)).toEqual({
      type: 'system',
      subtype: 'init',
      mcp_servers: [
        { name: 'grafana', status: 'connected' },
        { name: 'alertmanager', status: 'connected' },
        { name: 'prometheus', status: 'failed' },
      ],
      tools: ['mcp__grafana__query_loki', 'mcp__grafana__list_dashboards', 'mcp__alertmanager__list_alerts'],
    });
  });

  it('leaves denied tools out, and keeps tools that are only not allowed', () => {
    const report = { ...SEED_REPORT, permissionsChecked: true, unpermitted: ['mcp__grafana__query_loki', 'mcp__alertmanager__list_alerts'], denied: ['mcp__grafana__query_loki'] };
    expect(initMessage(report).tools).toEqual(['mcp__grafana__list_dashboards', 'mcp__alertmanager__list_alerts']);
  });
});
