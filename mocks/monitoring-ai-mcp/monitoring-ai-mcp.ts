import express from 'express';
import type { RequestHandler } from 'express';
import * as z from 'zod';
import { listen, ServiceLog, systemClock } from '../../common/index.ts';
import type { Clock, LogSink, Started } from '../../common/index.ts';
import { decodeOnlyAuth, jsonFallbackHandlers, JSON_RPC_SERVER_ERROR, mcpRevisionsRouter, MCP_REVISIONS, sendJsonRpcError } from '../shared/index.ts';
import type { McpRevision } from '../shared/index.ts';
import { ALERTMANAGER_TOOLS, registerAlertmanagerTools } from './alertmanager-tools.ts';
import type { SilenceStore } from './alertmanager-tools.ts';
import { MonitoringAiMcpError } from './errors.ts';
import { loadFixtures } from './fixtures.ts';
import type { Fixtures } from './fixtures.ts';
import { GRAFANA_TOOLS, registerGrafanaTools } from './grafana-tools.ts';

/** The toolsets `?toolset=` selects. */
export const TOOLSETS = ['grafana', 'alertmanager'] as const;
export const ToolsetSchema = z.enum(TOOLSETS);
export type Toolset = z.infer<typeof ToolsetSchema>;

/** Tool names per toolset, as tools/list returns them. */
export const TOOLSET_TOOLS: Record<Toolset, readonly string[]> = { grafana: GRAFANA_TOOLS, alertmanager: ALERTMANAGER_TOOLS };

/** Path of the MCP endpoint, as in the worker's `${MONITORING_AI_MCP_URL}/monitoring/v1/mcp?toolset=...`. */
export const MONITORING_AI_MCP_PATH = '/monitoring/v1/mcp';
export const MONITORING_AI_MCP_SERVICE = 'monitoring-ai-mcp';

export interface MonitoringAiMcpOptions {
  host?: string;
  port?: number;
  /** MCP_JWT_AUDIENCE: logged at start and otherwise ignored, as in unified_mcp_server.py. */
  audience?: string;
  clock?: Clock;
  log?: LogSink;
  /** Fixtures to answer from; defaults to `fixtures.json` next to this module (or `fixturesFile`). */
  fixtures?: Fixtures;
  fixturesFile?: string;
  /** MCP_REVISIONS: the MCP revisions served; default both (2025-11-25 on the v1 SDK, 2026-07-28 on the v2 SDK). */
  mcpRevisions?: readonly McpRevision[];
}

export interface StartedMonitoringAiMcp extends Started {
  readonly log: ServiceLog;
  /** The MCP endpoint for a toolset, e.g. `http://127.0.0.1:41234/monitoring/v1/mcp?toolset=grafana`; no toolset: no query. */
  mcpUrl(toolset?: string): string;
}

function toolsetGate(): RequestHandler {
  return (req, res, next) => {
    const toolset = req.query.toolset;
    const parsed = ToolsetSchema.safeParse(toolset);
    if (parsed.success) return next();
    const got = toolset === undefined ? 'no toolset' : `unknown toolset ${JSON.stringify(toolset)}`;
    sendJsonRpcError(res, 400, JSON_RPC_SERVER_ERROR, `Bad Request: ${got}; use ?toolset=${TOOLSETS.join(' or ?toolset=')}`);
  };
}

/**
 * Starts the lenient unified MCP server (monitoring-ai/mcp/unified_mcp_server.py): Streamable HTTP
 * at `/monitoring/v1/mcp?toolset=grafana|alertmanager`, every bearer token decoded without
 * verification and every request let through (a missing header or the fake
 * `orchestration-agent` token included); what it saw goes to `log` as `auth.allowed`.
 *
 * @example
 * await using ai = await startMonitoringAiMcp({ audience: 'https://monitoring-ai-mcp-dev.example/monitoring/v1/mcp' });
 * const transport = new StreamableHTTPClientTransport(new URL(ai.mcpUrl('grafana')));
 */
export async function startMonitoringAiMcp(options: MonitoringAiMcpOptions = {}): Promise<StartedMonitoringAiMcp> {
  const clock = options.clock ?? systemClock;
  const log = new ServiceLog(MONITORING_AI_MCP_SERVICE, clock, options.log);
  if (options.audience !== undefined && options.audience.trim() === '') {
    throw new MonitoringAiMcpError('ERR_MONITORING_AI_MCP_OPTIONS', 'audience must not be blank; leave it unset instead');
  }
  const fixtures = options.fixtures ?? (await loadFixtures(options.fixturesFile));
  let silenceCount = 0;
  const silences: SilenceStore = { created: [], nextId: () => `silence-${++silenceCount}` };

  const app = express();
  app.disable('x-powered-by');
  app.get('/', (_req, res) => {
    res.json({ service: 'Monitoring AI Unified MCP Server', toolsets: TOOLSET_TOOLS });
  });
  app.use(MONITORING_AI_MCP_PATH, decodeOnlyAuth(log), toolsetGate());
  app.use(
    mcpRevisionsRouter(MONITORING_AI_MCP_PATH, options.mcpRevisions ?? MCP_REVISIONS, (req) => {
      const toolset = ToolsetSchema.parse(req.query.toolset);
      return {
        info: { name: `monitoring-ai-mcp-${toolset}`, version: '1.0.0' },
        register: (host) => (toolset === 'grafana' ? registerGrafanaTools(host, fixtures) : registerAlertmanagerTools(host, { fixtures, silences, clock })),
      };
    }),
  );
  app.use(...jsonFallbackHandlers());

  const listening = await listen(app, { host: options.host, port: options.port });
  log.write('server.started', {
    url: listening.url,
    audience: options.audience ?? null,
    mcpRevisions: [...(options.mcpRevisions ?? MCP_REVISIONS)],
    detail:
      options.audience === undefined
        ? 'MCP_JWT_AUDIENCE not set; tokens are decoded for logging only'
        : `MCP_JWT_AUDIENCE=${options.audience} is set but tokens are decoded for logging only, never validated`,
  });
  return {
    url: listening.url,
    log,
    mcpUrl: (toolset?: string) => `${listening.url}${MONITORING_AI_MCP_PATH}${toolset === undefined ? '' : `?toolset=${encodeURIComponent(toolset)}`}`,
    close: () => listening.close(),
    [Symbol.asyncDispose]: () => listening.close(),
  };
}
