import { describe, expect, it } from 'vitest';
import { ClientError } from './errors.ts';
import { parseWorkerConfig } from './worker-config.ts';

// The seed's claude-worker agent_config.yaml, with the comment PR #26 added.
const SEED_AGENT_CONFIG = `# IMPORTANT: When adding new MCP servers, you must also:
# 1. Update settings.json to allow the MCP tools (e.g., mcp__servername__toolname)
mcp_servers:
  grafana:
    type: "http"
    url: "\${MONITORING_AI_MCP_URL}/monitoring/v1/mcp?toolset=grafana"
    headers:
      Authorization: "Bearer \${GRAFANA_TOKEN:-orchestration-agent}"

  alertmanager:
    type: "http"
    url: "\${MONITORING_AI_MCP_URL}/monitoring/v1/mcp?toolset=alertmanager"
    headers:
      Authorization: "Bearer \${ALERTMANAGER_TOKEN:-orchestration-agent}"

  prometheus:
    type: "http"
    url: "http://monitoring-mcp.service.dev-us-east-1.consul:8000/v1/mcp"
    headers:
      Authorization: "Bearer \${PROMETHEUS_TOKEN:-orchestration-agent}"
`;

const CLAUDE_JSON = `{
  "mcpServers": {
    "prometheus": {
      "type": "http",
      "url": "http://monitoring-mcp.service.dev-us-east-1.consul:8000/v1/mcp",
      "headers": { "Authorization": "Bearer \${PROMETHEUS_TOKEN:-orchestration-agent}" }
    },
    "files": { "command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem"] },
    "legacy": { "type": "sse", "url": "http://legacy:9000/sse" }
  }
}`;

function configError(run: () => unknown): ClientError {
  try {
    run();
  } catch (error) {
    if (error instanceof ClientError) return error;
    throw error;
  }
  throw new Error('expected a ClientError');
}

