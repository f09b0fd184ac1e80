import type { WorkerEnv } from './env-expansion.ts';

/** Claude Code's wait for an MCP server to connect when `MCP_TIMEOUT` is unset: 30 s. */
export const DEFAULT_MCP_TIMEOUT_MS = 30_000;

/**
 * The worker's own deadline per server, read as Claude Code reads it: `MCP_TIMEOUT` in its
 * environment, in milliseconds, else 30 s. It bounds servers that answer; a flow the network
 * drops ends sooner, at the scenario's `timeout_ms`, where the network shim gives up on it.
 * Returns an error message instead of a number for a value that is not a positive integer.
 *
 * @example
 * mcpTimeoutMs({ MCP_TIMEOUT: '10000' }); // 10000
 * mcpTimeoutMs({}); // 30000
 */
export function mcpTimeoutMs(env: WorkerEnv): number | { error: string } {
  const raw = env.MCP_TIMEOUT;
  if (raw === undefined || raw === '') return DEFAULT_MCP_TIMEOUT_MS;
  if (!/^\d+$/.test(raw.trim()) || Number(raw) <= 0) {
    return { error: `MCP_TIMEOUT must be a positive whole number of milliseconds, got ${JSON.stringify(raw)}` };
  }
  return Number(raw);
}
