export { listenOptionsFromEnv, runMain } from './env.ts';
export { statelessMcpRouter, sendJsonRpcError, jsonFallbackHandlers, bearerToken, textResult, errorResult, JSON_RPC_SERVER_ERROR, JSON_RPC_INTERNAL_ERROR } from './mcp-http.ts';
export { decodeOnlyAuth } from './decode-only-auth.ts';
export { connectMcpClient } from './mcp-client.ts';
export type { ConnectMcpClientOptions, ConnectedMcpClient } from './mcp-client.ts';
export { networkErrorCode, describeNetworkError } from './network-error.ts';
