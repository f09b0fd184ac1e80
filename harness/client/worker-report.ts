import { z } from 'zod';

/**
 * A server's status, with the values of the agent SDK's `McpServerStatus.status`: `pending` is a
 * server still connecting or listing tools when the worker printed its init message (MCP_TIMEOUT
 * after its start, as Claude Code waits).
 */
export const McpServerStatusSchema = z.enum(['connected', 'failed', 'needs-auth', 'pending']);
export type McpServerStatus = z.infer<typeof McpServerStatusSchema>;

/**
 * Why a server is not connected, as far as the client can tell from what it sees. A `timeout`
 * may be upgraded to `network.dropped` later by the diagnosis, which also sees the network's events.
 */
export const ReasonKindSchema = z.enum([
  'network.dropped',
  'network.refused',
  'network.no_such_host',
  'auth.invalid_token',
  'auth.missing_token',
  'auth.unauthorized',
  'protocol',
  'protocol.revision_mismatch',
  'timeout',
  'config',
]);
export type ReasonKind = z.infer<typeof ReasonKindSchema>;

export const FailureReasonSchema = z.object({
  kind: ReasonKindSchema,
  /** Human-readable: the server's own error where there is one. */
  detail: z.string(),
});
export type FailureReason = z.infer<typeof FailureReasonSchema>;

/** The HTTP answer that decided a failure. */
export const HttpAnswerSchema = z.object({
  status: z.number().int(),
  /** The response body, cut at 2000 characters. */
  body: z.string().optional(),
  wwwAuthenticate: z.string().optional(),
});
export type HttpAnswer = z.infer<typeof HttpAnswerSchema>;

/** The error the SDK or fetch raised, flattened (the innermost cause's code where it has one). */
export const ErrorSummarySchema = z.object({
  name: z.string(),
  code: z.union([z.string(), z.number()]).optional(),
  message: z.string(),
});
export type ErrorSummary = z.infer<typeof ErrorSummarySchema>;

/** One server as the simulated worker saw it. */
export const McpServerReportSchema = z.object({
  name: z.string(),
  status: McpServerStatusSchema,
  /** `mcp__<server>__<tool>`, as Claude Code names them; empty unless connected. */
  tools: z.array(z.string()),
  reason: FailureReasonSchema.optional(),
  http: HttpAnswerSchema.optional(),
  error: ErrorSummarySchema.optional(),
  /** The URL after `${VAR}` expansion. */
  url: z.string(),
  /** `${VAR}` references (without default) the environment did not define; they were sent as written. */
  missingEnv: z.array(z.string()),
  serverInfo: z.object({ name: z.string(), version: z.string() }).optional(),
  elapsedMs: z.number().nonnegative(),
});
export type McpServerReport = z.infer<typeof McpServerReportSchema>;

/** What the simulated worker reports after connecting to all its servers. */
export const WorkerReportSchema = z.object({
  /** In config order. */
  servers: z.array(McpServerReportSchema),
  /** Whether settings were given; without them no tool is checked and both lists are empty. */
  permissionsChecked: z.boolean(),
  /** Tools of connected servers that settings.json does not permit (not allowed, ask, or denied). */
  unpermitted: z.array(z.string()),
  /** The subset of `unpermitted` a deny rule removes: Claude Code leaves these out of the init message's tools. */
  denied: z.array(z.string()),
  /** Which client made the report, and its version where it says (Claude Code's `claude_code_version`). */
  client: z.object({
    name: z.string(),
    version: z.string().optional(),
    /** Claude Code ran in a network namespace of its own (only loopback, bridged to the egress). */
    isolated: z.boolean().optional(),
  }).optional(),
});
export type WorkerReport = z.infer<typeof WorkerReportSchema>;
