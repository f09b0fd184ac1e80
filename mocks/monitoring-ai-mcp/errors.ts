import { HarnessError } from '../../common/index.ts';

/** Why the monitoring-ai-mcp mock refused to start. */
export type MonitoringAiMcpErrorCode =
  /** The fixtures file cannot be read, is not JSON, or does not match FixturesSchema. */
  | 'ERR_MONITORING_AI_MCP_FIXTURES'
  /** `startMonitoringAiMcp` options (or the environment `main.ts` reads) are out of range. */
  | 'ERR_MONITORING_AI_MCP_OPTIONS';

/**
 * Raised by the monitoring-ai-mcp mock; tests assert `code`.
 *
 * @example
 * await expect(startMonitoringAiMcp({ fixturesFile: 'nope.json' })).rejects.toMatchObject({ code: 'ERR_MONITORING_AI_MCP_FIXTURES' });
 */
export class MonitoringAiMcpError extends HarnessError<MonitoringAiMcpErrorCode> {
  constructor(code: MonitoringAiMcpErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
    this.name = 'MonitoringAiMcpError';
  }
}
