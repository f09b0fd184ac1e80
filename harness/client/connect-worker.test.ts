import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { ProxyAgent } from 'undici';
import { describe, expect, it } from 'vitest';
import { disposable, fetchThrough, listen, ManualClock, proxiedFetch } from '../../common/index.ts';
import type { Fetch } from '../../common/index.ts';
import { startMonitoringAiMcp, TOOLSET_TOOLS } from '../../mocks/monitoring-ai-mcp/index.ts';
import { startMonitoringMcp, INVALID_TOKEN_BODY } from '../../mocks/monitoring-mcp/index.ts';
import { connectWorker } from './connect-worker.ts';
import { ClientError } from './errors.ts';
import { parseWorkerConfig } from './worker-config.ts';
import type { HttpMcpServerConfig } from './worker-config.ts';
import { WorkerReportSchema } from './worker-report.ts';
import { parseWorkerSettings } from './worker-settings.ts';

const SEED_AGENT_CONFIG = `mcp_servers:
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
    url: "\${MONITORING_MCP_URL}/v1/mcp"
    headers:
      Authorization: "Bearer \${PROMETHEUS_TOKEN:-orchestration-agent}"
`;

// Slack for a deadline to be noticed and the client closed; generous for a loaded 2-core CI machine.
const SLACK_MS = 1_500;

function http1(name: string, url: string, headers: Record<string, string> = {}): HttpMcpServerConfig {
  return { name, type: 'http', url, headers };
}

/** A loopback port nothing listens on: listened on, then closed. */
async function closedPort(): Promise<number> {
  const listening = await listen((_req, res) => res.end());
  await listening.close();
  return listening.port;
}

/** A TCP server that accepts and never answers: a silently dropped flow, seen from the client. */
async function startBlackHole() {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return disposable({
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  });
}

/** An HTTP server answering every request with the same response. */
async function startAnswering(status: number, headers: Record<string, string>, body: string) {
  return disposable(await listen((_req, res) => {
    res.writeHead(status, headers).end(body);
  }));
}

/**
 * A forward proxy in the style of the harness's egress: `nowhere.consul` does not resolve (502
 * with `x-harness-network: no-such-host`, also to CONNECT), `rejected.consul` is reset.
 */
async function startTinyProxy() {
  const server = http.createServer((req, res) => {
    const host = new URL(req.url ?? '', 'http://invalid').hostname;
    if (host === 'rejected.consul') {
      req.socket.resetAndDestroy();
      return;
    }
    res.writeHead(502, { 'content-type': 'text/plain', 'x-harness-network': 'no-such-host' }).end(`getaddrinfo ENOTFOUND ${host}\n`);
  });
  server.on('connect', (req: http.IncomingMessage, socket: net.Socket) => {
    if ((req.url ?? '').startsWith('rejected.consul')) {
      socket.resetAndDestroy();
      return;
    }
    socket.end('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
  });
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return disposable({
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  });
}

/**
 * A hand-scripted Streamable HTTP server: answers initialize (with or without the tools
 * capability) and holds tools/list forever, to see the deadline cover tools/list too.
 */
async function startHoldingToolsList(options: { tools: boolean }) {
  const held = new Set<http.ServerResponse>();
  const listening = await listen((req, res) => {
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST' }).end();
      return;
    }
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on('end', () => {
      const message = JSON.parse(body) as { id?: number; method: string; params?: { protocolVersion?: string } };
      if (message.method === 'server/discover') {
        // As a 2025-11-25 server: no such method, so the worker's probe falls back at once.
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: message.id, error: { code: -32601, message: 'Method not found' } }));
      } else if (message.method === 'initialize') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
          jsonrpc: '2.0',
          id: message.id,
          result: {
            protocolVersion: message.params?.protocolVersion,
            capabilities: options.tools ? { tools: {} } : {},
            serverInfo: { name: 'scripted', version: '1.2.3' },
          },
        }));
      } else if (message.id === undefined) {
        res.writeHead(202).end();
      } else {
        held.add(res);
      }
    });
  });
  return disposable({ url: listening.url, close: () => listening.close() });
}

