import { jsonLinesSink } from '../../common/index.ts';
import { listenOptionsFromEnv, runMain } from '../shared/index.ts';
import { startMonitoringAiMcp } from './monitoring-ai-mcp.ts';

// PORT, HOST, MCP_JWT_AUDIENCE (logged, never enforced: the service's own workaround).
await runMain('monitoring-ai-mcp', () =>
  startMonitoringAiMcp({ ...listenOptionsFromEnv(), audience: process.env.MCP_JWT_AUDIENCE || undefined, log: jsonLinesSink }),
);
