import { Readable } from 'node:stream';
import express from 'express';
import type { Request, Router } from 'express';
import { McpServer as LegacyMcpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { DEFAULT_MAX_REQUEST_BODY_SIZE, McpServer as ModernMcpServer, createMcpHandler, isLegacyRequest } from '@modelcontextprotocol/server';
import { HarnessError, lazySchemaValidator } from '../../common/index.ts';
import { JSON_RPC_SERVER_ERROR, sendJsonRpcError, statelessMcpRouter } from './mcp-http.ts';

/** The MCP revisions a simulated server can speak: the v1 SDK's latest, and the stateless one of the v2 SDK. */
export const MCP_REVISIONS = ['2025-11-25', '2026-07-28'] as const;
export type McpRevision = (typeof MCP_REVISIONS)[number];

/** The environment variable of a simulated MCP server that picks its revisions. */
export const MCP_REVISIONS_ENV = 'MCP_REVISIONS';

/** What MCP_REVISIONS accepts: one revision, or `both` (the default, as a current server would). */
export const MCP_REVISION_SETTINGS = [...MCP_REVISIONS, 'both'] as const;

/** Where a server's tools are registered: the part of McpServer that v1 and v2 share (raw-shape `inputSchema`). */
export type ToolHost = Pick<LegacyMcpServer, 'registerTool'>;

/** One request's server: its name and version, and the tools it registers (the same for every revision). */
export interface McpServerDefinition {
  info: { name: string; version: string };
  register(host: ToolHost): void;
}

/** The message of an MCP_REVISIONS value that is none of the settings, shared by the services and the scenario loader. */
export function unknownMcpRevisionsMessage(raw: unknown, field: string): string {
  return `${field} must be one of ${MCP_REVISION_SETTINGS.join(', ')} (the MCP revisions the server speaks; default both), got ${JSON.stringify(raw)}`;
}

/** True when `raw` is a value MCP_REVISIONS accepts (unset and empty included). */
export function isMcpRevisionsSetting(raw: unknown): boolean {
  return raw === undefined || raw === '' || (MCP_REVISION_SETTINGS as readonly string[]).includes(String(raw).trim());
}

/**
 * MCP_REVISIONS as the list of revisions a server speaks: `2025-11-25`, `2026-07-28` or `both`
 * (default). Anything else is ERR_MCP_REVISIONS naming `field` and the settings.
 *
 * @example
 * parseMcpRevisions(process.env.MCP_REVISIONS); // ['2025-11-25', '2026-07-28'] when unset
 */
export function parseMcpRevisions(raw: unknown, field: string = MCP_REVISIONS_ENV): readonly McpRevision[] {
  if (!isMcpRevisionsSetting(raw)) throw new HarnessError('ERR_MCP_REVISIONS', unknownMcpRevisionsMessage(raw, field));
  const value = raw === undefined || raw === '' ? 'both' : String(raw).trim();
  return value === 'both' ? [...MCP_REVISIONS] : [value as McpRevision];
}

/**
 * A router serving MCP at `path` in the revisions given: 2025-11-25 through the v1 SDK's stateless
 * Streamable HTTP (exactly `statelessMcpRouter`), 2026-07-28 through the v2 SDK's per-request
 * handler (`createMcpHandler`, strict: `server/discover`, the `_meta` envelope, the
 * MCP-Protocol-Version / Mcp-Method / Mcp-Name headers are the SDK's to check). With both, each
 * POST goes where the v2 SDK's own classifier (`isLegacyRequest`) sends it; with one, the other
 * era gets what that SDK answers it (v1: no `server/discover` method; v2: unsupported protocol
 * version). Every request gets its own server from `define`, closed when the response ends.
 *
 * @example
 * app.use(mcpRevisionsRouter('/v1/mcp', parseMcpRevisions(env.MCP_REVISIONS), () => ({ info, register: registerTools })));
 */
export function mcpRevisionsRouter(path: string, revisions: readonly McpRevision[], define: (req: Request) => McpServerDefinition): Router {
  const legacy = (req: Request) => {
    const { info, register } = define(req);
    const server = new LegacyMcpServer(info, { jsonSchemaValidator: lazySchemaValidator() });
    register(server);
    return server;
  };
  const speaksLegacy = revisions.includes('2025-11-25');
  if (!revisions.includes('2026-07-28')) return statelessMcpRouter(path, legacy);

  const router = express.Router();
  const legacyRouter = speaksLegacy ? statelessMcpRouter(path, legacy) : undefined;
  router.post(path, async (req, res, next) => {
    // A middleware before this one (monitoring-mcp's spec auth) may have read and parsed the body already.
    const read = (req as Request & { body?: unknown }).body;
    let parsed: unknown = read;
    if (read === undefined) {
      const body = await readBody(req, DEFAULT_MAX_REQUEST_BODY_SIZE);
      if (body === undefined) {
        sendJsonRpcError(res, 413, JSON_RPC_SERVER_ERROR, `Payload Too Large: the body exceeds ${DEFAULT_MAX_REQUEST_BODY_SIZE} bytes`);
        return;
      }
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch {
        // The answer of the v1 transport, which a legacy client would have got.
        sendJsonRpcError(res, 400, -32700, 'Parse error: Invalid JSON');
        return;
      }
    }
    // Both routes are given the parsed body and never read the request's: the headers are enough.
    const request = webRequest(req);
    if (legacyRouter && (await isLegacyRequest(request, parsed))) {
      // On to the v1 route below, which hands the body already read to its transport.
      (req as Request & { body?: unknown }).body = parsed;
      next();
      return;
    }
    const handler = createMcpHandler(() => {
      const { info, register } = define(req);
      const server = new ModernMcpServer(info);
      register(server as unknown as ToolHost);
      return server;
    }, { legacy: 'reject' });
    res.on('close', () => void handler.close());
    try {
      const response = await handler.fetch(request, { parsedBody: parsed });
      res.status(response.status);
      response.headers.forEach((value, name) => res.setHeader(name, value));
      if (!response.body) {
        res.end();
        return;
      }
      Readable.fromWeb(response.body as never).pipe(res);
    } catch (error) {
      next(error);
    }
  });
  if (legacyRouter) router.use(legacyRouter);
  else {
    router.all(path, (_req, res) => {
      res.set('Allow', 'POST');
      sendJsonRpcError(res, 405, JSON_RPC_SERVER_ERROR, 'Method not allowed.');
    });
  }
  return router;
}

// The whole body, or undefined once it passes `limit` bytes (the rest is drained, not kept).
function readBody(req: Request, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () => resolve(size <= limit ? Buffer.concat(chunks) : undefined));
    req.on('error', reject);
  });
}

/** The request's method, URL and headers as a web Request, without its body (already read and parsed). */
function webRequest(req: Request): globalThis.Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one);
  }
  return new Request(`http://${req.headers.host ?? 'localhost'}${req.originalUrl}`, { method: req.method, headers });
}
