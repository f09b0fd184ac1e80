import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenarioFile } from '../topology/index.ts';
import { formatEdit, verdictChanges } from './live.ts';

const INCIDENT = path.resolve(import.meta.dirname, '../../scenarios/incidents/2025-10-01-prometheus-mcp');

async function topology(step: string) {
  const [scenario] = await loadScenarioFile(path.join(INCIDENT, `${step}.yaml`));
  return scenario!.topology;
}

describe('verdictChanges', () => {
  it("names the one flow PR #26's rule turns from drop to allow, with the rule that now allows it", async () => {
    const changes = verdictChanges(await topology('0-as-reported'), await topology('1-after-firewall-fix'));
    expect(changes).toEqual([
      {
        flow: 'claude-worker -> monitoring-mcp:8000',
        before: 'drop',
        after: 'allow',
        reason: 'claude-worker outbound rule port 8000/tcp groups [dev, monitoring-mcp]; monitoring-mcp inbound rule port 8000/tcp group dev',
      },
    ]);
  });

  it('finds nothing when only tokens changed', async () => {
    expect(verdictChanges(await topology('1-after-firewall-fix'), await topology('5-real-fix-valid-token'))).toEqual([]);
  });
});

describe('formatEdit', () => {
  it('says what was applied and each changed flow', () => {
    const text = formatEdit({ file: '/x/0.yaml', network: ['claude-worker'], restarted: [], worker: false, changes: [{ flow: 'a -> b:1', before: 'drop', after: 'allow', reason: 'r' }] });
    expect(text).toBe('harness: 0.yaml changed, applied: network claude-worker; restarted none\n  a -> b:1  drop -> allow  (r)\n');
  });
});
