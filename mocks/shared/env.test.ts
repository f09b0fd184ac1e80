import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';

const AUTH_MAIN = path.resolve(import.meta.dirname, '../auth-server/main.ts');
const MONITORING_MCP_MAIN = path.resolve(import.meta.dirname, '../monitoring-mcp/main.ts');

/** A service's main.ts as a child process, with its stdout's JSON lines. */
function startMain(main: string, env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [main], { env: { ...process.env, PORT: '0', HOST: '127.0.0.1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Record<string, unknown>[] = [];
  const waiters: { match: (line: Record<string, unknown>) => boolean; resolve: (line: Record<string, unknown>) => void }[] = [];
  let partial = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    for (const text of parts.filter((part) => part.startsWith('{'))) {
      const line = JSON.parse(text) as Record<string, unknown>;
      lines.push(line);
      for (const waiter of waiters.filter((w) => w.match(line))) waiter.resolve(line);
    }
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  // A line that has not come when the process exits never will: fail at once, with what it said.
  const next = (match: (line: Record<string, unknown>) => boolean) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const seen = lines.find(match);
      if (seen) return resolve(seen);
      waiters.push({ match, resolve });
      void exited.then((code) => reject(new Error(`${path.basename(path.dirname(main))} exited (${code}) before the line: ${stderr.trim()}`)));
    });
  return { child, lines, next, exited };
}

describe('runMain', () => {
  it('starts the service afresh on SIGHUP: a reset line, listening again with resets 1, and new keys', async () => {
    const auth = startMain(AUTH_MAIN);
    try {
      const first = (await auth.next((line) => line.event === 'listening')) as { url: string; resets: number };
      expect(first.resets).toBe(0);
      const kids = async (url: string) => ((await (await fetch(`${url}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] }).keys.map((key) => key.kid);
      const before = await kids(first.url);
      auth.child.kill('SIGHUP');
      const second = (await auth.next((line) => line.event === 'listening' && line.resets === 1)) as { url: string };
      // The reset line comes first, then the new instance's own lines, then its listening line.
      const events = auth.lines.map((line) => `${String(line.event)}${line.resets === undefined ? '' : ` ${String(line.resets)}`}`);
      expect(events.slice(events.indexOf('reset 1'))).toEqual(['reset 1', 'listening 1']);
      const after = await kids(second.url);
      expect(after).toHaveLength(before.length);
      expect(after.some((kid) => before.includes(kid))).toBe(false);
    } finally {
      auth.child.kill('SIGTERM');
    }
    expect(await auth.exited).toBe(0);
  });

  it("applies the env file of HARNESS_SERVICE_ENV_FILE on the reset it is numbered for, and only then", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'mth-env-test-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'env.json');
    // The JWKS is never fetched: no request comes.
    const server = startMain(MONITORING_MCP_MAIN, { HARNESS_SERVICE_ENV_FILE: file, MCP_JWT_AUDIENCE: 'first', MCP_JWKS_URL: 'http://127.0.0.1:9/jwks.json' });
    const audienceAfter = async (reset: number, content?: object) => {
      if (content) await writeFile(file, JSON.stringify(content));
      if (reset > 0) server.child.kill('SIGHUP');
      await server.next((line) => line.event === 'listening' && line.resets === reset);
      const started = server.lines.filter((line) => line.event === 'server.started').at(-1) as { audience: string | null };
      return started.audience;
    };
    try {
      expect(await audienceAfter(0)).toBe('first');
      // No file yet: the same env.
      expect(await audienceAfter(1)).toBe('first');
      expect(await audienceAfter(2, { n: 2, env: { MCP_JWT_AUDIENCE: 'second' }, unset: [] })).toBe('second');
      // The file of reset 2, still there: reset 3 leaves the env as it is.
      expect(await audienceAfter(3, { n: 2, env: { MCP_JWT_AUDIENCE: 'stale' }, unset: [] })).toBe('second');
      expect(await audienceAfter(4, { n: 4, env: {}, unset: ['MCP_JWT_AUDIENCE'] })).toBe(null);
    } finally {
      server.child.kill('SIGTERM');
    }
    expect(await server.exited).toBe(0);
  });
});
