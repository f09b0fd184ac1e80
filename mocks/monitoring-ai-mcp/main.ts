import { listenOptionsFromEnv, MCP_REVISIONS_ENV, parseMcpRevisions, runMain } from '../shared/index.ts';
import { startMonitoringAiMcp } from './monitoring-ai-mcp.ts';

// PORT, HOST, MCP_JWT_AUDIENCE (logged, never enforced: the service's own workaround), MCP_REVISIONS.
await runMain('monitoring-ai-mcp', (log) =>
  startMonitoringAiMcp({
    ...listenOptionsFromEnv(),
    audience: process.env.MCP_JWT_AUDIENCE || undefined,
    mcpRevisions: parseMcpRevisions(process.env[MCP_REVISIONS_ENV], MCP_REVISIONS_ENV),
    log,
  }),
);
