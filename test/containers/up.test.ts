// `harness up --runtime containers` kept up, then SIGINT (Ctrl-C): no container, network or temp dir left.
// And `--exec` there: the command runs inside a container on the worker's network.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { containersUnavailable, dockerLines } from './docker-available.ts';
import { suiteSession } from './suite-sessions.ts';

const repo = path.resolve(import.meta.dirname, '../..');
const skip = containersUnavailable();
if (skip) console.warn(`test/containers/up.test.ts skipped: ${skip}`);

describe.skipIf(skip !== undefined)('harness up --runtime containers', () => {
  it('prints the topology, keeps it up, and on SIGINT removes every container, network and temp file', async () => {
    const session = suiteSession();
    const label = `label=mcp-topology-harness.session=${session}`;
    // A TMPDIR of its own: removed at the end even when the child had to be killed before its clean-up.
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'mth-up-containers-'));
    const child = spawn(process.execPath, ['harness/cli.ts', 'up', 'incidents/2025-10-01-prometheus-mcp/1-after-firewall-fix', '--runtime', 'containers', '--json'], {
      cwd: repo,
      env: { ...process.env, MTH_SESSION_ID: session, CI: 'true', TMPDIR: tmp },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output = { stdout: '', stderr: '' };
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const doc = await new Promise<{ runtime: string; nodes: Array<{ name: string; egressProxyUrl: string }>; worker: { mcpJson: string } }>((resolve, reject) => {
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
          output.stdout += chunk;
          if (output.stdout.includes('\n')) resolve(JSON.parse(output.stdout.split('\n')[0]!));
        });
        child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output.stderr += chunk));
        void exited.then(() => reject(new Error(`harness up exited before it was up: ${output.stderr}`)));
      });
      expect(doc.runtime).toBe('containers');
      expect(doc.nodes.find((node) => node.name === 'claude-worker')?.egressProxyUrl).toMatch(/^http:\/\/mth-[0-9a-f]+--shim:\d+$/);
      expect(existsSync(doc.worker.mcpJson)).toBe(true);
      // Four services and the shim (the worker has no container until a worker runs).
      expect(dockerLines('ps', '-q', '--filter', label)).toHaveLength(4 + 1);
      child.kill('SIGINT');
      expect(await exited).toBe(130);
      expect(output.stderr).toMatch(/SIGINT: removed \d+ container\(s\) and \d+ network\(s\)/);
      expect(existsSync(doc.worker.mcpJson)).toBe(false);
      // testcontainers keeps its own lock file in TMPDIR; the harness's dirs are harness-up-*.
      expect((await readdir(tmp)).filter((entry) => entry.startsWith('harness-'))).toEqual([]);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await rm(tmp, { recursive: true, force: true });
    }
    expect(dockerLines('ps', '-aq', '--filter', label)).toEqual([]);
    expect(dockerLines('network', 'ls', '-q', '--filter', label)).toEqual([]);
  });
});

const MCP = 'http://monitoring-mcp.service.dev-us-east-1.consul:8000/';
/**
 * A command for the harness image (node, no shell): fetch MCP through the worker's egress (Node's
 * env proxy tunnels with CONNECT), print the status, exit 0 on 200; print what failed and exit 4 when it fails.
 */
const FETCH = [
  'node',
  '-e',
  `fetch(${JSON.stringify(MCP)}).then(async (r) => { console.log(r.status, await r.text()); process.exit(r.status === 200 ? 0 : 3); },
     (e) => { console.log('failed:', e.cause?.cause?.message ?? e.cause?.message ?? e.message); process.exit(4); })`,
];

