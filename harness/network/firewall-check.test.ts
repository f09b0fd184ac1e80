import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFirewallCheck } from './firewall-check.ts';

const SEED = `
nodes:
  claude-worker:
    ip: 10.10.0.5
    groups: [monitoring-ai-slackbot-temporal-claude-worker, "vault:monitoring-ai-slackbot", dev, us-east-1, az-b]
    ca_name: dev-ca
    firewall:
      outbound:
        - port: "8000"
          proto: tcp
          groups: [dev, monitoring-ai-mcp]
  monitoring-mcp:
    groups: [monitoring-mcp, "vault:monitoring-mcp-dev", dev, us-east-1]
    firewall:
      inbound:
        - {port: any, proto: any, host: any}
`;
const AFTER_PR_26 = SEED.replace(
  '          groups: [dev, monitoring-ai-mcp]\n',
  '          groups: [dev, monitoring-ai-mcp]\n        - {port: 8000, proto: tcp, groups: [dev, monitoring-mcp]}\n',
);

describe('runFirewallCheck', () => {
  let dir: string;
  const file = async (name: string, text: string) => {
    const p = path.join(dir, name);
    await writeFile(p, text);
    return p;
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'firewall-check-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prints the drop and both sides\' reasons for the seed\'s first state', async () => {
    const seed = await file('seed.yaml', SEED);
    const outcome = await runFirewallCheck({ file: seed, from: 'claude-worker', to: 'monitoring-mcp', port: 8000 });
    expect(outcome).toEqual({
      exitCode: 0,
      stderr: '',
      stdout: [
        'claude-worker -> monitoring-mcp:8000/tcp: drop',
        '  outbound claude-worker: denied (outbound_action drop): no rule matches',
        '    rule #0 port 8000/tcp groups [dev, monitoring-ai-mcp]: needs monitoring-ai-mcp; monitoring-mcp has [monitoring-mcp, vault:monitoring-mcp-dev, dev, us-east-1]',
        '  inbound monitoring-mcp: allowed by rule #0 port any/any host any',
        '',
      ].join('\n'),
    });
  });

  it('prints JSON with the verdict and each side\'s node, rule and reason', async () => {
    const fixed = await file('fixed.yaml', AFTER_PR_26);
    const outcome = await runFirewallCheck({ file: fixed, from: 'claude-worker', to: '10.10.0.2', port: '8000', proto: 'tcp', json: true });
    expect(outcome.exitCode).toBe(0);
    const report = JSON.parse(outcome.stdout);
    expect(report).toMatchObject({
      verdict: 'allow',
      from: 'claude-worker',
      to: 'monitoring-mcp',
      outbound: { node: 'claude-worker', allowed: true, rule: 'port 8000/tcp groups [dev, monitoring-mcp]', reason: expect.any(String) },
      inbound: { node: 'monitoring-mcp', allowed: true, rule: 'port any/any host any', reason: expect.any(String) },
    });
    expect(report.outbound.misses).toHaveLength(1);
  });

  it('says default deny when a side has no rules, and exits 0', async () => {
    const seed = await file('reverse.yaml', SEED);
    const outcome = await runFirewallCheck({ file: seed, from: 'monitoring-mcp', to: 'claude-worker', port: 22 });
    expect(outcome.exitCode).toBe(0);
    expect(outcome.stdout).toContain('  outbound monitoring-mcp: denied (outbound_action drop): no outbound rules (default deny)');
  });

  it('warns on stderr about what Nebula would warn about', async () => {
    const warn = await file('warn.yaml', SEED.replace('    firewall:\n      outbound:', '    firewall:\n      outbound_action: deny\n      outbound:'));
    const outcome = await runFirewallCheck({ file: warn, from: 'claude-worker', to: 'monitoring-mcp', port: 8000 });
    expect(outcome.exitCode).toBe(0);
    expect(outcome.stderr).toBe(`warning: ${warn}: nodes.claude-worker.firewall: invalid firewall.outbound_action \`deny\`, defaulting to \`drop\`\n`);
  });

  it.each([
    ['a firewall error, with its line', SEED.replace('port: "8000"', 'port: "http"'), {}, /seed-bad\.yaml:9:\d+: nodes\.claude-worker\.firewall: firewall\.outbound rule #0; port was not a number; `http`/],
    ['a rule with no selector, with its line', SEED.replace('          groups: [dev, monitoring-ai-mcp]\n', ''), {}, /seed-bad\.yaml:9:\d+: .*rule #0; at least one of host, group/],
    ['a YAML syntax error, with its line', 'nodes:\n  a: [\n', {}, /seed-bad\.yaml:\d+:\d+: /],
    ['a node that is not a map', 'nodes:\n  a: 5\n', {}, /seed-bad\.yaml:2:6: nodes\.a: /],
    ['groups that are not a list', 'nodes:\n  a:\n    groups: dev\n', {}, /seed-bad\.yaml:3:13: nodes\.a\.groups: /],
    ['a bad ip', 'nodes:\n  a:\n    ip: 10.10.0\n', {}, /seed-bad\.yaml:3:9: nodes\.a\.ip: expected an IPv4 overlay address/],
    ['two nodes on one ip', 'nodes:\n  a: {ip: 10.1.0.1}\n  b: {ip: 10.1.0.1}\n', {}, /seed-bad\.yaml:3:\d+: nodes a and b both have ip 10\.1\.0\.1/],
    ['an unknown --to node', SEED, { to: 'prometheus' }, /seed-bad\.yaml: --to prometheus: no such node \(nodes: claude-worker, monitoring-mcp\)/],
    ['a bad --port', SEED, { port: 'http' }, /--port must be a whole number 0-65535, got 'http'/],
    ['a NaN --port', SEED, { port: Number.NaN }, /--port must be a whole number/],
    ['a bad --proto', SEED, { proto: 'sctp' }, /--proto must be tcp, udp or icmp/],
  ])('exits 2 naming the file on %s', async (_name, text, overrides, stderr) => {
    const bad = await file('seed-bad.yaml', text);
    const outcome = await runFirewallCheck({ file: bad, from: 'claude-worker', to: 'monitoring-mcp', port: 8000, ...overrides });
    expect(outcome.exitCode).toBe(2);
    expect(outcome.stdout).toBe('');
    expect(outcome.stderr).toMatch(stderr);
    expect(outcome.stderr).toMatch(/^harness firewall check: /);
  });

  it('exits 2 naming a file it cannot read', async () => {
    const missing = path.join(dir, 'missing.yaml');
    const outcome = await runFirewallCheck({ file: missing, from: 'a', to: 'b', port: 1 });
    expect(outcome).toMatchObject({ exitCode: 2, stderr: `harness firewall check: ${missing}: cannot read: ENOENT\n` });
  });
});
