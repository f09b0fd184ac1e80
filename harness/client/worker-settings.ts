import { z } from 'zod';
import { ClientError } from './errors.ts';
import { parseUserFile, userFileError, type ParsedUserFile } from './user-file.ts';
import type { McpServerReport } from './worker-report.ts';

const RuleListSchema = z.array(z.string().min(1, 'a rule must not be empty'), { error: 'expected a list of rules' });

/** Claude Code's `permissions` block of settings.json (the parts that decide MCP tools). */
export const PermissionSettingsSchema = z.object({
  allow: RuleListSchema,
  deny: RuleListSchema,
  ask: RuleListSchema,
  /** Only `bypassPermissions` changes anything here: every tool not denied is permitted. */
  defaultMode: z.string().optional(),
});
export type PermissionSettings = z.infer<typeof PermissionSettingsSchema>;

/** The worker's settings.json, as far as the harness reads it. */
export const WorkerSettingsSchema = z.object({ permissions: PermissionSettingsSchema });
export type WorkerSettings = z.infer<typeof WorkerSettingsSchema>;

// As written: other keys of settings.json (env, hooks, model, ...) are the worker's business.
const RawSettingsSchema = z.looseObject({
  permissions: z
    .looseObject({
      allow: RuleListSchema.optional(),
      deny: RuleListSchema.optional(),
      ask: RuleListSchema.optional(),
      defaultMode: z.string({ error: 'defaultMode must be a string' }).optional(),
    }, { error: 'permissions must be a mapping with allow / deny lists' })
    .optional(),
}, { error: 'expected a JSON object' });

/**
 * Reads Claude Code's settings.json (`{"permissions": {"allow": [...], "deny": [...]}}`). Bad
 * input is a ClientError `ERR_WORKER_SETTINGS` whose `location` names the file, line and field.
 *
 * @example
 * const settings = parseWorkerSettings('{"permissions":{"allow":["mcp__grafana","mcp__prometheus__*"]}}', { file: 'settings.json' });
 */
export function parseWorkerSettings(text: string, options: { file: string }): WorkerSettings {
  if (typeof text !== 'string') throw new ClientError('ERR_CLIENT_ARGUMENT', 'parseWorkerSettings: text must be a string');
  if (!options || typeof options.file !== 'string') {
    throw new ClientError('ERR_CLIENT_ARGUMENT', 'parseWorkerSettings: options.file is required');
  }
  const parsed = parseUserFile(text, { file: options.file, json: true, code: 'ERR_WORKER_SETTINGS' });
  const result = RawSettingsSchema.safeParse(parsed.value);
  if (!result.success) {
    const issue = result.error.issues[0];
    fail(parsed, (issue?.path ?? []).map(String), issue?.message ?? 'invalid');
  }
  const permissions = result.data.permissions ?? {};
  return {
    permissions: {
      allow: [...(permissions.allow ?? [])],
      deny: [...(permissions.deny ?? [])],
      ask: [...(permissions.ask ?? [])],
      ...(permissions.defaultMode !== undefined ? { defaultMode: permissions.defaultMode } : {}),
    },
  };
}

/** Why a tool may not be used: no allow rule, an ask rule (nobody to ask in a headless worker), or a deny rule. */
export type UnpermittedReason = 'not-allowed' | 'ask' | 'denied';

export interface UnpermittedTool {
  server: string;
  /** Full name, `mcp__<server>__<tool>`. */
  tool: string;
  reason: UnpermittedReason;
  /** The deny or ask rule that matched. */
  rule?: string;
}

/**
 * Tools of connected servers that the settings do not permit. Rules match like Claude Code's:
 * `mcp__server` and `mcp__server__*` cover every tool of the server, `mcp__server__tool` one
 * tool; a rule with content (`Tool(...)`) never covers a whole MCP tool; deny wins over ask, ask
 * over allow. `defaultMode: "bypassPermissions"` permits every tool no deny rule covers.
 *
 * @example
 * unpermittedTools(report, { permissions: { allow: ['mcp__grafana'], deny: [], ask: [] } });
 * // [{ server: 'prometheus', tool: 'mcp__prometheus__prometheus_query', reason: 'not-allowed' }, ...]
 */
export function unpermittedTools(report: { servers: readonly Pick<McpServerReport, 'name' | 'status' | 'tools'>[] }, settings: WorkerSettings): UnpermittedTool[] {
  const { allow, deny, ask, defaultMode } = settings.permissions;
  const result: UnpermittedTool[] = [];
  for (const server of report.servers) {
    if (server.status !== 'connected') continue;
    for (const tool of server.tools) {
      const denyRule = deny.find((rule) => ruleCoversTool(rule, tool));
      if (denyRule !== undefined) {
        result.push({ server: server.name, tool, reason: 'denied', rule: denyRule });
        continue;
      }
      if (defaultMode === 'bypassPermissions') continue;
      const askRule = ask.find((rule) => ruleCoversTool(rule, tool));
      if (askRule !== undefined) {
        result.push({ server: server.name, tool, reason: 'ask', rule: askRule });
        continue;
      }
      if (!allow.some((rule) => ruleCoversTool(rule, tool))) result.push({ server: server.name, tool, reason: 'not-allowed' });
    }
  }
  return result;
}

/**
 * Whether a permission rule covers a whole tool, by Claude Code's matching (permissions.ts
 * `toolMatchesRule` with `mcpInfoFromString`).
 *
 * @example
 * ruleCoversTool('mcp__grafana__*', 'mcp__grafana__query_loki'); // true
 */
export function ruleCoversTool(rule: string, tool: string): boolean {
  const parsed = /^([^(]+)(\((.*)\))?$/s.exec(rule.trim());
  if (!parsed || parsed[2] !== undefined) return false;
  const ruleTool = parsed[1] ?? '';
  if (ruleTool === tool) return true;
  const ruleInfo = mcpInfo(ruleTool);
  const toolInfo = mcpInfo(tool);
  return ruleInfo !== undefined && toolInfo !== undefined && ruleInfo.server === toolInfo.server
    && (ruleInfo.tool === undefined || ruleInfo.tool === '*');
}

/**
 * The name Claude Code gives a server's tool: `mcp__<server>__<tool>`, each part with characters
 * outside `[a-zA-Z0-9_-]` replaced by `_`.
 *
 * @example
 * mcpToolName('monitoring.mcp', 'list_metrics'); // 'mcp__monitoring_mcp__list_metrics'
 */
export function mcpToolName(server: string, tool: string): string {
  return `${mcpToolPrefix(server)}${normalizeNameForMcp(tool)}`;
}

/**
 * What every tool name of a server starts with, `mcp__<server>__`, the server's name normalised as
 * in mcpToolName: compare tools with this, never with the raw server name.
 *
 * @example
 * mcpToolPrefix('graf.ana'); // 'mcp__graf_ana__'
 */
export function mcpToolPrefix(server: string): string {
  return `mcp__${normalizeNameForMcp(server)}__`;
}

function normalizeNameForMcp(name: string): string {
  return name.replace(/[^a-zA-Z0-9_-]/g, '_');
}

function mcpInfo(name: string): { server: string; tool?: string } | undefined {
  const [prefix, server, ...toolParts] = name.split('__');
  if (prefix !== 'mcp' || !server) return undefined;
  return toolParts.length > 0 ? { server, tool: toolParts.join('__') } : { server };
}

function fail(parsed: ParsedUserFile, path: string[], message: string, options: { keyOnly?: boolean } = {}): never {
  throw userFileError(parsed, 'ERR_WORKER_SETTINGS', path, message, options);
}
