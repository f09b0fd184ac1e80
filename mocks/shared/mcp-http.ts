import express from 'express';
import type { ErrorRequestHandler, Request, RequestHandler, Response, Router } from 'express';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

/** JSON-RPC error codes the SDK's Streamable HTTP transport uses for HTTP-level problems. */
export const JSON_RPC_SERVER_ERROR = -32000;
export const JSON_RPC_INTERNAL_ERROR = -32603;

/**
 * Answers with a JSON-RPC error envelope (`id: null`), the body the SDK's transport itself sends
 * for requests it refuses before reading a message.
 *
 * @example
 * sendJsonRpcError(res, 400, -32000, 'Bad Request: unknown toolset "x"');
 */
export function sendJsonRpcError(res: Response, status: number, code: number, message: string): void {
  res.status(status).json({ jsonrpc: '2.0', error: { code, message }, id: null });
}

/**
 * A router serving MCP over Streamable HTTP at `path` in the SDK's stateless mode: every POST
 * gets a fresh server and transport (`sessionIdGenerator: undefined`), both closed when the
 * response ends, so nothing outlives a request. GET and DELETE answer 405 with the JSON-RPC body
 * of the SDK's stateless example (there is no standalone SSE stream and no session to delete).
 *
 * The body is left unparsed: the transport reads it, so bad JSON gets the SDK's own -32700 answer
 * (unless a router in front already read it into `req.body`, as mcpRevisionsRouter does).
 *
 * @example
 * app.use(statelessMcpRouter('/v1/mcp', () => buildServer()));
 */
export function statelessMcpRouter(path: string, createServer: (req: Request) => McpServer): Router {
  const router = express.Router();
  router.post(path, async (req, res) => {
    const server = createServer(req);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    try {
      await server.connect(transport);
      await transport.handleRequest(req, res, (req as Request & { body?: unknown }).body);
    } catch {
      if (!res.headersSent) sendJsonRpcError(res, 500, JSON_RPC_INTERNAL_ERROR, 'Internal server error');
    }
  });
  const methodNotAllowed: RequestHandler = (_req, res) => {
    res.set('Allow', 'POST');
    sendJsonRpcError(res, 405, JSON_RPC_SERVER_ERROR, 'Method not allowed.');
  };
  router.get(path, methodNotAllowed);
  router.delete(path, methodNotAllowed);
  return router;
}

/** Last handlers of an app: JSON 404 (Starlette/FastAPI's `{"detail":"Not Found"}`) and a JSON 500 without a stack. */
export function jsonFallbackHandlers(): [RequestHandler, ErrorRequestHandler] {
  const notFound: RequestHandler = (_req, res) => {
    res.status(404).json({ detail: 'Not Found' });
  };
  const failed: ErrorRequestHandler = (_error, _req, res, _next) => {
    if (!res.headersSent) res.status(500).json({ detail: 'Internal Server Error' });
  };
  return [notFound, failed];
}

/**
 * The token of an `Authorization: Bearer <token>` header (scheme case-insensitive, as Starlette
 * middlewares compare it), or undefined when the header is missing or uses another scheme.
 *
 * @example
 * bearerToken('Bearer orchestration-agent'); // 'orchestration-agent'
 */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header || header.slice(0, 7).toLowerCase() !== 'bearer ') return undefined;
  return header.slice(7);
}

/**
 * A tool result carrying `value` as pretty JSON text (strings as they are).
 *
 * @example
 * return textResult({ status: 'success', data });
 */
export function textResult(value: unknown): CallToolResult {
  return { content: [{ type: 'text', text: typeof value === 'string' ? value : JSON.stringify(value, null, 2) }] };
}

/**
 * A tool error (`isError: true`): what the model sees when a tool fails, as opposed to a protocol error.
 *
 * @example
 * return errorResult('Prometheus error (bad_data): parse error');
 */
export function errorResult(message: string): CallToolResult {
  return { content: [{ type: 'text', text: message }], isError: true };
}
