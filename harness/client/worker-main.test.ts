import { describe, expect, it } from 'vitest';
import { startMonitoringAiMcp } from '../../mocks/monitoring-ai-mcp/index.ts';
import { ClientError } from './errors.ts';
import { runWorkerMain, type WorkerMainIo } from './worker-main.ts';

function memoryIo(files: Record<string, string>): WorkerMainIo & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    readFile: async (path) => {
      const text = files[path];
      if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
      return text;
    },
    write: (line) => {
      lines.push(line);
    },
  };
}

const CONFIG = `mcp_servers:
  grafana:
    type: "http"
    url: "\${MONITORING_AI_MCP_URL}/monitoring/v1/mcp?toolset=grafana"
    headers:
      Authorization: "Bearer \${GRAFANA_TOKEN:-orchestration-agent}"
`;

async function rejection(promise: Promise<unknown>): Promise<ClientError> {
  const error = await promise.then(() => undefined, (caught: unknown) => caught);
  if (error instanceof ClientError) return error;
  throw new Error(`expected a ClientError, got ${String(error)}`);
}

describe('runWorkerMain', () => {
  it('prints the init message, the mcp_servers line and the report, expanding from its environment', async () => {
    await using ai = await startMonitoringAiMcp();
    const io = memoryIo({
      '/worker/agent_config.yaml': CONFIG,
      '/worker/settings.json': '{"permissions": {"allow": ["mcp__grafana"]}}',
    });
    const report = await runWorkerMain(
      { WORKER_CONFIG: '/worker/agent_config.yaml', WORKER_SETTINGS: '/worker/settings.json', MCP_TIMEOUT: '5000', MONITORING_AI_MCP_URL: ai.url },
      io,
    );
    expect(report.servers[0]).toMatchObject({ name: 'grafana', status: 'connected' });
    expect(io.lines).toHaveLength(3);
    expect(JSON.parse(io.lines[0] ?? '')).toMatchObject({ type: 'system', subtype: 'init', mcp_servers: [{ name: 'grafana', status: 'connected' }] });
    expect(io.lines[1]).toBe("'mcp_servers': [{'name': 'grafana', 'status': 'connected'}]");
    expect(JSON.parse(io.lines[2] ?? '')).toEqual({ type: 'harness_report', report });
    expect(report).toMatchObject({ permissionsChecked: true, unpermitted: [] });
  });

  it.each([
    { name: 'no WORKER_CONFIG', env: {}, code: 'ERR_CLIENT_ARGUMENT' },
    { name: 'an unknown format', env: { WORKER_CONFIG: '/c.yaml', WORKER_CONFIG_FORMAT: 'toml' }, code: 'ERR_CLIENT_ARGUMENT' },
    { name: 'a bad timeout', env: { WORKER_CONFIG: '/c.yaml', MCP_TIMEOUT: 'soon' }, code: 'ERR_CLIENT_ARGUMENT' },
    { name: 'an unknown pinned revision', env: { WORKER_CONFIG: '/c.yaml', WORKER_CLIENT_REVISION: 'latest' }, code: 'ERR_CLIENT_ARGUMENT' },
    { name: 'a missing config file', env: { WORKER_CONFIG: '/missing.yaml' }, code: 'ERR_WORKER_CONFIG' },
    { name: 'a missing settings file', env: { WORKER_CONFIG: '/c.yaml', WORKER_SETTINGS: '/missing.json' }, code: 'ERR_WORKER_SETTINGS' },
    { name: 'a broken config', env: { WORKER_CONFIG: '/broken.yaml' }, code: 'ERR_WORKER_CONFIG' },
  ])('rejects $name with $code before connecting', async ({ env, code }) => {
    const io = memoryIo({ '/c.yaml': 'mcp_servers: {}\n', '/broken.yaml': 'mcp_servers:\n  grafana: [\n' });
    expect((await rejection(runWorkerMain(env, io))).code).toBe(code);
    expect(io.lines).toEqual([]);
  });
});
