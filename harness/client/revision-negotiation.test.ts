import { describe, expect, it } from 'vitest';
import { disposable, listen } from '../../common/index.ts';
import type { Fetch } from '../../common/index.ts';
import { cachedKeys, startAuthServer } from '../../mocks/auth-server/index.ts';
import { startMonitoringAiMcp } from '../../mocks/monitoring-ai-mcp/index.ts';
import { startMonitoringMcp } from '../../mocks/monitoring-mcp/index.ts';
import type { McpRevision } from '../../mocks/shared/index.ts';
import { connectWorker } from './connect-worker.ts';
import { ClientError } from './errors.ts';
import { ClientRevisionSchema, probeTimeoutMs, type ClientRevision } from './revision-negotiation.ts';

/** globalThis.fetch, noting each POST's JSON-RPC method and MCP-Protocol-Version header. */
function recordingFetch(): { fetch: Fetch; posts: { method: string; version: string | null; meta: Record<string, unknown> | undefined }[] } {
  const posts: { method: string; version: string | null; meta: Record<string, unknown> | undefined }[] = [];
  const fetch = (async (input: Parameters<Fetch>[0], init?: Parameters<Fetch>[1]) => {
    if ((init?.method ?? 'GET').toUpperCase() === 'POST' && typeof init?.body === 'string') {
      const body = JSON.parse(init.body) as { method?: string; params?: { _meta?: Record<string, unknown> } };
      posts.push({ method: body.method ?? 'response', version: new Headers(init.headers).get('mcp-protocol-version'), meta: body.params?._meta });
    }
    return globalThis.fetch(input, init);
  }) as Fetch;
  return { fetch, posts };
}

async function grafana(revisions: readonly McpRevision[], revision: ClientRevision | undefined, headers: Record<string, string> = {}) {
  await using ai = await startMonitoringAiMcp({ mcpRevisions: revisions });
  const recorded = recordingFetch();
  const report = await connectWorker({
    servers: [{ name: 'grafana', type: 'http', url: `${ai.url}/monitoring/v1/mcp?toolset=grafana`, headers }],
    env: {},
    fetch: recorded.fetch,
    timeoutMs: 10_000,
    revision,
  });
  return { server: report.servers[0]!, methods: recorded.posts.map((post) => post.method), posts: recorded.posts };
}

describe('probeTimeoutMs', () => {
  it.each([
    [30_000, 5_000],
    [15_000, 5_000],
    [9_000, 3_000],
    [3_000, 1_000],
    [1_000, 333],
  ])('is a third of MCP_TIMEOUT %i ms, at most 5 s: %i ms', (mcpTimeout, expected) => {
    expect(probeTimeoutMs(mcpTimeout)).toBe(expected);
  });
});

describe('ClientRevisionSchema', () => {
  it('names the known revisions for an unknown one', () => {
    const parsed = ClientRevisionSchema.safeParse('2025-06-18');
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toMatch(/must be one of 2025-11-25, 2026-07-28 .*got "2025-06-18"/);
  });

  it('is checked by connectWorker (ERR_CLIENT_ARGUMENT)', async () => {
    await expect(connectWorker({ servers: [], env: {}, timeoutMs: 1_000, revision: 'latest' as never })).rejects.toMatchObject({
      constructor: ClientError,
      code: 'ERR_CLIENT_ARGUMENT',
    });
  });
});

