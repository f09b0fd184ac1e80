/**
 * # monitoring-ai-mcp: the lenient unified MCP server (monitoring-ai/mcp/unified_mcp_server.py)
 *
 * Streamable HTTP (SDK stateless mode: a fresh McpServer + transport per POST; GET/DELETE 405 with
 * the SDK's JSON-RPC body) at `/monitoring/v1/mcp?toolset=grafana|alertmanager`, in the MCP
 * revisions `mcpRevisions` (MCP_REVISIONS) names: 2025-11-25 on the v1 SDK, 2026-07-28 on the v2
 * SDK, both by default (see mocks/shared/mcp-revisions.ts). Each toolset lists
 * four tools answering from `fixtures.json` (or `options.fixtures`); `create_silence` keeps what it
 * creates for the life of the server.
 *
 * No or unknown `toolset`: HTTP 400 with a JSON-RPC error (`code: -32000`, `id: null`,
 * "Bad Request: unknown toolset ..."), the shape the SDK's transport uses for requests it refuses
 * before reading them; the SDK client surfaces it as StreamableHTTPError 400.
 *
 * Auth: none, on purpose. The bearer token is decoded without verification (jose `decodeJwt`)
 * and what was seen goes to `log` as `auth.allowed` (`sub`/`iss`/`aud`, or `cause: malformed`
 * with the decode error, or `cause: missing_token`); every request goes through. MCP_JWT_AUDIENCE
 * is only logged at start (`server.started`).
 *
 * @example
 * await using ai = await startMonitoringAiMcp();
 * await using client = await connectMcpClient(ai.mcpUrl('grafana'), { token: 'orchestration-agent' });
 */
export { startMonitoringAiMcp, TOOLSETS, ToolsetSchema, TOOLSET_TOOLS, MONITORING_AI_MCP_PATH, MONITORING_AI_MCP_SERVICE } from './monitoring-ai-mcp.ts';
export type { MonitoringAiMcpOptions, StartedMonitoringAiMcp, Toolset } from './monitoring-ai-mcp.ts';
export { loadFixtures, FixturesSchema, DEFAULT_FIXTURES_FILE } from './fixtures.ts';
export type { Fixtures } from './fixtures.ts';
export { GRAFANA_TOOLS } from './grafana-tools.ts';
export { ALERTMANAGER_TOOLS } from './alertmanager-tools.ts';
export { MonitoringAiMcpError } from './errors.ts';
export type { MonitoringAiMcpErrorCode } from './errors.ts';
