// The `harness` command as users run it: a child process, its exit code, stdout and stderr.
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { harness, root, cli } from './harness-cli.ts';

const base = path.join(root, 'scenarios/topologies/monitoring-dev.yaml');
const step0 = 'incidents/2025-10-01-prometheus-mcp/0-as-reported';
const step1 = 'incidents/2025-10-01-prometheus-mcp/1-after-firewall-fix';

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
    // The seed as reported, its dropped flow held for a minute: Claude Code is surely still waiting
    // on it when the signal comes, however slow the machine.
    const held = path.join(dir, 'held-for-a-minute.yaml');
    await writeFile(held, `extends: ${JSON.stringify(path.join(root, 'scenarios', `${step0}.yaml`))}\ntimeout_ms: 60000\nexpect: {prometheus: failed}\n`);
    const child = spawn(process.execPath, [cli, 'run', held, '--client', 'claude-code'], { cwd: root, env: { ...process.env, CI: 'true', TMPDIR: tmp }, stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    // Claude Code is under way once its temp dir exists.
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

  it('exits 2 naming the file and `expect` for a scenario that checks nothing, and runs nothing', async () => {
    const file = path.join(dir, 'no-expect.yaml');
    await writeFile(file, `extends: ${base}\ndescription: a step without expectations\n`);
    const junit = path.join(dir, 'reports/no-expect.xml');
    const { code, stdout, stderr } = await harness('run', file, '--junit', junit);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(`${file}: expect: no-expect checks nothing, so it cannot pass`);
    expect(stderr).not.toMatch(/\n\s+at /);
    await expect(readFile(junit, 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('exits 2 for a base topology run by path, pointing at `harness check`', async () => {
    const { code, stdout, stderr } = await harness('run', base);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(`${base}: expect:`);
    expect(stderr).toContain('base topology (under topologies/)');
    expect(stderr).toContain('harness check');
  });

  it('exits 2 for a matrix whose rules leave a member without an expectation for a server they check', async () => {
    const file = path.join(dir, 'holey-matrix.yaml');
    await writeFile(
      file,
      `extends: ${base}\nmatrix:\n  axes:\n    variant:\n      strict: {}\n      dev-mode: {nodes: {monitoring-mcp: {env: {MCP_JWT_AUDIENCE: null}}}}\n  expect:\n    - grafana: connected\n    - when: {variant: dev-mode}\n      prometheus: connected\n`,
    );
    const { code, stderr } = await harness('run', file);
    expect(code).toBe(2);
    expect(stderr).toContain(`${file}:8:5: matrix.expect: no rule gives prometheus an expectation for variant=strict`);
  });

  it('exits 2 when every scenario it was given was skipped: 0 passed, 0 failed, 3 skipped is not a success', async () => {
    const junit = path.join(dir, 'reports/byo.xml');
    const { code, stdout, stderr } = await harness('run', 'scenarios/byo', '--junit', junit);
    expect(code).toBe(2);
    expect(stdout).toContain('0 passed, 0 failed, 3 skipped');
    const xml = await readFile(junit, 'utf8');
    expect(xml.match(/<testsuite [^>]*skipped="1"/g)).toHaveLength(3);
    expect(xml.match(/<skipped message="[^"]*--runtime containers"\/>/g)).toHaveLength(3);
    expect(stderr).toContain('harness: nothing was checked: all 3 scenarios were skipped');
    expect(stderr).toContain('--runtime containers');
    const json = await harness('run', 'byo/echo-mcp-as-reported', '--json');
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, results: [{ scenario: 'byo/echo-mcp-as-reported', ok: true, skipped: expect.any(String) }] });
  });

  it.each([
    [['--concurrency', 'abc'], "option '--concurrency <n>' argument 'abc' is invalid"],
    [['--concurrency', '0'], "option '--concurrency <n>' argument '0' is invalid. expected a whole number, at least 1"],
    [['--concurrency', '2.5'], "option '--concurrency <n>' argument '2.5' is invalid"],
    [['--timeout-ms', '0'], "option '--timeout-ms <ms>' argument '0' is invalid. expected a whole number, at least 1"],
    [['--jwks-timeout-ms', '30s'], "option '--jwks-timeout-ms <ms>' argument '30s' is invalid"],
  ])('exits 2 for %j, before running anything and without a stack trace', async (flags, message) => {
    const { code, stdout, stderr } = await harness('run', step0, ...flags);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(message);
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('takes a valid --concurrency', async () => {
    const { code, stdout } = await harness('run', step0, step1, '--concurrency', '1');
    expect(code).toBe(0);
    expect(stdout).toContain('2 passed, 0 failed');
  });

  it("runs with the real components' 30 s bounds at no wall time in-process, and waits them out with --real-time", async () => {
    const { code, stdout } = await harness('run', step0, step1, '--timeout-ms', '30000', '--mcp-timeout', '30000', '--jwks-timeout-ms', '29000', '--json');
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as { results: { scenario: string; elapsedMs: number; waitedMs?: number }[] };
    // The dropped flow of step 0 was held 30 s on the scenario's clock; step 1 waited for nothing.
    expect(report.results.map((result) => [result.scenario, result.waitedMs])).toEqual([[step0, 30_000], [step1, 0]]);
    expect(report.results[0]!.elapsedMs).toBeLessThan(10_000);
    const real = await harness('run', step0, '--timeout-ms', '300', '--real-time', '--json');
    expect(real.code).toBe(0);
    const realReport = JSON.parse(real.stdout) as { results: { elapsedMs: number; waitedMs?: number }[] };
    expect(realReport.results[0]!.waitedMs).toBeUndefined();
    expect(realReport.results[0]!.elapsedMs).toBeGreaterThanOrEqual(300);
  });

  it("sets the worker's MCP_TIMEOUT with --mcp-timeout, in run and explain", async () => {
    // Step 0's dropped flow is held 1500 ms per attempt: a 1000 ms MCP_TIMEOUT ends the wait first.
    const { code, stdout } = await harness('run', step0, '--mcp-timeout', '1000', '--json');
    expect(code).toBe(1);
    const [result] = (JSON.parse(stdout) as { results: { waitedMs?: number; mcp_servers: { name: string; status: string }[] }[] }).results;
    expect(result!.waitedMs).toBe(1000);
    expect(result!.mcp_servers.find((server) => server.name === 'prometheus')!.status).toBe('pending');
    const explained = await harness('explain', step0, '--mcp-timeout', '1000');
    expect(explained.code).toBe(1);
    expect(explained.stdout).toContain('pending');
  });

  it('exits 2 for an id that names no scenario', async () => {
    const { code, stderr } = await harness('run', 'incidents/nope');
    expect(code).toBe(2);
    expect(stderr).toContain('no scenario file, folder or id "incidents/nope"');
  });
});

describe('harness list', () => {
  it('lists every scenario id, and one per file with --files', async () => {
    const all = (JSON.parse((await harness('list', '--json')).stdout) as { id: string }[]).map((entry) => entry.id);
    const files = (JSON.parse((await harness('list', '--json', '--files')).stdout) as { id: string }[]).map((entry) => entry.id);
    expect(all).toContain(step0);
    expect(all).toContain('matrix/tokens-x-firewall-x-variant/token=valid/firewall=pr-26/variant=strict');
    expect(files).toContain('matrix/tokens-x-firewall-x-variant');
    expect(files.length).toBeLessThan(all.length);
  });

  it('says which runtime each scenario needs: containers for one that brings its own server', async () => {
    const files = JSON.parse((await harness('list', '--json', '--files')).stdout);
    expect(files).toContainEqual({ id: 'byo/echo-mcp-as-reported', file: 'scenarios/byo/echo-mcp-as-reported.yaml', runtime: 'containers' });
    expect(files).toContainEqual({ id: step0, file: `scenarios/${step0}.yaml`, runtime: 'inprocess' });
    expect(files).toContainEqual({ id: 'matrix/tokens-x-firewall-x-variant', file: 'scenarios/matrix/tokens-x-firewall-x-variant.yaml', runtime: 'inprocess' });
    const text = (await harness('list')).stdout.split('\n');
    expect(text).toContain('byo/echo-mcp-as-reported\tcontainers');
    expect(text).toContain(`${step0}\tinprocess`);
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

describe('harness explain on the key rotation', () => {
  const rotation = 'incidents/2026-12-01-key-rotation';

  it('names the PyJWT 2.15 cooldown behind the 401 and how to pass', async () => {
    const { code, stdout } = await harness('explain', `${rotation}/0-as-reported-pyjwt-2.15`);
    expect(code).toBe(0);
    expect(stdout).toContain('prometheus: failed');
    expect(stdout).toContain("version: PyJWT 2.15: an unknown kid refetches the JWKS only when cooldown_duration (30 s) has passed since the last fetch (monitoring-mcp's PYJWT_VERSION)");
    expect(stdout).toContain('to pass: publish a new key in the JWKS at least cooldown_duration (30 s) before signing with it');
  });

  it('names the PyJWT 2.12 refetch behind the connection', async () => {
    const { code, stdout } = await harness('explain', `${rotation}/1-pinned-pyjwt-2.12`);
    expect(code).toBe(0);
    expect(stdout).toMatch(/prometheus: connected[^\n]*\n  6 tools: [^\n]*\n  version: PyJWT 2\.12: every unknown kid refetches the JWKS once \(monitoring-mcp's PYJWT_VERSION\)/);
  });
});

describe('harness explain on a server that speaks only MCP 2026-07-28', () => {
  it('names the revisions the server speaks and the one the worker is pinned to', async () => {
    const { code, stdout } = await harness('explain', 'incidents/2026-12-01-mcp-2026-07-28/0-new-only-servers');
    expect(code).toBe(0);
    expect(stdout).toContain('why: protocol.revision_mismatch: ');
    expect(stdout).toContain("version: MCP revision: monitoring-mcp speaks 2026-07-28 (monitoring-mcp's MCP_REVISIONS); the worker is pinned to 2025-11-25 (client_revision)");
    expect(stdout).toContain('to pass: set MCP_REVISIONS: both on monitoring-mcp');
  });

  it('names the version probe behind a doubled JWKS wait on an older server', async () => {
    const { code, stdout } = await harness('explain', 'incidents/2026-12-01-mcp-probe-timing/0-jwks-wait-doubled');
    expect(code).toBe(0);
    expect(stdout).toContain('version: MCP revision: the worker probes with server/discover (2026-07-28) first, as Claude Code 2.1.332 does; monitoring-mcp speaks only 2025-11-25');
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

  it('exits as run does: 1 when an expectation is unmet (the picture still drawn), 2 for a file that checks nothing', async () => {
    const file = path.join(dir, 'diagram-wrong.yaml');
    await writeFile(file, `extends: ${base}\nexpect:\n  prometheus: connected\n`);
    const unmet = await harness('diagram', file);
    expect(unmet.code).toBe(1);
    expect(unmet.stdout.startsWith('flowchart LR\n')).toBe(true);
    const nothing = await harness('diagram', base);
    expect(nothing.code).toBe(2);
    expect(nothing.stdout).toBe('');
    expect(nothing.stderr).toContain(`${base}: expect:`);
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

  it.each(['abc', '70000', '-1'])('exits 2 for --port %s', async (port) => {
    const { code, stdout, stderr } = await harness('firewall', 'check', base, '--from', 'claude-worker', '--to', 'monitoring-mcp', '--port', port);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(`option '--port <n>' argument '${port}' is invalid. expected a whole number from 0 to 65535`);
    expect(stderr).not.toMatch(/\n\s+at /);
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

describe('harness check, with a server name that Claude Code normalises', () => {
  const config = `mcp_servers:
  graf.ana:
    type: "http"
    url: "http://monitoring-ai-mcp.service.dev-us-east-1.consul:8000/monitoring/v1/mcp?toolset=grafana"
    headers:
      Authorization: "Bearer orchestration-agent"
`;

  it('exits 1 when settings.json does not allow the tools of `graf.ana` (named mcp__graf_ana__...)', async () => {
    const file = path.join(dir, 'dotted-agent_config.yaml');
    await writeFile(file, config);
    // The base's settings allow mcp__grafana, mcp__alertmanager and mcp__prometheus only.
    const { code, stdout } = await harness('check', file, '--topology', base);
    expect(code).toBe(1);
    expect(stdout).toContain('graf.ana: connected');
    expect(stdout).toContain('not allowed by settings.json: mcp__graf_ana__search_dashboards');
    expect(stdout).toContain('to pass: add "mcp__graf_ana" (or the tools one by one) to permissions.allow');
    const json = await harness('check', file, '--topology', base, '--json');
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout);
    expect(report.ok).toBe(false);
    expect(report.results[0].mcp_servers[0]).toMatchObject({ name: 'graf.ana', status: 'connected', ok: false });
    expect(report.results[0].mcp_servers[0].unpermitted).toHaveLength(4);
  });

  it('exits 0 when settings.json allows them by their normalised name', async () => {
    const file = path.join(dir, 'dotted-agent_config-2.yaml');
    const settings = path.join(dir, 'dotted-settings.json');
    await writeFile(file, config);
    await writeFile(settings, '{"permissions": {"allow": ["mcp__graf_ana"]}}');
    const { code, stdout } = await harness('check', file, '--topology', base, '--settings', settings);
    expect(code).toBe(0);
    expect(stdout).toContain('graf.ana: connected');
    expect(stdout).not.toContain('not allowed');
  });
});
