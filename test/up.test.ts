// `harness up` as users run it: a child process kept up until SIGINT, or running one command as the worker.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { proxiedFetch } from '../common/index.ts';
import type { UpDocument } from '../harness/up/index.ts';

const root = path.resolve(import.meta.dirname, '..');
const cli = path.join(root, 'harness/cli.ts');
const step0 = 'incidents/2025-10-01-prometheus-mcp/0-as-reported';
const step1 = 'incidents/2025-10-01-prometheus-mcp/1-after-firewall-fix';
const step5 = 'incidents/2025-10-01-prometheus-mcp/5-real-fix-valid-token';
const MCP = 'http://monitoring-mcp.service.dev-us-east-1.consul:8000/';

// Every run gets a TMPDIR of its own, so that what `harness up` leaves behind there can be seen.
let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'mth-up-test-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** A `harness up` child: its output as it comes, its exit; killed on dispose if still running. */
class UpProcess implements AsyncDisposable {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #waiters = new Set<() => void>();

  constructor(args: string[]) {
    this.child = spawn(process.execPath, [cli, 'up', ...args], { cwd: root, env: { ...process.env, CI: 'true', TMPDIR: tmp } });
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk;
      for (const waiter of [...this.#waiters]) waiter();
    });
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
      for (const waiter of [...this.#waiters]) waiter();
    });
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  /** Resolves once `ready` (given stdout; called on each output) returns a value; rejects when the process exits first. */
  until<T>(ready: (stdout: string) => T | undefined): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const value = ready(this.stdout);
        if (value !== undefined) {
          this.#waiters.delete(check);
          resolve(value);
        }
      };
      this.#waiters.add(check);
      void this.exited.then(() => {
        if (this.#waiters.delete(check)) reject(new Error(`harness up exited before it was ready:\n${this.stdout}\n${this.stderr}`));
      });
      check();
    });
  }

  async [Symbol.asyncDispose]() {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }
}

function firstLine(stdout: string): UpDocument | undefined {
  const end = stdout.indexOf('\n');
  return end < 0 ? undefined : (JSON.parse(stdout.slice(0, end)) as UpDocument);
}

function refused(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), hostname);
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

async function run(args: string[]) {
  await using up = new UpProcess(args);
  const { code } = await up.exited;
  return { code, stdout: up.stdout, stderr: up.stderr };
}

describe('harness up --exec', () => {
  it('runs curl as the worker: step 0 goes into the dropped flow and the harness says so', async () => {
    const { stdout, stderr } = await run([step0, '--exec', '--', 'curl', '-s', '-m', '5', '-w', '\n%{http_code}', MCP]);
    // What curl itself saw: the shim's answer once the hold (timeout_ms) ended the dropped flow.
    expect(stdout.split('\n').at(-1)).toBe('504');
    expect(stderr).toMatch(/claude-worker -> monitoring-mcp\.service\.dev-us-east-1\.consul:8000 was DROPPED by the network \(claude-worker outbound: /);
    expect(stderr).toContain('the command saw a timeout');
    expect(stdout).not.toContain('Monitoring AI MCP Server');
    expect(await readdir(tmp)).toEqual([]);
  });

  it('runs curl as the worker: on step 1 the server answers', async () => {
    const { code, stdout, stderr } = await run([step1, '--exec', '--', 'curl', '-s', '-m', '5', MCP]);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ service: 'Monitoring AI MCP Server' });
    expect(stderr).toContain('1 flow(s) while the command ran: 1 reached a service, 0 did not');
  });

  it("gives the command the worker's env, minted tokens and file paths, and exits with its status", async () => {
    const script = 'test -f "$HARNESS_MCP_CONFIG" && test -f "$HARNESS_SETTINGS" && printf "%s %s %s" "$http_proxy" "$HTTPS_PROXY" "$PROMETHEUS_TOKEN"; exit 7';
    const { code, stdout } = await run([step5, '--exec', '--', 'sh', '-c', script]);
    expect(code).toBe(7);
    const [httpProxy, httpsProxy, token] = stdout.split(' ');
    expect(httpProxy).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(httpsProxy).toBe(httpProxy);
    expect(token?.split('.')).toHaveLength(3);
  });

  it("takes the user's own material on top of the target, as check does", async () => {
    const seed = path.join(root, 'test/fixtures/seed-2025-10-01');
    const { stdout, stderr } = await run([
      path.join(seed, 'open-base.yaml'),
      '--nebula', `claude-worker=${path.join(seed, 'gondola.yaml')}`,
      '--groups', `monitoring-mcp=@${path.join(seed, 'monitoring-mcp-cert.json')}`,
      '--exec', '--', 'curl', '-s', '-m', '5', MCP,
    ]);
    expect(stderr).toMatch(/claude-worker firewall\s+yours\s+\S*gondola\.yaml \(nebula\.firewall:, verbatim\)/);
    expect(stderr).toContain('was DROPPED by the network');
    expect(stdout).not.toContain('Monitoring AI MCP Server');
    expect(await readdir(tmp)).toEqual([]);
  });

  it('names a command that does not exist, and leaves nothing behind', async () => {
    const { code, stderr } = await run([step1, '--exec', '--', 'no-such-command-mth']);
    expect(code).toBe(2);
    expect(stderr).toContain('harness: could not run no-such-command-mth: no such command');
    expect(await readdir(tmp)).toEqual([]);
  });
});