/** `harness up --runtime containers ... --exec -- argv`, in a session of its own; resolves once it exits, with nothing of it left. */
async function upExec(target: string, argv: string[], onStdout?: (stdout: string, child: ReturnType<typeof spawn>) => void) {
  const session = suiteSession();
  const label = `label=mcp-topology-harness.session=${session}`;
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'mth-up-exec-'));
  const child = spawn(process.execPath, ['harness/cli.ts', 'up', target, '--runtime', 'containers', '--exec', '--', ...argv], {
    cwd: repo,
    env: { ...process.env, MTH_SESSION_ID: session, CI: 'true', TMPDIR: tmp },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = { stdout: '', stderr: '' };
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output.stdout += chunk;
    onStdout?.(output.stdout, child);
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output.stderr += chunk));
  try {
    const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
    return { code, ...output, left: (await readdir(tmp)).filter((entry) => entry.startsWith('harness-')) };
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await rm(tmp, { recursive: true, force: true });
    expect(dockerLines('ps', '-aq', '--filter', label)).toEqual([]);
    expect(dockerLines('network', 'ls', '-q', '--filter', label)).toEqual([]);
  }
}

describe.skipIf(skip !== undefined)('harness up --runtime containers --exec', () => {
  it('runs the command in the worker container: step 0 goes into the dropped flow, the harness says so, its status is the exit', async () => {
    const { code, stdout, stderr, left } = await upExec('incidents/2025-10-01-prometheus-mcp/0-as-reported', FETCH);
    // What the command saw: the shim's answer to its CONNECT once the hold (timeout_ms) ended the dropped flow.
    expect(stdout).toMatch(/^failed: .*\b504\b/);
    expect(code).toBe(4);
    expect(stderr).toMatch(/claude-worker -> monitoring-mcp\.service\.dev-us-east-1\.consul:8000 was DROPPED by the network \(claude-worker outbound: /);
    expect(stderr).toContain('1 flow(s) while the command ran: 0 reached a service, 1 did not');
    expect(left).toEqual([]);
  });

  it("gives it the worker's env, minted tokens, egress and files, and on step 1 the server answers", async () => {
    const script = `
      const fs = require('node:fs');
      const e = process.env;
      const servers = Object.keys(JSON.parse(fs.readFileSync(e.HARNESS_MCP_CONFIG, 'utf8')).mcpServers);
      console.log(JSON.stringify({ proxy: e.HTTP_PROXY, https: e.HTTPS_PROXY, lower: e.http_proxy, token: e.PROMETHEUS_TOKEN, settings: fs.existsSync(e.HARNESS_SETTINGS), servers, home: e.HOME }));
      fetch(${JSON.stringify(MCP)}).then(async (r) => { console.log(await r.text()); process.exit(7); });`;
    const { code, stdout, stderr } = await upExec('incidents/2025-10-01-prometheus-mcp/5-real-fix-valid-token', ['node', '-e', script]);
    expect(code).toBe(7);
    const [env, answer] = stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(env!.proxy).toMatch(/^http:\/\/mth-[0-9a-f]+--shim:\d+$/);
    expect([env!.https, env!.lower]).toEqual([env!.proxy, env!.proxy]);
    expect(String(env!.token).split('.')).toHaveLength(3);
    expect(env!.settings).toBe(true);
    expect(env!.servers).toEqual(['grafana', 'alertmanager', 'prometheus']);
    expect(answer).toMatchObject({ service: 'Monitoring AI MCP Server' });
    expect(stderr).toContain('1 flow(s) while the command ran: 1 reached a service, 0 did not');
  });

  it('names a command the image does not have, and leaves nothing behind', async () => {
    const { code, stderr, left } = await upExec('incidents/2025-10-01-prometheus-mcp/1-after-firewall-fix', ['curl', '-s', MCP]);
    expect(code).toBe(2);
    expect(stderr).toContain("could not run curl in the worker's container: no such command in its image");
    expect(left).toEqual([]);
  });

  it('on SIGINT while the command runs removes its container and everything else', async () => {
    const hold = ['node', '-e', 'console.log("holding"); setInterval(() => {}, 1000)'];
    let sent = false;
    const { code, stderr, left } = await upExec('incidents/2025-10-01-prometheus-mcp/1-after-firewall-fix', hold, (stdout, child) => {
      if (!sent && stdout.includes('holding')) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    expect(sent).toBe(true);
    expect(code).toBe(130);
    // Four services, the shim and the command's own container.
    expect(stderr).toMatch(/SIGINT: removed 6 container\(s\) and \d+ network\(s\)/);
    expect(left).toEqual([]);
  });
});
