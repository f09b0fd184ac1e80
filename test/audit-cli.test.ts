// `harness audit` as users run it: a child process, its exit code, stdout and the files it writes.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Log } from 'sarif';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { harness, root, type Outcome } from './harness-cli.ts';

const base = path.join(root, 'scenarios/topologies/monitoring-dev.yaml');

let dir: string;
let text: Outcome;
let junit: string;
let sarif: Log;
let source: string;
beforeAll(async () => {
  source = await readFile(base, 'utf8');
  dir = await mkdtemp(path.join(os.tmpdir(), 'mth-audit-cli-'));
  text = await harness('audit', 'scenarios/topologies/monitoring-dev.yaml', '--junit', path.join(dir, 'audit.xml'), '--sarif', path.join(dir, 'out/audit.sarif'));
  junit = await readFile(path.join(dir, 'audit.xml'), 'utf8');
  sarif = JSON.parse(await readFile(path.join(dir, 'out/audit.sarif'), 'utf8')) as Log;
}, 60_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

/** The lines of one target's section: its header line up to the next target's header. */
function section(stdout: string, server: string): string {
  const start = stdout.search(new RegExp(`\\n${server}[ :]`));
  expect(start, `no section for ${server}`).toBeGreaterThan(0);
  const next = stdout.slice(start + 1).search(/\n[a-z]/);
  return stdout.slice(start, next === -1 ? undefined : start + 1 + next);
}

describe('harness audit (text)', () => {
  it('reports that monitoring-ai-mcp accepts unsigned and expired tokens and sends no WWW-Authenticate, and exits 1', () => {
    expect(text.code).toBe(1);
    const grafana = section(text.stdout, 'grafana');
    expect(grafana).toContain('CRITICAL token.alg-none: accepts the alg-none token: answered 200');
    expect(grafana).toContain('HIGH     token.expired: accepts the expired token: answered 200');
    expect(grafana).toContain('MEDIUM   challenge.www-authenticate: answered 200 to a request without a token: no 401, no WWW-Authenticate');
    expect(grafana).toMatch(/breaks: \[\d+\] MCP 2025-11-25, Authorization > Access Token Usage > Token Handling/);
    expect(text.stdout).toMatch(/FAIL \(a finding at high or above\)\n$/);
  });

  it('reports that monitoring-mcp does not validate the audience, judged directly since the worker cannot reach it', () => {
    const prometheus = section(text.stdout, 'prometheus');
    expect(prometheus).toContain('via direct to monitoring-mcp (claude-worker\'s firewall would drop claude-worker -> monitoring-mcp:8000/tcp)');
    expect(prometheus).toContain('HIGH     token.no-audience: accepts the no-audience token: answered 200');
    expect(prometheus).toContain('HIGH     token.wrong-audience: accepts the wrong-audience token: answered 200');
    expect(prometheus).not.toContain('token.alg-none');
    expect(prometheus).not.toContain('token.expired');
  });

  it('prints the worker\'s reachability and shows tokens by kind, never in full', () => {
    expect(text.stdout).toContain('allow  monitoring-ai-mcp:8000/tcp (monitoring-ai-mcp.service.dev-us-east-1.consul) by outbound port 8000/tcp groups [dev, monitoring-ai-mcp], inbound port 8000/tcp group dev');
    expect(text.stdout).toMatch(/drop {3}monitoring-mcp:8000\/tcp/);
    expect(section(text.stdout, 'claude-worker')).toContain('MEDIUM   net.worker-reaches: prometheus: drop claude-worker -> monitoring-mcp:8000/tcp');
    expect(text.stdout).toMatch(/Authorization: Bearer <alg-none token, \d+ chars>/);
    expect(text.stdout).not.toContain('eyJ');
  });
});

describe('harness audit --junit', () => {
  it('writes one testcase per check, a failure per finding with its severity', () => {
    const cases = junit.match(/<testcase /g)?.length ?? 0;
    const failures = junit.match(/<failure /g)?.length ?? 0;
    const checks = Number(/(\d+) checks:/.exec(text.stdout)![1]);
    expect(cases).toBe(checks);
    expect(failures).toBeGreaterThan(20);
    expect(junit).toMatch(/<testcase classname="audit.grafana" name="token.alg-none: [^"]+"><failure type="critical" message="accepts the alg-none token: answered 200">/);
    expect(junit).toMatch(/<testcase classname="audit.prometheus" name="token.expired: [^"]+"><\/testcase>/);
  });
});

describe('harness audit --sarif', () => {
  it('writes a SARIF 2.1.0 log with the fields the schema requires and GitHub reads', () => {
    expect(sarif.version).toBe('2.1.0');
    expect(sarif.$schema).toBe('https://json.schemastore.org/sarif-2.1.0.json');
    expect(sarif.runs).toHaveLength(1);
    const run = sarif.runs[0]!;
    expect(run.tool.driver.name).toBe('harness audit');
    const rules = run.tool.driver.rules!;
    expect(new Set(rules.map((rule) => rule.id)).size).toBe(rules.length);
    expect(rules.find((rule) => rule.id === 'token.alg-none')?.helpUri).toBe('https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#token-handling');
    expect(rules.find((rule) => rule.id === 'token.alg-none')?.properties?.['security-severity']).toBe('9.5');
    expect(run.results!.length).toBeGreaterThan(20);
    const lines = source.split('\n');
    for (const result of run.results!) {
      expect(result.message.text).toBeTruthy();
      expect(['error', 'warning', 'note']).toContain(result.level);
      expect(rules[result.ruleIndex!]!.id).toBe(result.ruleId);
      const location = result.locations![0]!.physicalLocation!;
      expect(location.artifactLocation!.uri).toBe('scenarios/topologies/monitoring-dev.yaml');
      expect(location.region!.startLine).toBeGreaterThanOrEqual(1);
      expect(JSON.stringify(result)).not.toContain('eyJ');
    }
    const algNone = run.results!.find((result) => result.ruleId === 'token.alg-none' && result.message.text?.startsWith('grafana:'))!;
    expect(algNone.level).toBe('error');
    expect(lines[algNone.locations![0]!.physicalLocation!.region!.startLine! - 1]).toMatch(/^ {2}monitoring-ai-mcp:$/);
  });
});

describe('harness audit --json and exit codes', () => {
  it('prints one JSON document with the counts and every check, and exits 1', async () => {
    const { code, stdout } = await harness('audit', base, '--json');
    expect(code).toBe(1);
    const document = JSON.parse(stdout) as { ok: boolean; failOn: string; counts: Record<string, number>; checks: { id: string; target: string; status: string }[] };
    expect([document.ok, document.failOn]).toEqual([false, 'high']);
    expect(document.counts.critical).toBe(10);
    expect(document.checks.find((check) => check.target === 'prometheus' && check.id === 'token.alg-none')?.status).toBe('pass');
    expect(stdout).not.toContain('eyJ');
  }, 30_000);

  it('exits 0 when no finding reaches --fail-on (monitoring-mcp alone, fail on critical)', async () => {
    const file = path.join(dir, 'prometheus-only.yaml');
    await writeFile(file, `extends: ${base}\npatch:\n  nodes:\n    claude-worker:\n      worker:\n        mcp_servers:\n          grafana: null\n          alertmanager: null\n`);
    const { code, stdout } = await harness('audit', file, '--fail-on', 'critical');
    expect(code).toBe(0);
    expect(stdout).toMatch(/0 critical, \d+ high, .*; ok \(nothing at critical or above\)\n$/);
  }, 30_000);

  it('reports nothing above info for monitoring-mcp in spec mode, and exits 0 once only it is listed and reachable', async () => {
    const whole = await harness('audit', 'scenarios/topologies/monitoring-dev-spec.yaml', '--json');
    const document = JSON.parse(whole.stdout) as { checks: { id: string; target: string; status: string; severity: string }[] };
    const prometheus = document.checks.filter((check) => check.target === 'prometheus');
    expect(prometheus.length).toBeGreaterThan(20);
    expect(prometheus.filter((check) => check.status === 'fail' && check.severity !== 'info')).toEqual([]);
    expect(whole.code).toBe(1); // monitoring-ai-mcp is still in it
    const file = path.join(dir, 'spec-only.yaml');
    await writeFile(file, `extends: ${path.join(root, 'scenarios/spec-mode/1-rfc8707-token-connects.yaml')}\npatch:\n  nodes:\n    claude-worker:\n      firewall:\n        outbound:\n          - {port: 8000, proto: tcp, groups: [dev, monitoring-mcp]}\n      worker:\n        mcp_servers:\n          grafana: null\n          alertmanager: null\n`);
    const { code, stdout } = await harness('audit', file);
    expect(stdout).toMatch(/0 critical, 0 high, 0 medium, 0 low, \d+ info findings; ok \(nothing at high or above\)\n$/);
    expect(code).toBe(0);
  }, 30_000);

  it('reports a server whose URL does not expand (an unset variable) and audits the others', async () => {
    const file = path.join(dir, 'unset-url.yaml');
    await writeFile(file, `extends: ${base}\npatch:\n  nodes:\n    claude-worker:\n      worker:\n        env: {MONITORING_AI_MCP_URL: null}\n`);
    const { code, stdout } = await harness('audit', file, '--json');
    const document = JSON.parse(stdout) as { checks: { id: string; target: string; status: string; message: string }[] };
    expect(code).toBe(1);
    expect(document.checks.filter((check) => check.id === 'config.url').map((check) => [check.target, check.status])).toEqual([['grafana', 'fail'], ['alertmanager', 'fail']]);
    expect(document.checks.find((check) => check.id === 'config.url')!.message).toContain('MONITORING_AI_MCP_URL not set');
    expect(document.checks.some((check) => check.target === 'prometheus' && check.id === 'token.alg-none')).toBe(true);
  }, 30_000);

  it('exits 2 on bad input: a missing file, an unknown severity, a topology without an HTTP MCP server', async () => {
    const missing = await harness('audit', 'scenarios/topologies/nope.yaml');
    expect(missing.code).toBe(2);
    const severity = await harness('audit', base, '--fail-on', 'severe');
    expect(severity.code).toBe(2);
    expect(severity.stderr).toContain("option '--fail-on <severity>' argument 'severe' is invalid");
    const file = path.join(dir, 'no-servers.yaml');
    await writeFile(file, `extends: ${base}\npatch:\n  nodes:\n    claude-worker:\n      worker:\n        mcp_servers: {grafana: null, alertmanager: null, prometheus: null}\n`);
    const empty = await harness('audit', file);
    expect([empty.code, empty.stderr]).toEqual([2, 'harness: claude-worker lists no HTTP MCP server\n']);
  }, 30_000);
});
