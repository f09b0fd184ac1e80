import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ClientError } from '../errors.ts';
import { resolveClaudeBinary } from './claude-binary.ts';
import { runClaudeUntilInit } from './claude-process.ts';

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
    expect(alive(child)).toBe(false);
    const left = (await readdir(os.tmpdir())).filter((name) => name.startsWith('mth-claude-') && !before.has(name));
    expect(left).toEqual([]);
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