describe('negotiating the MCP revision as Claude Code 2.1.332', () => {
  it('connects to a 2026-07-28-only server on 2026-07-28 after its server/discover probe, with no initialize', async () => {
    const { server, methods, posts } = await grafana(['2026-07-28'], undefined);
    expect(server).toMatchObject({ status: 'connected' });
    expect(server.tools.length).toBeGreaterThan(0);
    expect(methods).toEqual(['server/discover', 'tools/list']);
    expect(posts[0]!.version).toBe('2026-07-28');
    // The probe carries the version, the client's info and its capabilities in params._meta.
    expect(posts[0]!.meta).toMatchObject({
      'io.modelcontextprotocol/protocolVersion': '2026-07-28',
      'io.modelcontextprotocol/clientInfo': { name: 'claude-code' },
      'io.modelcontextprotocol/clientCapabilities': expect.any(Object),
    });
  });

  it('sends initialize after the probe to a 2025-11-25-only server: its first request arrives twice', async () => {
    const { server, methods } = await grafana(['2025-11-25'], undefined);
    expect(server).toMatchObject({ status: 'connected' });
    expect(methods).toEqual(['server/discover', 'initialize', 'notifications/initialized', 'tools/list']);
  });

  it('sends no probe when pinned to 2025-11-25, and fails a 2026-07-28-only server on a revision mismatch', async () => {
    const { server, methods } = await grafana(['2026-07-28'], '2025-11-25');
    expect(methods).toEqual(['initialize']);
    expect(server).toMatchObject({ status: 'failed', reason: { kind: 'protocol.revision_mismatch', detail: expect.stringContaining('2026-07-28') } });
  });

  it('does not fall back when pinned to 2026-07-28, and fails a 2025-11-25-only server on a revision mismatch', async () => {
    const { server, methods } = await grafana(['2025-11-25'], '2026-07-28');
    expect(methods).toEqual(['server/discover']);
    expect(server).toMatchObject({ status: 'failed', reason: { kind: 'protocol.revision_mismatch' } });
  });

  it.each([
    ['with a configured Authorization header, initialize follows', { Authorization: 'Bearer x' }, false, 'failed', ['server/discover', 'initialize']],
    ['without one and no OAuth metadata to find, initialize follows too', {}, false, 'failed', ['server/discover', 'initialize']],
    ['without one and an authorization server that registers clients, nothing follows (needs-auth)', {}, true, 'needs-auth', ['server/discover']],
  ])('after a 401 to the probe: %s', async (_title, headers, withOAuth, status, expected) => {
    await using auth = await startAuthServer({ keys: cachedKeys(), registration: true });
    const methods: string[] = [];
    await using server = disposable(await listen((req, res) => {
      if (req.method === 'GET' && withOAuth && req.url?.startsWith('/.well-known/oauth-protected-resource')) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ resource: `http://${req.headers.host}/mcp`, authorization_servers: [auth.url] }));
        return;
      }
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        if (req.method === 'POST') methods.push((JSON.parse(body) as { method: string }).method);
        res.writeHead(req.method === 'POST' ? 401 : 404, { 'content-type': 'application/json', 'www-authenticate': 'Bearer error="invalid_token"' }).end('{"error":"invalid_token"}');
      });
    }));
    const report = await connectWorker({ servers: [{ name: 'x', type: 'http', url: `${server.url}/mcp`, headers }], env: {}, timeoutMs: 10_000 });
    expect(report.servers[0]!.status).toBe(status);
    expect(methods).toEqual(expected);
  });

  it('reconnects pinned to 2025-11-25 after the probe times out (a third of MCP_TIMEOUT)', async () => {
    await using server = disposable(await listen((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const message = JSON.parse(body || '{}') as { id?: number; method?: string };
        if (message.method === 'server/discover') return; // never answered
        if (message.method === 'initialize') {
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: message.id, result: { protocolVersion: '2025-11-25', capabilities: {}, serverInfo: { name: 'old', version: '1' } } }));
          return;
        }
        res.writeHead(202).end();
      });
    }));
    const started = performance.now();
    const report = await connectWorker({ servers: [{ name: 'x', type: 'http', url: `${server.url}/mcp`, headers: {} }], env: {}, timeoutMs: 1_500 });
    expect(report.servers[0]).toMatchObject({ status: 'connected', serverInfo: { name: 'old' } });
    expect(performance.now() - started).toBeGreaterThanOrEqual(probeTimeoutMs(1_500) - 5);
  });

  it('reports pending for a slow 2025-11-25 server whose probe, handshake and tools/list outlast MCP_TIMEOUT, each within its own timeout', async () => {
    // 800 ms per POST, MCP_TIMEOUT 3000: the probe (timeout 1000) and the handshake on the same attempt
    // (initialize + initialized, done by 2400, timeout 3000) each end in time; four requests cannot end before 3200.
    await using slow = await startMonitoringMcp({ mcpRevisions: ['2025-11-25'], responseDelayMs: 800 });
    const report = await connectWorker({ servers: [{ name: 'prometheus', type: 'http', url: slow.mcpUrl, headers: {} }], env: {}, timeoutMs: 3_000 });
    expect(report.servers[0]).toMatchObject({ status: 'pending', reason: { kind: 'timeout', detail: expect.stringContaining('init line') } });
  });
});