describe('parseWorkerConfig', () => {
  it('reads the seed agent_config.yaml as three http servers in file order, unexpanded', () => {
    const config = parseWorkerConfig(SEED_AGENT_CONFIG, { file: 'agent_config.yaml' });
    expect(config.format).toBe('agent-config');
    expect(config.servers.map((s) => s.name)).toEqual(['grafana', 'alertmanager', 'prometheus']);
    expect(config.servers[2]).toEqual({
      name: 'prometheus',
      type: 'http',
      url: 'http://monitoring-mcp.service.dev-us-east-1.consul:8000/v1/mcp',
      headers: { Authorization: 'Bearer ${PROMETHEUS_TOKEN:-orchestration-agent}' },
    });
  });

  it('reads Claude Code JSON and reports stdio and sse servers as unsupported with a reason', () => {
    const config = parseWorkerConfig(CLAUDE_JSON, { file: '.mcp.json' });
    expect(config.format).toBe('claude-json');
    expect(config.servers.map((s) => [s.name, s.type])).toEqual([['prometheus', 'http'], ['files', 'stdio'], ['legacy', 'sse']]);
    for (const server of config.servers.slice(1)) {
      expect(server).toMatchObject({ unsupported: expect.stringContaining('only type: "http"') });
    }
  });

  it('sniffs the format from the content when the file name does not tell', () => {
    expect(parseWorkerConfig(CLAUDE_JSON, { file: 'worker-mcp' }).format).toBe('claude-json');
    expect(parseWorkerConfig(SEED_AGENT_CONFIG, { file: 'worker-mcp' }).format).toBe('agent-config');
    // JSON is YAML too: a JSON file with the agent_config key is read as agent-config.
    expect(parseWorkerConfig('{"mcp_servers": {}}', { file: 'a.json' })).toEqual({ format: 'agent-config', servers: [] });
  });

  it('reads an empty mcp_servers as no servers', () => {
    expect(parseWorkerConfig('mcp_servers:\n', { file: 'agent_config.yaml' }).servers).toEqual([]);
  });

  it('ignores the other top-level keys of agent_config.yaml', () => {
    const config = parseWorkerConfig(`model: claude-sonnet\nmax_turns: 20\n${SEED_AGENT_CONFIG}`, { file: 'agent_config.yaml' });
    expect(config.servers).toHaveLength(3);
  });

  it.each([
    {
      name: 'a misspelt field',
      text: SEED_AGENT_CONFIG.replace('    headers:\n      Authorization: "Bearer ${PROMETHEUS', '    header:\n      Authorization: "Bearer ${PROMETHEUS'),
      line: 19, field: 'mcp_servers.prometheus.header',
    },
    {
      name: 'a missing url',
      text: SEED_AGENT_CONFIG.replace('    url: "http://monitoring-mcp', '    # url: "http://monitoring-mcp'),
      line: 16, field: 'mcp_servers.prometheus.url',
    },
    {
      name: 'an unquoted number as header value',
      text: SEED_AGENT_CONFIG.replace('Authorization: "Bearer ${GRAFANA_TOKEN:-orchestration-agent}"', 'X-Port: 8000'),
      line: 8, field: 'mcp_servers.grafana.headers.X-Port',
    },
    {
      name: 'an unknown type',
      text: SEED_AGENT_CONFIG.replace('type: "http"', 'type: "streamable-http"'),
      line: 5, field: 'mcp_servers.grafana.type',
    },
    {
      name: 'a server without type',
      text: SEED_AGENT_CONFIG.replace('    type: "http"\n    url: "http://monitoring-mcp', '    url: "http://monitoring-mcp'),
      line: 16, field: 'mcp_servers.prometheus.type',
    },
    {
      name: 'an empty server',
      text: 'mcp_servers:\n  grafana:\n  prometheus:\n    type: http\n    url: http://x\n',
      line: 2, field: 'mcp_servers.grafana',
    },
    {
      name: 'headers as a list',
      text: 'mcp_servers:\n  grafana:\n    type: http\n    url: http://x\n    headers:\n      - "Authorization: Bearer x"\n',
      line: 6, field: 'mcp_servers.grafana.headers',
    },
    {
      name: 'headersHelper, which would run a command',
      text: 'mcp_servers:\n  grafana:\n    type: http\n    url: http://x\n    headersHelper: ./print-headers.sh\n',
      line: 5, field: 'mcp_servers.grafana.headersHelper',
    },
    {
      name: 'a YAML syntax error',
      text: 'mcp_servers:\n  grafana:\n    type: http\n    url: [http://x\n  prometheus:\n    type: http\n',
      line: 5, field: undefined,
    },
    {
      name: 'a duplicate server',
      text: 'mcp_servers:\n  grafana:\n    type: http\n    url: http://a\n  grafana:\n    type: http\n    url: http://b\n',
      line: 5, field: undefined,
    },
  ])('points at line and field for $name in agent_config.yaml', ({ text, line, field }) => {
    const error = configError(() => parseWorkerConfig(text, { file: 'agent_config.yaml' }));
    expect(error.code).toBe('ERR_WORKER_CONFIG');
    expect(error.location).toMatchObject({ file: 'agent_config.yaml', line });
    expect(error.location?.field).toBe(field);
  });

  it.each([
    { name: 'a JSON syntax error', text: '{\n  "mcpServers": {\n    "a": {"type": "http" "url": "http://x"}\n  }\n}', line: 3, column: 26, field: undefined },
    { name: 'truncated JSON', text: '{\n  "mcpServers": {\n', line: 3, column: 1, field: undefined },
    { name: 'a missing url', text: '{\n  "mcpServers": {\n    "a": {"type": "http"}\n  }\n}', line: 3, column: 5, field: 'mcpServers.a.url' },
    { name: 'a header that is not a string', text: '{"mcpServers": {\n "a": {"type": "http", "url": "http://x",\n  "headers": {"X-Retry": true}}}}', line: 3, column: 26, field: 'mcpServers.a.headers.X-Retry' },
    { name: 'mcpServers as a list', text: '{\n  "mcpServers": []\n}', line: 2, column: 17, field: 'mcpServers' },
  ])('points at line and field for $name in Claude Code JSON', ({ text, line, column, field }) => {
    const error = configError(() => parseWorkerConfig(text, { file: '.mcp.json' }));
    expect(error.code).toBe('ERR_WORKER_CONFIG');
    expect(error.location).toMatchObject({ file: '.mcp.json', line, column });
    expect(error.location?.field).toBe(field);
  });

  it.each([
    { name: 'neither key', text: 'servers: {}\n', format: undefined },
    { name: 'both keys', text: 'mcp_servers: {}\nmcpServers: {}\n', format: undefined },
    { name: 'a list at the top', text: '- grafana\n', format: undefined },
    { name: 'an empty file', text: '', format: undefined },
    { name: 'YAML given as claude-json', text: SEED_AGENT_CONFIG, format: 'claude-json' as const },
    { name: 'claude-json with the agent_config key', text: '{"mcp_servers": {}}', format: 'claude-json' as const },
    { name: 'agent-config without mcp_servers', text: CLAUDE_JSON, format: 'agent-config' as const },
  ])('rejects $name with ERR_WORKER_CONFIG', ({ text, format }) => {
    const error = configError(() => parseWorkerConfig(text, { file: 'cfg', ...(format ? { format } : {}) }));
    expect(error.code).toBe('ERR_WORKER_CONFIG');
    expect(error.location?.file).toBe('cfg');
  });

  it('rejects bad arguments with ERR_CLIENT_ARGUMENT', () => {
    expect(configError(() => parseWorkerConfig(undefined as unknown as string, { file: 'x' })).code).toBe('ERR_CLIENT_ARGUMENT');
    expect(configError(() => parseWorkerConfig('', { file: 'x', format: 'toml' as never })).code).toBe('ERR_CLIENT_ARGUMENT');
  });
});
