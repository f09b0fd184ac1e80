import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runScenario } from '../runner/index.ts';
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
    const text = await explain('incidents/2026-12-01-mcp-probe-timing/1-slow-server-pending');
    expect(text).toContain('prometheus: pending');
    expect(text).toContain('version: MCP revision: the worker probes with server/discover (2026-07-28) first, as Claude Code 2.1.332 does; monitoring-mcp speaks only 2025-11-25');
    expect(text).toContain("to pass: raise the worker's MCP_TIMEOUT (now 17000 ms)");
  });

  it('names the probe behind a doubled JWKS wait on a server that speaks both revisions too', async () => {
    const [scenario] = await loadScenarioFile(path.join(root, 'incidents/2026-12-01-mcp-probe-timing/0-jwks-wait-doubled.yaml'), { root });
    const both = {
      ...scenario!,
      topology: { ...scenario!.topology, nodes: scenario!.topology.nodes.map((node) => (node.name === 'monitoring-mcp' ? { ...node, env: { ...node.env, MCP_REVISIONS: 'both' } } : node)) },
    };
    const result = await runScenario(both);
    // Two holds of the dropped JWKS flow: the probe's, then initialize's.
    expect(result.waitedMs).toBe(2 * scenario!.topology.timeoutMs);
    expect(formatExplanation(both, result)).toContain(
      "version: MCP revision: the worker probes with server/discover (2026-07-28) first, as Claude Code 2.1.332 does; monitoring-mcp refused the probe's token before reading its revision, so initialize followed with the same token: the token was checked twice",
    );
  });
});
