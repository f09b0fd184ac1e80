import { describe, expect, it } from 'vitest';
import { ClientError } from './errors.ts';
import type { McpServerReport } from './worker-report.ts';
import { mcpToolName, mcpToolPrefix, parseWorkerSettings, ruleCoversTool, unpermittedTools } from './worker-settings.ts';

function server(name: string, status: McpServerReport['status'], tools: string[]): Pick<McpServerReport, 'name' | 'status' | 'tools'> {
  return { name, status, tools: tools.map((tool) => mcpToolName(name, tool)) };
}

function settingsError(run: () => unknown): ClientError {
  try {
    run();
  } catch (error) {
    if (error instanceof ClientError) return error;
    throw error;
  }
  throw new Error('expected a ClientError');
}

describe('mcpToolName', () => {
  it.each([
    ['grafana', 'query_loki', 'mcp__grafana__query_loki'],
    ['monitoring.mcp', 'list metrics', 'mcp__monitoring_mcp__list_metrics'],
    ['my-server', 'get-rules', 'mcp__my-server__get-rules'],
  ])('names tool %s/%s %s', (serverName, tool, expected) => {
    expect(mcpToolName(serverName, tool)).toBe(expected);
  });

  it('starts with mcpToolPrefix, the server name normalised the same way', () => {
    expect(mcpToolPrefix('graf.ana')).toBe('mcp__graf_ana__');
    expect(mcpToolName('graf.ana', 'query').startsWith(mcpToolPrefix('graf.ana'))).toBe(true);
    expect(mcpToolName('graf.ana', 'query').startsWith('mcp__graf.ana__')).toBe(false);
  });
});

describe('ruleCoversTool', () => {
  it.each([
    { rule: 'mcp__grafana', tool: 'mcp__grafana__query_loki', covers: true },
    { rule: 'mcp__grafana__*', tool: 'mcp__grafana__query_loki', covers: true },
    { rule: 'mcp__grafana__query_loki', tool: 'mcp__grafana__query_loki', covers: true },
    { rule: 'mcp__grafana__query_loki', tool: 'mcp__grafana__list_dashboards', covers: false },
    { rule: 'mcp__grafana', tool: 'mcp__grafana_ops__query', covers: false },
    { rule: 'mcp__prometheus', tool: 'mcp__grafana__query_loki', covers: false },
    // Claude Code has no server wildcard: `mcp__*` names a server called "*".
    { rule: 'mcp__*', tool: 'mcp__grafana__query_loki', covers: false },
    { rule: 'mcp__grafana__query*', tool: 'mcp__grafana__query_loki', covers: false },
    // A rule with content never covers a whole tool.
    { rule: 'mcp__grafana(query_loki)', tool: 'mcp__grafana__query_loki', covers: false },
    { rule: 'Bash', tool: 'mcp__grafana__query_loki', covers: false },
    { rule: ' mcp__grafana ', tool: 'mcp__grafana__query_loki', covers: true },
  ])('says $covers for rule $rule and tool $tool', ({ rule, tool, covers }) => {
    expect(ruleCoversTool(rule, tool)).toBe(covers);
  });
});

describe('unpermittedTools', () => {
  const report = {
    servers: [
      server('grafana', 'connected', ['query_loki', 'list_dashboards']),
      server('prometheus', 'connected', ['prometheus_query', 'get_rules']),
      server('alertmanager', 'failed', ['never_listed']),
    ],
  };
  const settings = (allow: string[], deny: string[] = [], ask: string[] = [], defaultMode?: string) => ({
    permissions: { allow, deny, ask, ...(defaultMode ? { defaultMode } : {}) },
  });

  it.each([
    { allow: ['mcp__grafana', 'mcp__prometheus__*'], deny: [], ask: [], mode: undefined, expected: [] },
    {
      allow: ['mcp__grafana'], deny: [], ask: [], mode: undefined,
      expected: [['mcp__prometheus__prometheus_query', 'not-allowed'], ['mcp__prometheus__get_rules', 'not-allowed']],
    },
    {
      allow: ['mcp__grafana', 'mcp__prometheus'], deny: ['mcp__grafana__query_loki'], ask: [], mode: undefined,
      expected: [['mcp__grafana__query_loki', 'denied']],
    },
    {
      allow: ['mcp__grafana__list_dashboards', 'mcp__prometheus'], deny: [], ask: ['mcp__prometheus__get_rules'], mode: undefined,
      expected: [['mcp__grafana__query_loki', 'not-allowed'], ['mcp__prometheus__get_rules', 'ask']],
    },
    { allow: [], deny: ['mcp__prometheus'], ask: [], mode: 'bypassPermissions', expected: [['mcp__prometheus__prometheus_query', 'denied'], ['mcp__prometheus__get_rules', 'denied']] },
  ])('lists $expected for allow $allow, deny $deny, ask $ask, mode $mode', ({ allow, deny, ask, mode, expected }) => {
    const result = unpermittedTools(report, settings(allow, deny, ask, mode));
    expect(result.map((entry) => [entry.tool, entry.reason])).toEqual(expected);
    for (const entry of result) expect(entry.tool.startsWith(`mcp__${entry.server}__`)).toBe(true);
  });

  it('names the deny rule that matched', () => {
    expect(unpermittedTools(report, settings(['mcp__grafana', 'mcp__prometheus'], ['mcp__grafana__*']))[0]).toEqual({
      server: 'grafana', tool: 'mcp__grafana__query_loki', reason: 'denied', rule: 'mcp__grafana__*',
    });
  });
});

describe('parseWorkerSettings', () => {
  it('reads permissions and ignores the other settings', () => {
    const text = JSON.stringify({ env: { A: '1' }, model: 'sonnet', permissions: { allow: ['mcp__grafana'], deny: ['Bash'], defaultMode: 'default' } });
    expect(parseWorkerSettings(text, { file: 'settings.json' })).toEqual({
      permissions: { allow: ['mcp__grafana'], deny: ['Bash'], ask: [], defaultMode: 'default' },
    });
  });

  it('reads a file without permissions as no rules', () => {
    expect(parseWorkerSettings('{}', { file: 'settings.json' })).toEqual({ permissions: { allow: [], deny: [], ask: [] } });
  });

  it.each([
    { name: 'a JSON syntax error', text: '{\n  "permissions": {\n    "allow": ["mcp__grafana",]\n  }\n}', line: 3, field: undefined },
    { name: 'allow as a string', text: '{\n  "permissions": {\n    "allow": "mcp__grafana"\n  }\n}', line: 3, field: 'permissions.allow' },
    { name: 'a rule that is not a string', text: '{\n  "permissions": {\n    "allow": [\n      "mcp__grafana",\n      42\n    ]\n  }\n}', line: 5, field: 'permissions.allow.1' },
    { name: 'an empty rule', text: '{"permissions": {"deny": [""]}}', line: 1, field: 'permissions.deny.0' },
    { name: 'permissions as a list', text: '{\n "permissions": []\n}', line: 2, field: 'permissions' },
    { name: 'a list at the top', text: '[]', line: 1, field: undefined },
  ])('points at line and field for $name', ({ text, line, field }) => {
    const error = settingsError(() => parseWorkerSettings(text, { file: 'settings.json' }));
    expect(error.code).toBe('ERR_WORKER_SETTINGS');
    expect(error.location).toMatchObject({ file: 'settings.json', line });
    expect(error.location?.field).toBe(field);
  });
});
