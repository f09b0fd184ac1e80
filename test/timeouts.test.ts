// A dropped flow fails at the scenario's own bound, not at the MCP client's 60 s default.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runScenario } from '../harness/runner/index.ts';
import { loadScenarioFile } from '../harness/topology/index.ts';

const file = path.resolve(import.meta.dirname, '../scenarios/incidents/2025-10-01-prometheus-mcp/0-as-reported.yaml');

describe('a dropped flow', () => {
  it.each([300, 1500])('ends within timeout_ms (%i ms) when the shim drops it', async (timeoutMs) => {
    const [scenario] = await loadScenarioFile(file);
    const result = await runScenario({ ...scenario!, topology: { ...scenario!.topology, timeoutMs } });
    const prometheus = result.servers.find((server) => server.name === 'prometheus')!;
    expect(prometheus.reason?.kind).toBe('network.dropped');
    expect(prometheus.elapsedMs).toBeGreaterThanOrEqual(timeoutMs - 5);
    expect(prometheus.elapsedMs).toBeLessThan(timeoutMs + 1000);
    expect(result.elapsedMs).toBeLessThan(timeoutMs + 5000);
  });
});
