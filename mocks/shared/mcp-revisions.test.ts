import { describe, expect, it } from 'vitest';
import express from 'express';
import * as z from 'zod';
import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
import type { VersionNegotiationMode } from '@modelcontextprotocol/client';
import { listen } from '../../common/index.ts';
import { connectMcpClient, mcpRevisionsRouter, parseMcpRevisions, textResult } from './index.ts';
import type { McpRevision } from './index.ts';

const PATH = '/v1/mcp';

/** A server with one tool, in the given revisions, on loopback. */
async function serve(revisions: readonly McpRevision[]) {
  const app = express();
  app.use(
    mcpRevisionsRouter(PATH, revisions, () => ({
      info: { name: 'revisions-test', version: '1.0.0' },
      register: (host) => host.registerTool('echo', { description: 'Echo.', inputSchema: { message: z.string() } }, ({ message }) => textResult(message)),
    })),
  );
  const listening = await listen(app);
  return Object.assign(listening, { mcpUrl: `${listening.url}${PATH}`, [Symbol.asyncDispose]: () => listening.close() });
}

/** The v2 SDK client, negotiating as `mode` says. */
async function connectModern(url: string, mode: VersionNegotiationMode) {
  const client = new ModernClient({ name: 'revisions-test', version: '0' }, { versionNegotiation: { mode } });
  try {
    await client.connect(new ModernTransport(new URL(url)));
  } catch (error) {
    await client.close();
    throw error;
  }
  return Object.assign(client, { [Symbol.asyncDispose]: () => client.close() });
}

function firstText(result: unknown): string | undefined {
  const [content] = (result as { content: { type: string; text?: string }[] }).content;
  return content?.text;
}

describe('mcpRevisionsRouter', () => {
  it('serves both revisions by default: a 2026-07-28 client without initialize, a 2025-11-25 one with it', async () => {
    await using server = await serve(parseMcpRevisions(undefined));
    await using modern = await connectModern(server.mcpUrl, { pin: '2026-07-28' });
    expect(modern.getNegotiatedProtocolVersion()).toBe('2026-07-28');
    expect((await modern.listTools()).tools.map((tool) => tool.name)).toEqual(['echo']);
    expect(firstText(await modern.callTool({ name: 'echo', arguments: { message: 'hi' } }))).toBe('hi');
    await using legacy = await connectMcpClient(server.mcpUrl);
    expect(legacy.getServerVersion()?.name).toBe('revisions-test');
    expect(firstText(await legacy.callTool({ name: 'echo', arguments: { message: 'hello' } }))).toBe('hello');
  });

  it('lets a probing client settle on 2026-07-28 when the server speaks it', async () => {
    await using server = await serve(['2025-11-25', '2026-07-28']);
    await using client = await connectModern(server.mcpUrl, 'auto');
    expect(client.getNegotiatedProtocolVersion()).toBe('2026-07-28');
  });

  it('refuses a 2025-11-25 initialize when it speaks only 2026-07-28', async () => {
    await using server = await serve(['2026-07-28']);
    await using modern = await connectModern(server.mcpUrl, { pin: '2026-07-28' });
    expect((await modern.listTools()).tools).toHaveLength(1);
    await expect(connectMcpClient(server.mcpUrl)).rejects.toThrow();
    const answer = await fetch(server.mcpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'curl', version: '0' } } }),
    });
    const body = (await answer.json()) as { error?: { code: number; message: string } };
    expect(body.error?.message).toBe('Unsupported protocol version: 2025-11-25');
  });

  it('makes a client pinned to 2026-07-28 fail, and a probing one fall back, when it speaks only 2025-11-25', async () => {
    await using server = await serve(['2025-11-25']);
    await expect(connectModern(server.mcpUrl, { pin: '2026-07-28' })).rejects.toThrow();
    await using fallback = await connectModern(server.mcpUrl, 'auto');
    expect(fallback.getNegotiatedProtocolVersion()).toBe('2025-11-25');
    expect(firstText(await fallback.callTool({ name: 'echo', arguments: { message: 'old' } }))).toBe('old');
  });

  it('answers bad JSON with the v1 transport\'s -32700 when it speaks both', async () => {
    await using server = await serve(['2025-11-25', '2026-07-28']);
    const answer = await fetch(server.mcpUrl, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{' });
    expect(answer.status).toBe(400);
    expect(await answer.json()).toEqual({ jsonrpc: '2.0', error: { code: -32700, message: 'Parse error: Invalid JSON' }, id: null });
  });
});

describe('parseMcpRevisions', () => {
  it.each([
    [undefined, ['2025-11-25', '2026-07-28']],
    ['', ['2025-11-25', '2026-07-28']],
    ['both', ['2025-11-25', '2026-07-28']],
    ['2025-11-25', ['2025-11-25']],
    [' 2026-07-28 ', ['2026-07-28']],
  ])('reads %j as %j', (raw, revisions) => {
    expect(parseMcpRevisions(raw)).toEqual(revisions);
  });

  it.each(['2025-06-18', 'latest', '2026-07-28,2025-11-25'])('refuses %s, naming the variable and the settings', (raw) => {
    expect(() => parseMcpRevisions(raw)).toThrow(
      expect.objectContaining({ code: 'ERR_MCP_REVISIONS', message: expect.stringContaining('MCP_REVISIONS must be one of 2025-11-25, 2026-07-28, both') }),
    );
  });
});