describe('connectWorker', () => {
  it('connects the seed config: grafana and alertmanager with their tools, prometheus failed on the fake token', async () => {
    await using ai = await startMonitoringAiMcp();
    const unusedJwksPort = await closedPort();
    await using strict = await startMonitoringMcp({
      audience: 'https://monitoring-mcp.example/v1/mcp',
      issuer: 'https://auth.example',
      jwksUrl: `http://127.0.0.1:${unusedJwksPort}/.well-known/jwks.json`,
    });
    const { servers } = parseWorkerConfig(SEED_AGENT_CONFIG, { file: 'agent_config.yaml' });

    const report = await connectWorker({
      servers,
      env: { MONITORING_AI_MCP_URL: ai.url, MONITORING_MCP_URL: strict.url },
      timeoutMs: 5_000,
    });

    expect(WorkerReportSchema.parse(report)).toEqual(report);
    const [grafana, alertmanager, prometheus] = report.servers;
    expect(grafana).toMatchObject({ name: 'grafana', status: 'connected', url: ai.mcpUrl('grafana'), missingEnv: [] });
    expect(grafana?.tools).toEqual(TOOLSET_TOOLS.grafana.map((tool) => `mcp__grafana__${tool}`));
    expect(alertmanager?.tools).toEqual(TOOLSET_TOOLS.alertmanager.map((tool) => `mcp__alertmanager__${tool}`));
    expect(grafana?.reason).toBeUndefined();
    expect(prometheus).toMatchObject({
      name: 'prometheus',
      status: 'failed',
      tools: [],
      url: strict.mcpUrl,
      reason: { kind: 'auth.invalid_token' },
      http: { status: 401, wwwAuthenticate: expect.stringContaining('error="invalid_token"') },
      error: { code: 401 },
    });
    expect(JSON.parse(prometheus?.http?.body ?? '')).toEqual(INVALID_TOKEN_BODY);
    expect(prometheus?.reason?.detail).toContain('The access token is malformed or invalid');
    expect(report.permissionsChecked).toBe(false);
  });

  it('reports auth.missing_token when no Authorization header is configured', async () => {
    await using strict = await startMonitoringMcp({
      audience: 'https://monitoring-mcp.example/v1/mcp',
      jwksUrl: `http://127.0.0.1:${await closedPort()}/jwks`,
    });
    const report = await connectWorker({ servers: [http1('prometheus', strict.mcpUrl)], env: {}, timeoutMs: 5_000 });
    expect(report.servers[0]).toMatchObject({ status: 'failed', reason: { kind: 'auth.missing_token' }, http: { status: 401 } });
  });

  it('reports auth.missing_token when the token variable is set but empty (Claude Code sends "Bearer ")', async () => {
    await using strict = await startMonitoringMcp({
      audience: 'https://monitoring-mcp.example/v1/mcp',
      jwksUrl: `http://127.0.0.1:${await closedPort()}/jwks`,
    });
    const report = await connectWorker({
      servers: [http1('prometheus', strict.mcpUrl, { Authorization: 'Bearer ${PROMETHEUS_TOKEN:-orchestration-agent}' })],
      env: { PROMETHEUS_TOKEN: '' },
      timeoutMs: 5_000,
    });
    expect(report.servers[0]).toMatchObject({ status: 'failed', reason: { kind: 'auth.missing_token' } });
  });

  it('reports auth.unauthorized for a 401 that does not say invalid_token', async () => {
    await using server = await startAnswering(401, { 'content-type': 'application/json' }, '{"detail":"Not authenticated"}');
    const report = await connectWorker({ servers: [http1('x', `${server.url}/mcp`, { Authorization: 'Bearer abc' })], env: {}, timeoutMs: 5_000 });
    expect(report.servers[0]).toMatchObject({ status: 'failed', reason: { kind: 'auth.unauthorized', detail: expect.stringContaining('Not authenticated') } });
  });

  it('reports failed, not needs-auth, for a 401 offering OAuth when an Authorization header is configured', async () => {
    await using server = await startAnswering(
      401,
      { 'content-type': 'application/json', 'www-authenticate': 'Bearer error="invalid_token", resource_metadata="http://127.0.0.1:1/.well-known/oauth-protected-resource"' },
      '{"error":"invalid_token"}',
    );
    const report = await connectWorker({ servers: [http1('x', `${server.url}/mcp`, { authorization: '${EMPTY}' })], env: { EMPTY: '' }, timeoutMs: 5_000 });
    expect(report.servers[0]).toMatchObject({ status: 'failed', tools: [], reason: { kind: 'auth.missing_token' } });
  });

  it('reports needs-auth for a 403 when no Authorization header is configured', async () => {
    await using server = await startAnswering(403, { 'content-type': 'application/json' }, '{"error":"insufficient_scope"}');
    const report = await connectWorker({ servers: [http1('x', `${server.url}/mcp`)], env: {}, timeoutMs: 5_000 });
    expect(report.servers[0]).toMatchObject({ status: 'needs-auth', tools: [], reason: { kind: 'auth.missing_token' } });
  });

  it('reports failed for a 401 without a header when discovery finds no dynamic client registration', async () => {
    await using server = await startAnswering(401, { 'content-type': 'application/json' }, '{"error":"invalid_token"}');
    const report = await connectWorker({ servers: [http1('x', `${server.url}/mcp`)], env: {}, timeoutMs: 5_000 });
    expect(report.servers[0]).toMatchObject({ status: 'failed', reason: { kind: 'auth.missing_token' } });
  });

  it('reports network.refused for a port nothing listens on', async () => {
    const port = await closedPort();
    const report = await connectWorker({ servers: [http1('x', `http://127.0.0.1:${port}/mcp`)], env: {}, timeoutMs: 5_000 });
    expect(report.servers[0]).toMatchObject({ status: 'failed', reason: { kind: 'network.refused' }, error: { code: 'ECONNREFUSED' } });
  });

  it('reports timeout within timeoutMs for a server that accepts and never answers', async () => {
    await using hole = await startBlackHole();
    // The probe times out at 600 ms; the reconnect's own timeout ends with MCP_TIMEOUT: failed, not pending.
    const timeoutMs = 1_800;
    const started = performance.now();
    const report = await connectWorker({ servers: [http1('x', `${hole.url}/mcp`)], env: {}, timeoutMs });
    const took = performance.now() - started;
    expect(report.servers[0]).toMatchObject({ status: 'failed', reason: { kind: 'timeout', detail: expect.stringContaining('initialize') } });
    expect(took).toBeGreaterThanOrEqual(timeoutMs - 5);
    expect(took).toBeLessThan(timeoutMs + SLACK_MS);
  });

  it('reports pending for a silent server when the reconnect after the probe would outlast MCP_TIMEOUT (its 1 s floor)', async () => {
    await using hole = await startBlackHole();
    const timeoutMs = 300;
    const report = await connectWorker({ servers: [http1('x', `${hole.url}/mcp`)], env: {}, timeoutMs });
    expect(report.servers[0]).toMatchObject({ status: 'pending', reason: { kind: 'timeout', detail: expect.stringContaining('init line') } });
  });

  it('reports pending when tools/list does not answer before MCP_TIMEOUT, as Claude Code does', async () => {
    await using server = await startHoldingToolsList({ tools: true });
    const timeoutMs = 300;
    const started = performance.now();
    const report = await connectWorker({ servers: [http1('x', `${server.url}/mcp`)], env: {}, timeoutMs });
    expect(performance.now() - started).toBeLessThan(timeoutMs + SLACK_MS);
    expect(report.servers[0]).toMatchObject({
      status: 'pending', tools: [], serverInfo: { name: 'scripted', version: '1.2.3' },
      reason: { kind: 'timeout', detail: expect.stringContaining('init line') },
    });
  });

  it('does not ask for tools when the server does not offer them', async () => {
    await using server = await startHoldingToolsList({ tools: false });
    const report = await connectWorker({ servers: [http1('x', `${server.url}/mcp`)], env: {}, timeoutMs: 5_000 });
    expect(report.servers[0]).toMatchObject({ status: 'connected', tools: [] });
    expect(report.servers[0]?.reason).toBeUndefined();
  });

  it('reports config for a port fetch refuses to use', async () => {
    const report = await connectWorker({ servers: [http1('x', 'http://127.0.0.1:25/mcp')], env: {}, timeoutMs: 5_000 });
    expect(report.servers[0]).toMatchObject({ status: 'failed', reason: { kind: 'config', detail: expect.stringContaining('bad port') } });
  });

  it('reports protocol for an HTML 404', async () => {
    await using server = await startAnswering(404, { 'content-type': 'text/html' }, '<html><body>Not Found</body></html>');
    const report = await connectWorker({ servers: [http1('x', `${server.url}/wrong/path`)], env: {}, timeoutMs: 5_000 });
    expect(report.servers[0]).toMatchObject({ status: 'failed', reason: { kind: 'protocol' }, http: { status: 404, body: expect.stringContaining('Not Found') } });
  });

  it('reports protocol for a 200 that is not JSON-RPC', async () => {
    await using server = await startAnswering(200, { 'content-type': 'application/json' }, '{"service":"Monitoring AI MCP Server"}');
    const report = await connectWorker({ servers: [http1('x', `${server.url}/`)], env: {}, timeoutMs: 5_000 });
    expect(report.servers[0]).toMatchObject({ status: 'failed', reason: { kind: 'protocol' } });
    expect(report.servers[0]?.http).toBeUndefined();
  });

  it('reports config without connecting for unsupported transports and URLs left unexpanded', async () => {
    const { servers } = parseWorkerConfig('{"mcpServers": {"files": {"command": "npx"}, "ai": {"type": "http", "url": "${MONITORING_AI_MCP_URL}/monitoring/v1/mcp"}}}', { file: '.mcp.json' });
    const report = await connectWorker({ servers, env: {}, timeoutMs: 5_000 });
    expect(report.servers[0]).toMatchObject({ name: 'files', status: 'failed', reason: { kind: 'config', detail: expect.stringContaining('stdio') } });
    expect(report.servers[1]).toMatchObject({
      name: 'ai', status: 'failed', url: '${MONITORING_AI_MCP_URL}/monitoring/v1/mcp', missingEnv: ['MONITORING_AI_MCP_URL'],
      reason: { kind: 'config', detail: expect.stringContaining('MONITORING_AI_MCP_URL') },
    });
  });

  it('sends an unset ${VAR} as written and lists it in missingEnv', async () => {
    await using ai = await startMonitoringAiMcp();
    const sent: (string | null)[] = [];
    const recording = ((input: Parameters<Fetch>[0], init?: Parameters<Fetch>[1]) => {
      sent.push(new Headers(init?.headers).get('authorization'));
      return globalThis.fetch(input, init);
    }) as Fetch;
    const report = await connectWorker({
      servers: [http1('grafana', ai.mcpUrl('grafana'), { Authorization: 'Bearer ${GRAFANA_TOKEN}' })],
      env: {},
      fetch: recording,
      timeoutMs: 5_000,
    });
    expect(report.servers[0]).toMatchObject({ status: 'connected', missingEnv: ['GRAFANA_TOKEN'] });
    expect(sent.length).toBeGreaterThan(0);
    expect(new Set(sent)).toEqual(new Set(['Bearer ${GRAFANA_TOKEN}']));
  });

  it('lists the tools settings.json does not permit, and the denied ones apart', async () => {
    await using ai = await startMonitoringAiMcp();
    const settings = parseWorkerSettings(JSON.stringify({
      permissions: { allow: ['mcp__grafana'], deny: [`mcp__alertmanager__${TOOLSET_TOOLS.alertmanager[0]}`] },
    }), { file: 'settings.json' });
    const report = await connectWorker({
      servers: [http1('grafana', ai.mcpUrl('grafana')), http1('alertmanager', ai.mcpUrl('alertmanager'))],
      env: {},
      timeoutMs: 5_000,
      settings,
    });
    expect(report.permissionsChecked).toBe(true);
    expect(report.unpermitted).toEqual(TOOLSET_TOOLS.alertmanager.map((tool) => `mcp__alertmanager__${tool}`));
    expect(report.denied).toEqual([`mcp__alertmanager__${TOOLSET_TOOLS.alertmanager[0]}`]);
  });

  it('measures elapsedMs with the injected clock', async () => {
    const clock = new ManualClock();
    const port = await closedPort();
    const report = await connectWorker({ servers: [http1('x', `http://127.0.0.1:${port}/mcp`)], env: {}, timeoutMs: 5_000, clock });
    expect(report.servers[0]?.elapsedMs).toBe(0);
  });

  describe('through a forward proxy', () => {
    it('reports network.no_such_host for the egress 502 to an absolute-form request', async () => {
      await using proxy = await startTinyProxy();
      // undici's default for http:// targets (proxiedFetch tunnels instead): absolute-form requests.
      const dispatcher = new ProxyAgent({ uri: proxy.url });
      const absoluteForm = fetchThrough(() => dispatcher);
      try {
        const report = await connectWorker({
          servers: [http1('prometheus', 'http://nowhere.consul:8000/v1/mcp')],
          env: {},
          fetch: absoluteForm,
          timeoutMs: 5_000,
        });
        expect(report.servers[0]).toMatchObject({ status: 'failed', reason: { kind: 'network.no_such_host' }, http: { status: 502 } });
      } finally {
        await dispatcher.close();
      }
    });

    it('reports network.no_such_host for a 502 to CONNECT', async () => {
      await using proxy = await startTinyProxy();
      const dispatcher = new ProxyAgent({ uri: proxy.url, proxyTunnel: true });
      const tunnelling = fetchThrough(() => dispatcher);
      try {
        const report = await connectWorker({ servers: [http1('prometheus', 'http://nowhere.consul:8000/v1/mcp')], env: {}, fetch: tunnelling, timeoutMs: 5_000 });
        expect(report.servers[0]).toMatchObject({ status: 'failed', reason: { kind: 'network.no_such_host', detail: expect.stringContaining('CONNECT') } });
      } finally {
        await dispatcher.close();
      }
    });

    it('reports network.refused when the proxy resets the connection', async () => {
      await using proxy = await startTinyProxy();
      const report = await connectWorker({
        servers: [http1('prometheus', 'http://rejected.consul:8000/v1/mcp')],
        env: {},
        fetch: proxiedFetch(proxy.url),
        timeoutMs: 5_000,
      });
      expect(report.servers[0]).toMatchObject({ status: 'failed', reason: { kind: 'network.refused' } });
    });
  });

  it.each([
    { name: 'no servers array', options: { env: {}, timeoutMs: 1_000 } },
    { name: 'a zero timeout', options: { servers: [], env: {}, timeoutMs: 0 } },
    { name: 'an infinite timeout', options: { servers: [], env: {}, timeoutMs: Number.POSITIVE_INFINITY } },
    { name: 'no env', options: { servers: [], timeoutMs: 1_000 } },
    { name: 'a server that is not a config', options: { servers: [{ name: 'x', url: 'http://x' }], env: {}, timeoutMs: 1_000 } },
    { name: 'duplicate names', options: { servers: [http1('x', 'http://a'), http1('x', 'http://b')], env: {}, timeoutMs: 1_000 } },
  ])('rejects $name with ERR_CLIENT_ARGUMENT', async ({ options }) => {
    const error = await connectWorker(options as never).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ClientError);
    expect((error as ClientError).code).toBe('ERR_CLIENT_ARGUMENT');
  });
});