describe('harness up', () => {
  it('prints how to reach every node, keeps the topology up, and on SIGINT removes everything', async () => {
    await using up = new UpProcess([step5, '--json']);
    const doc = await up.until(firstLine);
    expect(doc.nodes.map((node) => node.name)).toEqual(['claude-worker', 'monitoring-ai-mcp', 'monitoring-mcp', 'auth-server', 'prometheus']);
    const mcp = doc.nodes.find((node) => node.name === 'monitoring-mcp')!;
    expect(mcp).toMatchObject({ ip: expect.stringMatching(/^10\./), groups: expect.arrayContaining(['monitoring-mcp', 'dev']), service: { name: 'monitoring-mcp', port: 8000 } });
    expect(JSON.parse(await readFile(doc.worker.mcpJson, 'utf8')).mcpServers.prometheus.url).toBe(`${MCP}v1/mcp`);
    expect(doc.worker.settingsJson && existsSync(doc.worker.settingsJson)).toBe(true);
    expect(await readFile(doc.worker.envSh, 'utf8')).toContain(`export HTTP_PROXY='${doc.worker.egressProxyUrl}'`);

    // Still up: a client of its own reaches the server through the worker's egress.
    const answer = await proxiedFetch(doc.worker.egressProxyUrl)(MCP);
    expect(await answer.json()).toMatchObject({ service: 'Monitoring AI MCP Server' });

    up.child.kill('SIGINT');
    expect(await up.exited).toEqual({ code: 0, signal: null });
    expect(existsSync(doc.worker.mcpJson)).toBe(false);
    expect(await readdir(tmp)).toEqual([]);
    const ports = [...doc.nodes.map((node) => node.egressProxyUrl), ...doc.nodes.flatMap((node) => (node.url ? [node.url] : []))];
    expect(await Promise.all(ports.map(refused))).toEqual(ports.map(() => true));
  });

  it('streams each shim decision and service log line with --events --json', async () => {
    await using up = new UpProcess([step5, '--json', '--events']);
    const doc = await up.until(firstLine);
    // No token: monitoring-mcp refuses it and logs why.
    const answer = await proxiedFetch(doc.worker.egressProxyUrl)(`${MCP}v1/mcp`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(answer.status).toBe(401);
    await answer.body?.cancel();
    type Event = { kind: string; node?: string; flow?: { destinationNode: string; verdict: string }; entry?: { event: string } };
    const events = (stdout: string) =>
      stdout
        .split('\n')
        .slice(1)
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Event);
    const [flow, log] = await up.until((stdout) => {
      const seen = events(stdout);
      const flow = seen.find((event) => event.kind === 'flow');
      const log = seen.find((event) => event.kind === 'log' && event.entry?.event === 'auth.rejected');
      return flow && log ? [flow, log] : undefined;
    });
    expect(flow.flow).toMatchObject({ destinationNode: 'monitoring-mcp', verdict: 'allow' });
    expect(log.node).toBe('monitoring-mcp');
    up.child.kill('SIGTERM');
    expect((await up.exited).code).toBe(0);
  });

  it('refuses a target that is no scenario, before starting anything', async () => {
    const { code, stderr } = await run(['incidents/no-such-step']);
    expect(code).toBe(2);
    expect(stderr).toContain('no scenario file, folder or id "incidents/no-such-step"');
    expect(await readdir(tmp)).toEqual([]);
  });
});

