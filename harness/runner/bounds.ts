import type { Scenario } from '../topology/index.ts';

/** Waits a run may set for every scenario, over what the files say. */
export interface BoundOverrides {
  /** The scenario's `timeout_ms`: how long the network holds a dropped flow. */
  timeoutMs?: number;
  /** The worker's `MCP_TIMEOUT` (Claude Code's default 30000 when unset). */
  mcpTimeoutMs?: number;
  /** `MCP_JWKS_TIMEOUT_MS` of every monitoring-mcp node (the mock's default 5000; PyJWKClient's own is 30000). */
  jwksTimeoutMs?: number;
}

/**
 * The scenario with its bounds replaced: what `harness run --timeout-ms/--mcp-timeout/--jwks-timeout-ms`
 * runs, e.g. with the real components' defaults (30000 each), which cost no wall time in-process.
 *
 * @example
 * withBounds(scenario, { timeoutMs: 30_000, jwksTimeoutMs: 30_000 });
 */
export function withBounds(scenario: Scenario, overrides: BoundOverrides): Scenario {
  const { timeoutMs, mcpTimeoutMs, jwksTimeoutMs } = overrides;
  if (timeoutMs === undefined && mcpTimeoutMs === undefined && jwksTimeoutMs === undefined) return scenario;
  const nodes = scenario.topology.nodes.map((node) => {
    if (node.run === 'worker' && mcpTimeoutMs !== undefined) {
      return { ...node, worker: { ...node.worker!, env: { ...node.worker!.env, MCP_TIMEOUT: String(mcpTimeoutMs) } } };
    }
    if (node.run === 'monitoring-mcp' && !node.container && jwksTimeoutMs !== undefined) {
      return { ...node, env: { ...node.env, MCP_JWKS_TIMEOUT_MS: String(jwksTimeoutMs) } };
    }
    return node;
  });
  return { ...scenario, topology: { ...scenario.topology, nodes, timeoutMs: timeoutMs ?? scenario.topology.timeoutMs } };
}
