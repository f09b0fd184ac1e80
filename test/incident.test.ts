// From the user's own material to a scenario: `harness new incident` and `harness check` as users run them.
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { harness, root } from './harness-cli.ts';

// The seed's agent_config.yaml, the worker's deploy file (nebula.firewall), its pod (groups
// annotation), monitoring-mcp's certificate (nebula-cert print -json) and the reported log line.
const SEED = path.join(root, 'test/fixtures/seed-2025-10-01');
// A base without the incident's firewall or groups: what reproduces the report comes from the seed's files.
const OPEN_BASE = path.join(SEED, 'open-base.yaml');

const seedMaterial = async () => [
  '--topology', OPEN_BASE,
  '--config', path.join(SEED, 'agent_config.yaml'),
  '--nebula', `claude-worker=${path.join(SEED, 'gondola.yaml')}`,
  '--groups', `claude-worker=@${path.join(SEED, 'claude-worker-pod.yaml')}`,
  '--groups', `monitoring-mcp=@${path.join(SEED, 'monitoring-mcp-cert.json')}`,
];

let scenarios: string;
beforeEach(async () => {
  scenarios = await mkdtemp(path.join(os.tmpdir(), 'mth-incident-'));
});
afterEach(async () => {
  await rm(scenarios, { recursive: true, force: true });
});

describe('harness new incident', () => {
  it("writes a step 0 from the seed's own material that reproduces the report", async () => {
    const { code, stdout, stderr } = await harness('new', 'incident', 'prometheus-mcp', '--root', scenarios, '--date', '2025-10-01', ...(await seedMaterial()), '--reported', `@${path.join(SEED, 'reported.txt')}`, '--json');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const made = JSON.parse(stdout);
    const file = path.join(scenarios, 'incidents/2025-10-01-prometheus-mcp/0-as-reported.yaml');
    expect(made).toMatchObject({ file, reproduces: true, differences: [] });
    // Reproduced for the incident's reason: the seed's firewall drops the flow (the open base would let it through to a 401).
    const prometheus = made.report.results[0].mcp_servers.find((server: { name: string }) => server.name === 'prometheus');
    expect(prometheus).toMatchObject({ status: 'failed', reason: { kind: 'network.dropped', detail: expect.stringContaining('groups [dev, monitoring-ai-mcp]'), hop: { from: 'claude-worker', to: 'monitoring-mcp', side: 'outbound' } } });
    expect(made.inputs).toEqual(
      expect.arrayContaining([
        { part: 'claude-worker firewall', source: 'yours', from: expect.stringContaining('gondola.yaml (nebula.firewall:, verbatim)') },
        { part: 'monitoring-mcp groups', source: 'yours', from: expect.stringContaining('nebula-cert print -json') },
        { part: 'claude-worker settings.json', source: 'base', from: expect.stringContaining('open-base.yaml nodes.claude-worker.worker.settings') },
        { part: 'auth-server groups', source: 'base', from: expect.stringContaining('[auth-server, dev, us-east-1]') },
      ]),
    );
    // The step stands on its own: the config was copied beside it, and harness run agrees.
    const text = await readFile(file, 'utf8');
    expect(text).toContain('config_file: files/agent_config.yaml');
    expect(existsSync(path.join(path.dirname(file), 'files/agent_config.yaml'))).toBe(true);
    const run = await harness('run', file, '--root', scenarios);
    expect(run.stdout).toContain('1 passed, 0 failed');
    expect(run.code).toBe(0);
  });

  it('says which server differs from the report and why when it does not reproduce it', async () => {
    const reported = "'mcp_servers': [{'name': 'alertmanager', 'status': 'connected'}, {'name': 'grafana', 'status': 'connected'}, {'name': 'prometheus', 'status': 'connected'}]";
    const { code, stdout } = await harness('new', 'incident', 'prometheus-mcp', '--root', scenarios, '--date', '2025-10-01', ...(await seedMaterial()), '--reported', reported);
    expect(code).toBe(1);
    expect(stdout).toContain('the harness does NOT reproduce the report:');
    expect(stdout).toMatch(/prometheus: reported connected, the harness sees failed: network\.dropped: .*\(hop claude-worker -> monitoring-mcp:8000\)/);
    expect(stdout).not.toMatch(/grafana: reported/);
  });

  it('refuses a Nebula config without a firewall: section, naming file, line and field, and writes nothing', async () => {
    const { code, stderr } = await harness('new', 'incident', 'x', '--root', scenarios, '--topology', OPEN_BASE, '--nebula', `claude-worker=${path.join(SEED, 'agent_config.yaml')}`, '--reported', "'mcp_servers': []");
    expect(code).toBe(2);
    expect(stderr).toBe(`harness: ${path.join(SEED, 'agent_config.yaml')}:1: firewall: no firewall: section (nor nebula.firewall:): --nebula takes the node's Nebula config.yml or its deploy file\n`);
    expect(await readdir(scenarios)).toEqual([]);
  });

  it('refuses a log line that is not an mcp_servers list, and a step 0 that exists', async () => {
    const bad = await harness('new', 'incident', 'x', '--root', scenarios, '--topology', OPEN_BASE, '--reported', 'prometheus: failed');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('harness: --reported: no mcp_servers list in it');
    const args = ['new', 'incident', 'x', '--root', scenarios, '--date', '2025-10-01', '--topology', OPEN_BASE, '--reported', "'mcp_servers': [{'name': 'grafana', 'status': 'connected'}]"];
    await harness(...args);
    const again = await harness(...args);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/0-as-reported\.yaml exists \(--force overwrites it\)/);
  });
});

describe('harness check, with the user\'s own material', () => {
  it('takes firewall, groups and tokens, and says which part came from where', async () => {
    const args = ['check', path.join(SEED, 'agent_config.yaml'), '--topology', OPEN_BASE];
    const open = await harness(...args);
    expect(open.stdout).toMatch(/claude-worker firewall\s+base\s+\S*open-base\.yaml nodes\.claude-worker\.firewall/);
    expect(open.stdout).toMatch(/claude-worker settings\.json\s+base/);
    expect(open.stdout).toContain('auth.invalid_token');

    const seed = await harness(...args, '--nebula', `claude-worker=${path.join(SEED, 'gondola.yaml')}`, '--groups', `monitoring-mcp=@${path.join(SEED, 'monitoring-mcp-cert.json')}`, '--token', 'PROMETHEUS_TOKEN=valid');
    expect(seed.code).toBe(1);
    expect(seed.stdout).toMatch(/claude-worker firewall\s+yours\s+\S*gondola\.yaml/);
    expect(seed.stdout).toMatch(/token PROMETHEUS_TOKEN\s+yours\s+--token PROMETHEUS_TOKEN=valid/);
    expect(seed.stdout).toContain('network.dropped');
  });

  it('refuses an unknown node in --groups before starting anything', async () => {
    const { code, stderr } = await harness('check', path.join(SEED, 'agent_config.yaml'), '--topology', OPEN_BASE, '--groups', 'grafana=dev');
    expect(code).toBe(2);
    expect(stderr).toMatch(/^harness: --groups grafana=\.\.\.: the base topology \S+open-base\.yaml has no node grafana \(nodes: claude-worker, /);
  });
});
