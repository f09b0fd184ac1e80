import { runMain } from '../shared/index.ts';
import { monitoringMcpOptionsFromEnv } from './env.ts';
import { startMonitoringMcp } from './monitoring-mcp.ts';

await runMain('monitoring-mcp', async (log) => startMonitoringMcp({ ...monitoringMcpOptionsFromEnv(process.env), log }));
