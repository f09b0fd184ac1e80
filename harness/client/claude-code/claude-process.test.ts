import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ClientError } from '../errors.ts';
import { resolveClaudeBinary } from './claude-binary.ts';
import { canIsolateNetwork, runClaudeUntilInit } from './claude-process.ts';

// The process handling around Claude Code: its error paths with a stand-in executable, since
// the real one always prints its init line. The real one is run by test/differential.

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function script(body: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mth-fake-claude-'));
  dirs.push(dir);
  const file = path.join(dir, 'claude');
  await writeFile(file, `#!/bin/sh\n${body}\n`);
  await chmod(file, 0o755);
  return file;
}

/** Running, as opposed to gone or a zombie (killed, not yet reaped by init). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

const input = (binary: string) => ({ binary, mcpJson: { mcpServers: {} }, settingsJson: undefined, env: { PATH: process.env.PATH ?? '' }, mcpTimeoutMs: 50 });

describe('runClaudeUntilInit', () => {
  it('rejects with ERR_CLAUDE_NO_INIT and stderr when the binary exits without an init line', async () => {
    const binary = await script('echo "error: unknown option" >&2; exit 3');
    const error = await runClaudeUntilInit(input(binary)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ClientError);
    expect((error as ClientError).code).toBe('ERR_CLAUDE_NO_INIT');
    expect((error as Error).message).toContain('unknown option');
  });

  it('stops the whole process group after the init line, children included, and removes its temp dir', async () => {
    const pidFile = path.join(await mkdtemp(path.join(os.tmpdir(), 'mth-fake-pid-')), 'child');
    dirs.push(path.dirname(pidFile));
    const binary = await script(
      `sleep 600 & echo $! > ${pidFile}\n` +
        `echo '{"type":"system","subtype":"init","mcp_servers":[{"name":"a","status":"connected"}],"tools":["mcp__a__t"],"claude_code_version":"0.0.0-test"}'\n` +
        'sleep 600',
    );
    const before = new Set(await readdir(os.tmpdir()));
    const run = await runClaudeUntilInit(input(binary));
    expect(run.init.mcp_servers).toEqual([{ name: 'a', status: 'connected' }]);
    const child = Number(readFileSync(pidFile, 'utf8'));
    // SIGKILL was sent before the call returned; on a busy machine the kernel may take a moment to act on it.
    await vi.waitFor(() => expect(alive(child)).toBe(false), { timeout: 5_000, interval: 20 });
    const left = (await readdir(os.tmpdir())).filter((name) => name.startsWith('mth-claude-') && !before.has(name));
    expect(left).toEqual([]);
  });
});

describe('runClaudeUntilInit in a network namespace of its own', () => {
  it.runIf(canIsolateNetwork())('gives it only loopback, and a proxy that reaches the egress', async () => {
    // The stand-in lists its interfaces (/proc/self/net/dev: its own namespace's; /sys shows the host's) and fetches through its HTTP_PROXY (the bridge) as its init line.
    const egress = http.createServer((req, res) => res.end(`egress saw ${req.url}`));
    await new Promise<void>((resolve) => egress.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = egress.address() as AddressInfo;
      const undici = path.resolve(import.meta.dirname, '../../../node_modules/undici');
      const binary = await script(
        `exec ${process.execPath} -e '
          const { readFileSync } = require("node:fs");
          const { ProxyAgent, fetch } = require(${JSON.stringify(undici)});
          const name = readFileSync("/proc/self/net/dev", "utf8").split("\\n").slice(2).map((l) => l.split(":")[0].trim()).filter(Boolean).join(" ");
          fetch("http://x.test/probe", { dispatcher: new ProxyAgent(process.env.HTTP_PROXY) })
            .then((r) => r.text(), (e) => "error " + e.message)
            .then((status) => { console.log(JSON.stringify({ type: "system", subtype: "init", mcp_servers: [{ name, status }], tools: [] })); setTimeout(() => {}, 600000); });
        '`,
      );
      const run = await runClaudeUntilInit({ ...input(binary), isolate: { egress: { host: '127.0.0.1', port } } });
      expect(run.isolated).toBe(true);
      expect(run.init.mcp_servers[0]).toEqual({ name: 'lo', status: 'egress saw http://x.test/probe' });
    } finally {
      await new Promise((resolve) => egress.close(resolve));
    }
  });

  it.skipIf(canIsolateNetwork())('is not available here (needs root, unshare and ip)', () => {
    expect(canIsolateNetwork()).toBe(false);
  });
});

describe('resolveClaudeBinary', () => {
  it('names the flag when --claude-bin points nowhere', async () => {
    const error = await resolveClaudeBinary({ bin: '/nonexistent/claude' }).catch((caught: unknown) => caught);
    expect((error as ClientError).code).toBe('ERR_CLAUDE_MISSING');
    expect((error as Error).message).toContain('--claude-bin');
  });

  it('finds the pinned package and reads its version', async () => {
    const claude = await resolveClaudeBinary({ env: {} });
    expect(claude.version).toMatch(/^\d+\.\d+\.\d+/);
  });
});
