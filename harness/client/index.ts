export { ClientError } from './errors.ts';
export type { ClientErrorCode, ClientErrorLocation } from './errors.ts';
export { expandEnv } from './env-expansion.ts';
export { blankedTowardRemote, LISTED_BLANKED_NAMES } from './credential-blanking.ts';
export type { ExpandedValue, WorkerEnv } from './env-expansion.ts';
export {
  parseWorkerConfig,
  WorkerConfigFormatSchema,
  HttpMcpServerConfigSchema,
  UnsupportedTransportSchema,
  UnsupportedMcpServerConfigSchema,
  McpServerConfigSchema,
  WorkerMcpConfigSchema,
} from './worker-config.ts';
export type {
  ParseWorkerConfigOptions,
  WorkerConfigFormat,
  HttpMcpServerConfig,
  UnsupportedTransport,
  UnsupportedMcpServerConfig,
  McpServerConfig,
  WorkerMcpConfig,
} from './worker-config.ts';
export {
  parseWorkerSettings,
  unpermittedTools,
  ruleCoversTool,
  mcpToolName,
  mcpToolPrefix,
  PermissionSettingsSchema,
  WorkerSettingsSchema,
} from './worker-settings.ts';
export type { PermissionSettings, WorkerSettings, UnpermittedTool, UnpermittedReason } from './worker-settings.ts';
export {
  McpServerStatusSchema,
  ReasonKindSchema,
  FailureReasonSchema,
  HttpAnswerSchema,
  ErrorSummarySchema,
  McpServerReportSchema,
  WorkerReportSchema,
} from './worker-report.ts';
export type {
  McpServerStatus,
  ReasonKind,
  FailureReason,
  HttpAnswer,
  ErrorSummary,
  McpServerReport,
  WorkerReport,
} from './worker-report.ts';
export { connectWorker } from './connect-worker.ts';
export { CLIENT_REVISIONS, ClientRevisionSchema, probeTimeoutMs, negotiateRevision } from './revision-negotiation.ts';
export type { ClientRevision, McpSession, NegotiationAttempt, NegotiationResult } from './revision-negotiation.ts';
export { WORKER_REVISION_ENV } from './worker-main.ts';
export type { ConnectWorkerOptions } from './connect-worker.ts';
export { claudeCodeNeedsAuth } from './oauth-discovery.ts';
export type { NeedsAuthInput } from './oauth-discovery.ts';
export { initMessage, formatMcpServersLine } from './worker-output.ts';
export type { InitMessage } from './worker-output.ts';
export { runWorkerMain } from './worker-main.ts';
export { mcpTimeoutMs, DEFAULT_MCP_TIMEOUT_MS } from './mcp-timeout.ts';
export type { WorkerMainIo } from './worker-main.ts';
export { ClientNameSchema, claudeMcpJson, workerLaunch, simulatedClient } from './worker-client.ts';
export type { ClientName, ClaudeMcpJson, WorkerLaunch, WorkerClient } from './worker-client.ts';
export { runBoxUntilLine } from './worker-box.ts';
export type { WorkerBox, WorkerBoxCommand, StartedBoxCommand } from './worker-box.ts';
export { claudeCodeClient, resolveClaudeBinary, DEFAULT_CLAUDE_IMAGE } from './claude-code/index.ts';
export type { ClaudeCodeClientOptions, ClaudeBinary } from './claude-code/index.ts';
