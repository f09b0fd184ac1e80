import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runScenario, type ScenarioResult, type ServerOutcome } from '../runner/index.ts';
import { loadScenarioFile } from '../topology/index.ts';
import { formatExplanation } from './explain.ts';

const root = path.resolve(import.meta.dirname, '../../scenarios');

async function explain(id: string): Promise<string> {
  const [scenario] = await loadScenarioFile(path.join(root, `${id}.yaml`), { root });
  return formatExplanation(scenario!, await runScenario(scenario!));
}

describe('formatExplanation', () => {
  it.concurrent.each([
    [
      '1.10',
      'drop',
      "nebula: Nebula 1.10 (1.10.3): a flow denied by claude-worker's outbound rules is answered by its inbound_action (drop), not its outbound_action (reject): up to 1.10.x the two settings were applied to the opposite direction (fixed in 1.11.0, slackhq/nebula#1798)",
    ],
    [
      '1.11',
      'reject',
      "nebula: Nebula 1.11 (1.11.1): a flow denied by claude-worker's outbound rules is answered by its outbound_action (reject), as named (the direction fix of 1.11.0, slackhq/nebula#1798)",
    ],
  ])('names the Nebula %s behaviour that answered the blocked hop with %s', async (version, verdict, line) => {
    const text = await explain(`versions/nebula-outbound-reject/${version}`);
    expect(text).toContain(`hop: claude-worker -> monitoring-mcp:8000 (${verdict} by claude-worker's outbound rules)`);
    expect(text).toContain(`  ${line}\n`);
  });

  it('says what would make a pending server pass, and names the probe behind it', async () => {
    const [scenario] = await loadScenarioFile(path.join(root, 'incidents/2026-12-01-mcp-probe-timing/1-slow-server-pending.yaml'), { root });
    // The outcome as the run gives it (17 s of real time), without waiting for it.
    const prometheus: ServerOutcome = {
      name: 'prometheus', status: 'pending', url: 'http://monitoring-mcp.service.dev-us-east-1.consul:8000/v1/mcp', node: 'monitoring-mcp',
      elapsedMs: 17_000, tools: [], unpermitted: [], ok: true, mismatches: [],
      reason: { kind: 'timeout', detail: 'still connecting when the worker printed its init line (MCP_TIMEOUT 17000 ms)', hop: { from: 'claude-worker', to: 'monitoring-mcp', port: 8000 } },
    };
    const result: ScenarioResult = {
      scenario: scenario!.id, file: scenario!.file, description: scenario!.description, ok: true, servers: [prometheus],
      init: { type: 'system', subtype: 'init', mcp_servers: [{ name: 'prometheus', status: 'pending' }], tools: [] }, elapsedMs: 17_000, network: [],
    };
    const text = formatExplanation(scenario!, result);
    expect(text).toContain('version: MCP revision: the worker probes with server/discover (2026-07-28) first, as Claude Code 2.1.332 does; monitoring-mcp speaks only 2025-11-25');
    expect(text).toContain("to pass: raise the worker's MCP_TIMEOUT (now 17000 ms)");
  });
});
