export { systemClock, ManualClock } from './clock.ts';
export type { Clock } from './clock.ts';
export { listen, disposable } from './started.ts';
export type { Started, ListenOptions, Listening } from './started.ts';
export { ServiceLog, jsonLinesSink } from './log.ts';
export type { LogEntry, LogSink } from './log.ts';
export { proxiedFetch, proxyDispatcher } from './fetch.ts';
export type { Fetch } from './fetch.ts';
export { listenOptionsFromEnv, runMain } from './env.ts';
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
export { lazySchemaValidator } from './schema-validator.ts';
export { networkErrorCode, describeNetworkError } from './network-error.ts';
