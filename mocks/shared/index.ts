/**
 * # shared: what only the simulated services use
 *
 * `runMain` / `listenOptionsFromEnv` for each `main.ts`, MCP over Streamable HTTP (stateless router,
 * JSON-RPC error bodies, tool results), the decode-only auth middleware, the SDK client the services'
 * tests connect with, and network error codes for logs. What the harness needs too lives in
 * `common/`; nothing here imports `harness/` (test/layering.test.ts).
 *
 * @example
 * await runMain('prometheus', (log) => startPrometheus({ ...listenOptionsFromEnv(), log }));
 */
export { listenOptionsFromEnv, runMain, SERVICE_ENV_FILE_ENV } from './env.ts';
export type { ListeningLine, ServiceEnvFile } from './env.ts';
export { statelessMcpRouter, sendJsonRpcError, jsonFallbackHandlers, bearerToken, textResult, errorResult, JSON_RPC_SERVER_ERROR, JSON_RPC_INTERNAL_ERROR } from './mcp-http.ts';
export { decodeOnlyAuth } from './decode-only-auth.ts';
export {
  MCP_REVISIONS,
  MCP_REVISIONS_ENV,
  MCP_REVISION_SETTINGS,
  mcpRevisionsRouter,
  parseMcpRevisions,
  isMcpRevisionsSetting,
  unknownMcpRevisionsMessage,
} from './mcp-revisions.ts';
export type { McpRevision, McpServerDefinition, ToolHost } from './mcp-revisions.ts';
export { connectMcpClient } from './mcp-client.ts';
export type { ConnectMcpClientOptions, ConnectedMcpClient } from './mcp-client.ts';
export { networkErrorCode, describeNetworkError } from './network-error.ts';