describe('harness up, live edits', () => {
  let edits: string;
  beforeAll(async () => {
    edits = await mkdtemp(path.join(os.tmpdir(), 'mth-up-edits-'));
  });
  afterAll(async () => {
    await rm(edits, { recursive: true, force: true });
  });

  const step0File = path.join(root, 'scenarios', `${step0}.yaml`);
  const scenario = (patch: string) => `extends: ${JSON.stringify(step0File)}\n${patch}`;
  const FIREWALL_FIX = `patch:
  nodes:
    claude-worker:
      firewall:
        outbound:
          - {port: "8000", proto: tcp, groups: [dev, monitoring-ai-mcp]}
          - {port: 8000, proto: tcp, groups: [dev, monitoring-mcp]}
`;
  type Edit = { kind: 'edit'; file: string; network: string[]; restarted: string[]; worker: boolean; changes: Array<{ flow: string; before: string; after: string }> };
  const edit = (n: number) => (stdout: string) => stdout.split('\n').filter((line) => line.startsWith('{"kind":"edit"')).map((line) => JSON.parse(line) as Edit)[n];

  it("applies an edit of the worker's outbound rules: prometheus's flow turns from drop to allow, no service restarts", async () => {
    const file = path.join(edits, 'as-reported.yaml');
    await writeFile(file, scenario(''));
    await using up = new UpProcess([file, '--json']);
    const doc = await up.until(firstLine);
    const urls = doc.nodes.flatMap((node) => (node.url ? [node.url] : []));

    await writeFile(file, scenario(FIREWALL_FIX));
    const applied = await up.until(edit(0));
    expect(applied).toMatchObject({ network: ['claude-worker'], restarted: [], worker: false });
    expect(applied.changes).toEqual([{ flow: 'claude-worker -> monitoring-mcp:8000', before: 'drop', after: 'allow', reason: expect.stringContaining('groups [dev, monitoring-mcp]') }]);
    // The next flow takes the new rule; every service still listens where it did (none restarted).
    const answer = await proxiedFetch(doc.worker.egressProxyUrl)(MCP);
    expect(await answer.json()).toMatchObject({ service: 'Monitoring AI MCP Server' });
    expect(await Promise.all(urls.map(refused))).toEqual(urls.map(() => false));

    // A service whose env changed restarts alone.
    await writeFile(file, scenario(`${FIREWALL_FIX}    monitoring-mcp:\n      env: {MCP_LOG_MARK: "edited"}\n`));
    expect(await up.until(edit(1))).toMatchObject({ network: [], restarted: ['monitoring-mcp'], changes: [] });
    const mcpUrl = doc.nodes.find((node) => node.name === 'monitoring-mcp')!.url!;
    expect(await Promise.all(urls.map(refused))).toEqual(urls.map((url) => url === mcpUrl));
    const again = await proxiedFetch(doc.worker.egressProxyUrl)(MCP);
    expect(await again.json()).toMatchObject({ service: 'Monitoring AI MCP Server' });

    // A file that no longer loads is named and not applied; the topology runs on.
    await writeFile(file, scenario('patch: [1'));
    await up.until(() => (up.stderr.includes('was not applied (ERR_') ? true : undefined));
    expect(up.stderr).toContain('as-reported.yaml');
    const still = await proxiedFetch(doc.worker.egressProxyUrl)(MCP);
    expect(still.status).toBe(200);
    await still.body?.cancel();
    up.child.kill('SIGINT');
    expect((await up.exited).code).toBe(0);
  });

  it('applies an edit of a file the scenario extends, and names that file', async () => {
    const base = path.join(edits, 'base.yaml');
    const step = path.join(edits, 'step.yaml');
    await writeFile(base, scenario(''));
    await writeFile(step, `extends: ${JSON.stringify(base)}\n`);
    await using up = new UpProcess([step, '--json']);
    const doc = await up.until(firstLine);

    await writeFile(base, scenario(FIREWALL_FIX));
    const applied = await up.until(edit(0));
    expect(applied).toMatchObject({ file: base, network: ['claude-worker'], restarted: [] });
    expect(applied.changes.map((change) => `${change.flow} ${change.before}->${change.after}`)).toEqual(['claude-worker -> monitoring-mcp:8000 drop->allow']);
    const answer = await proxiedFetch(doc.worker.egressProxyUrl)(MCP);
    expect(answer.status).toBe(200);
    await answer.body?.cancel();
    up.child.kill('SIGINT');
    expect((await up.exited).code).toBe(0);
  });
});
