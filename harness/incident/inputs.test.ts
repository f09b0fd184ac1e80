import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadScenarioFile, type Scenario } from '../topology/index.ts';
import { readUserInputs } from './inputs.ts';

const BASE = path.resolve(import.meta.dirname, '../../scenarios/topologies/monitoring-dev.yaml');
const SEED = path.resolve(import.meta.dirname, '../../test/fixtures/seed-2025-10-01');

let dir: string;
let base: Scenario;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'mth-inputs-'));
  [base] = (await loadScenarioFile(BASE)) as [Scenario];
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, text: string): Promise<string> {
  const full = path.join(dir, name);
  await writeFile(full, text);
  return full;
}

describe('readUserInputs', () => {
  it("reads the seed's deploy file, pod and certificate", async () => {
    const inputs = await readUserInputs(
      {
        nebula: [`claude-worker=${SEED}/gondola.yaml`],
        groups: [`claude-worker=@${SEED}/claude-worker-pod.yaml`, `monitoring-mcp=@${SEED}/monitoring-mcp-cert.json`, 'auth-server=auth-server,dev'],
        token: ['PROMETHEUS_TOKEN=expired'],
      },
      base,
    );
    expect(inputs.firewalls).toEqual([{ node: 'claude-worker', file: `${SEED}/gondola.yaml`, field: 'nebula.firewall', section: expect.objectContaining({ outbound: [{ port: '8000', proto: 'tcp', groups: ['dev', 'monitoring-ai-mcp'] }] }) }]);
    expect(inputs.groups.map(({ node, groups, ip }) => ({ node, groups, ip }))).toEqual([
      { node: 'claude-worker', groups: ['monitoring-ai-slackbot-temporal-claude-worker', 'vault:monitoring-ai-slackbot-temporal-claude-worker-dev', 'dev', 'us-east-1', 'az-b'], ip: undefined },
      { node: 'monitoring-mcp', groups: ['monitoring-mcp', 'vault:monitoring-mcp-dev', 'dev', 'us-east-1'], ip: '10.42.0.4' },
      { node: 'auth-server', groups: ['auth-server', 'dev'], ip: undefined },
    ]);
    expect(inputs.tokens).toEqual([{ variable: 'PROMETHEUS_TOKEN', token: { kind: 'expired' } }]);
  });

  it('reads a plain Nebula config.yml and a comma-separated annotation', async () => {
    const config = await file('config.yml', 'pki:\n  ca: /etc/nebula/ca.crt\nfirewall:\n  outbound:\n    - {port: any, proto: any, host: any}\n');
    const pod = await file('pod.yaml', 'metadata:\n  annotations:\n    slack.com/nebula.groups: "dev, monitoring-mcp"\n');
    const inputs = await readUserInputs({ nebula: [`monitoring-mcp=${config}`], groups: [`monitoring-mcp=@${pod}`] }, base);
    expect(inputs.firewalls[0]?.field).toBe('firewall');
    expect(inputs.groups[0]?.groups).toEqual(['dev', 'monitoring-mcp']);
  });

  it.each([
    ['a Nebula config without a firewall: section', async () => ({ nebula: [`claude-worker=${await file('no-firewall.yml', 'pki:\n  ca: ca.crt\n')}`] }), 'ERR_INPUT_NEBULA', /no-firewall\.yml:1: firewall: no firewall: section/],
    ['a rule Nebula refuses, at its line', async () => ({ nebula: [`claude-worker=${await file('bad-rule.yml', 'firewall:\n  outbound:\n    - {port: abc, proto: tcp, host: any}\n')}`] }), 'ERR_INPUT_NEBULA', /bad-rule\.yml:3:\d+: firewall\.outbound\[0\]/],
    ['an unknown node in --groups', async () => ({ groups: ['grafana=dev'] }), 'ERR_INPUT_NODE', /has no node grafana/],
    ['a --groups file that carries no groups', async () => ({ groups: [`monitoring-mcp=@${await file('pod-no-groups.yaml', 'metadata:\n  name: x\n')}`] }), 'ERR_INPUT_GROUPS', /pod-no-groups\.yaml:1: neither nebula-cert/],
    ['an annotation that is not a JSON list', async () => ({ groups: [`monitoring-mcp=@${await file('pod-bad.yaml', "metadata:\n  annotations:\n    slack.com/nebula.groups: '[dev'\n")}`] }), 'ERR_INPUT_GROUPS', /pod-bad\.yaml:3:\d+: metadata\.annotations\.slack\.com\/nebula\.groups/],
    ['a token kind that does not exist', async () => ({ token: ['PROMETHEUS_TOKEN=forged'] }), 'ERR_INPUT_TOKEN', /no token kind forged/],
    ['a flag without =', async () => ({ nebula: ['claude-worker'] }), 'ERR_INPUT_FLAG', /--nebula wants NAME=VALUE/],
    ['a file that does not exist', async () => ({ nebula: ['claude-worker=/nonexistent/config.yml'] }), 'ERR_INPUT_READ', /no such file/],
  ])('refuses %s', async (_name, flags, code, message) => {
    await expect(readUserInputs(await flags(), base)).rejects.toMatchObject({ code, message: expect.stringMatching(message) });
  });
});
