// The `harness` command as users run it: a child process, its exit code, stdout and stderr.
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

const root = path.resolve(import.meta.dirname, '..');
const cli = path.join(root, 'harness/cli.ts');
const base = path.join(root, 'scenarios/topologies/monitoring-dev.yaml');
const step0 = 'incidents/2025-10-01-prometheus-mcp/0-as-reported';
const step1 = 'incidents/2025-10-01-prometheus-mcp/1-after-firewall-fix';

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

async function harness(...args: string[]): Promise<Outcome> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [cli, ...args], { cwd: root, env: { ...process.env, CI: 'true' } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'mth-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('harness run', () => {
  it('leaves no Claude Code process or temp dir behind when interrupted (SIGINT) while Claude Code runs', async () => {
    const tmp = await mkdtemp(path.join(dir, 'tmp-'));
    const child = spawn(process.execPath, [cli, 'run', step0, '--client', 'claude-code'], { cwd: root, env: { ...process.env, CI: 'true', TMPDIR: tmp }, stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    // Claude Code is under way once its temp dir exists (it holds a dropped flow for seconds then).
    await vi.waitFor(async () => expect((await readdir(tmp)).some((name) => name.startsWith('mth-claude-'))).toBe(true), { timeout: 30_000, interval: 50 });
    const [claudeDir] = (await readdir(tmp)).filter((name) => name.startsWith('mth-claude-'));
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect((await readdir(tmp)).filter((name) => name.startsWith('mth-claude-'))).toEqual([]);
    const { stdout } = await promisify(execFile)('ps', ['-eo', 'args']);
    expect(stdout.split('\n').filter((line) => line.includes(claudeDir!))).toEqual([]);
  }, 60_000);

  it('runs the real Claude Code as the worker with --client claude-code, and names a missing --claude-bin', async () => {
    const ran = await harness('run', step1, '--client', 'claude-code', '--json');
    expect(ran.code).toBe(0);
    const report = JSON.parse(ran.stdout) as { ok: boolean; results: { client?: { name: string; version?: string }; mcp_servers: { name: string; status: string }[] }[] };
    expect(report.results[0]!.client).toEqual({ name: 'claude-code', version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
    expect(report.results[0]!.mcp_servers.map((server) => [server.name, server.status])).toEqual([
      ['grafana', 'connected'],
      ['alertmanager', 'connected'],
      ['prometheus', 'failed'],
    ]);
    const missing = await harness('run', step1, '--client', 'claude-code', '--claude-bin', path.join(dir, 'no-claude'));
    expect(missing.code).toBe(1);
    expect(missing.stdout).toContain('ERR_CLAUDE_MISSING');
    expect(missing.stderr).not.toMatch(/\n\s+at /);
    const wrong = await harness('run', step1, '--client', 'codex');
    expect(wrong.code).toBe(2);
  }, 60_000);

  it('exits 1 with a table showing the mismatch when an expectation is wrong', async () => {
    const file = path.join(dir, 'wrong.yaml');
    await writeFile(file, `extends: ${base}\nexpect:\n  grafana: connected\n  prometheus: connected\n`);
    const { code, stdout } = await harness('run', file);
    expect(code).toBe(1);
    expect(stdout).toContain('FAIL wrong');
    expect(stdout).toMatch(/│ prometheus\s+│ connected\s+│ failed/);
    expect(stdout).toContain('✗ prometheus: status is failed, expected connected');
    expect(stdout).toContain('0 passed, 1 failed');
  });

  it('passes two runs at once on one machine (no fixed ports, no shared state)', async () => {
    const [a, b] = await Promise.all([harness('run', step0, step1), harness('run', step1, step0)]);
    expect([a.code, b.code]).toEqual([0, 0]);
    expect(a.stdout).toContain('2 passed, 0 failed');
    expect(b.stdout).toContain('2 passed, 0 failed');
  });

  it('prints one JSON document and nothing else with --json, and a JUnit file on request', async () => {
    const junit = path.join(dir, 'reports/harness.xml');
    const { code, stdout } = await harness('run', step0, '--json', '--junit', junit);
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(report.results).toHaveLength(1);
    expect(report.results[0]).toMatchObject({ scenario: step0, ok: true });
    const prometheus = report.results[0].mcp_servers.find((server: { name: string }) => server.name === 'prometheus');
    expect(prometheus).toMatchObject({ status: 'failed', expected: { status: 'failed', reason: 'network.dropped' } });
    expect(prometheus.reason.kind).toBe('network.dropped');
    expect(prometheus.reason.hop).toMatchObject({ from: 'claude-worker', to: 'monitoring-mcp', port: 8000, verdict: 'drop' });
    const xml = await readFile(junit, 'utf8');
    expect(xml).toContain(`<testsuite name="${step0}" tests="3" failures="0"`);
  });

  it('exits 2 naming file, line and field for a malformed scenario, without a stack trace', async () => {
    const file = path.join(dir, 'malformed.yaml');
    await writeFile(file, `extends: ${base}\nexpect:\n  prometheus: {status: connectd}\n`);
    const { code, stdout, stderr } = await harness('run', file);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(`${file}:3`);
    expect(stderr).toContain('expect.prometheus');
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('exits 2 for an id that names no scenario', async () => {
    const { code, stderr } = await harness('run', 'incidents/nope');
    expect(code).toBe(2);
    expect(stderr).toContain('no scenario file, folder or id "incidents/nope"');
  });
});

describe('harness list', () => {
  it('lists every scenario id, and one per file with --files', async () => {
    const all = JSON.parse((await harness('list', '--json')).stdout) as string[];
    const files = JSON.parse((await harness('list', '--json', '--files')).stdout) as string[];
    expect(all).toContain(step0);
    expect(all).toContain('matrix/tokens-x-firewall-x-variant/token=valid/firewall=pr-26/variant=strict');
    expect(files).toContain('matrix/tokens-x-firewall-x-variant');
    expect(files.length).toBeLessThan(all.length);
  });
});

describe('harness explain', () => {
  it('names the hop, the rule and the fix for the dropped flow', async () => {
    const { code, stdout } = await harness('explain', step0);
    expect(code).toBe(0);
    expect(stdout).toContain("hop: claude-worker -> monitoring-mcp:8000 (drop by claude-worker's outbound rules)");
    expect(stdout).toContain('needs monitoring-ai-mcp; monitoring-mcp has [monitoring-mcp, vault:monitoring-mcp-dev, dev, us-east-1]');
    expect(stdout).toContain("to pass: add to claude-worker's firewall.outbound: {port: 8000, proto: tcp, groups: [dev, monitoring-mcp]}");
  });
});

describe('harness diagram', () => {
  it('draws the dropped flow and each server\'s status as a Mermaid flowchart', async () => {
    const { code, stdout } = await harness('diagram', step0);
    expect(code).toBe(0);
    expect(stdout.startsWith('flowchart LR\n')).toBe(true);
    expect(stdout).toContain('claude_worker -- "8000/tcp drop" --x monitoring_mcp');
    expect(stdout).toContain('claude_worker -- "8000/tcp allow" --> monitoring_ai_mcp');
    expect(stdout).toContain('claude_worker -. "prometheus: failed: network.dropped" .-> monitoring_mcp');
  });
});

describe('harness firewall check', () => {
  it('reads topology files as every scenario is read: a step that extends and patches its base', async () => {
    const before = await harness('firewall', 'check', base, '--from', 'claude-worker', '--to', 'monitoring-mcp', '--port', '8000');
    const after = await harness('firewall', 'check', `scenarios/${step1}.yaml`, '--from', 'claude-worker', '--to', 'monitoring-mcp', '--port', '8000', '--json');
    expect(before.code).toBe(0);
    expect(before.stdout.split('\n')[0]).toBe('claude-worker -> monitoring-mcp:8000/tcp: drop');
    expect(after.code).toBe(0);
    expect(JSON.parse(after.stdout)).toMatchObject({ verdict: 'allow', outbound: { rule: 'port 8000/tcp groups [dev, monitoring-mcp]' } });
  });

  it('exits 2 naming file, line and field for a firewall section Nebula would refuse', async () => {
    const file = path.join(dir, 'bad-firewall.yaml');
    await writeFile(file, `extends: ${base}\npatch:\n  nodes:\n    claude-worker:\n      firewall:\n        outbound:\n          - {port: http, proto: tcp, group: dev}\n`);
    const { code, stdout, stderr } = await harness('firewall', 'check', file, '--from', 'claude-worker', '--to', 'monitoring-mcp', '--port', '8000');
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(`${file}:7`);
    expect(stderr).toContain('nodes.claude-worker.firewall.outbound[0]');
    expect(stderr).toContain('port was not a number');
  });
});

describe('harness check', () => {
  it("checks a user's agent_config.yaml against a base topology", async () => {
    const config = path.join(dir, 'agent_config.yaml');
    await writeFile(
      config,
      `mcp_servers:
  prometheus:
    type: "http"
    url: "http://monitoring-mcp.service.dev-us-east-1.consul:8000/v1/mcp"
    headers:
      Authorization: "Bearer \${PROMETHEUS_TOKEN:-orchestration-agent}"
`,
    );
    const { code, stdout } = await harness('check', config, '--topology', base);
    expect(code).toBe(1);
    expect(stdout).toContain('prometheus: failed');
    expect(stdout).toContain('network.dropped');
  });
});
