import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { runFirewallCheck } from './firewall-check.ts';
import { parseFirewall } from './firewall.ts';
import type { NetworkNode } from './names.ts';
import type { NebulaVersion } from './versions.ts';

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


const SOURCE = 'topology.yaml';

/** The nodes of a small YAML network (the CLI reads them with the topology loader). */
function nodesOf(text: string, nebula?: NebulaVersion): NetworkNode[] {
  const { nodes } = parse(text) as { nodes: Record<string, { ip?: string; groups?: string[]; ca_name?: string; firewall?: unknown }> };
  return Object.entries(nodes).map(([name, node], index) => ({
    identity: { name, ip: node.ip ?? `10.10.0.${index + 1}`, groups: node.groups ?? [], ...(node.ca_name ? { caName: node.ca_name } : {}) },
    firewall: parseFirewall(node.firewall, nebula ? { nebula } : {}),
  }));
}

describe('runFirewallCheck', () => {
  it('prints the drop and both sides\' reasons for the seed\'s first state', async () => {
    const outcome = await runFirewallCheck({ nodes: nodesOf(SEED), source: SOURCE, from: 'claude-worker', to: 'monitoring-mcp', port: 8000 });
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

  it.each([
    ['1.10', 'drop', 'inbound_action drop'],
    ['1.11', 'reject', 'outbound_action reject'],
    ['1.6', 'drop', 'drop: no reject action before Nebula 1.7'],
  ] as const)('names the setting that answers an outbound denial on Nebula %s', async (nebula, verdict, answer) => {
    const text = SEED.replace('    firewall:\n      outbound:', '    firewall:\n      outbound_action: reject\n      outbound:');
    const outcome = await runFirewallCheck({ nodes: nodesOf(text, nebula), source: SOURCE, from: 'claude-worker', to: 'monitoring-mcp', port: 8000 });
    const lines = outcome.stdout.split('\n');
    expect(lines[0]).toBe(`claude-worker -> monitoring-mcp:8000/tcp: ${verdict}`);
    expect(lines[1]).toBe(`  outbound claude-worker: denied (${answer}): no rule matches`);
  });

  it('prints JSON with the verdict and each side\'s node, rule and reason', async () => {
    const outcome = await runFirewallCheck({ nodes: nodesOf(AFTER_PR_26), source: SOURCE, from: 'claude-worker', to: '10.10.0.2', port: '8000', proto: 'tcp', json: true });
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
    const outcome = await runFirewallCheck({ nodes: nodesOf(SEED), source: SOURCE, from: 'monitoring-mcp', to: 'claude-worker', port: 22 });
    expect(outcome.exitCode).toBe(0);
    expect(outcome.stdout).toContain('  outbound monitoring-mcp: denied (outbound_action drop): no outbound rules (default deny)');
  });

  it('warns on stderr about what Nebula would warn about', async () => {
    const warn = nodesOf(SEED.replace('    firewall:\n      outbound:', '    firewall:\n      outbound_action: deny\n      outbound:'));
    const outcome = await runFirewallCheck({ nodes: warn, source: SOURCE, from: 'claude-worker', to: 'monitoring-mcp', port: 8000 });
    expect(outcome.exitCode).toBe(0);
    expect(outcome.stderr).toBe(`warning: ${SOURCE}: nodes.claude-worker.firewall: invalid firewall.outbound_action \`deny\`, defaulting to \`drop\`\n`);
  });

  it.each([
    ['two nodes on one ip', 'nodes:\n  a: {ip: 10.1.0.1}\n  b: {ip: 10.1.0.1}\n', { from: 'a', to: 'b' }, /topology\.yaml: nodes a and b both have overlay IP 10\.1\.0\.1/],
    ['an unknown --to node', SEED, { to: 'prometheus' }, /topology\.yaml: --to prometheus: no such node \(nodes: claude-worker, monitoring-mcp\)/],
    ['a bad --port', SEED, { port: 'http' }, /--port must be a whole number 0-65535, got 'http'/],
    ['a NaN --port', SEED, { port: Number.NaN }, /--port must be a whole number/],
    ['a bad --proto', SEED, { proto: 'sctp' }, /--proto must be tcp, udp or icmp/],
  ])('exits 2 naming the source on %s', async (_name, text, overrides, stderr) => {
    const outcome = await runFirewallCheck({ nodes: nodesOf(text), source: SOURCE, from: 'claude-worker', to: 'monitoring-mcp', port: 8000, ...overrides });
    expect(outcome.exitCode).toBe(2);
    expect(outcome.stdout).toBe('');
    expect(outcome.stderr).toMatch(stderr);
    expect(outcome.stderr).toMatch(/^harness firewall check: /);
  });
});
