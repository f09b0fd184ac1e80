// `harness up --runtime containers` kept up, then SIGINT (Ctrl-C): no container, network or temp dir left.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { containersUnavailable, dockerLines } from './docker-available.ts';

const repo = path.resolve(import.meta.dirname, '../..');
const skip = containersUnavailable();
if (skip) console.warn(`test/containers/up.test.ts skipped: ${skip}`);

describe.skipIf(skip !== undefined)('harness up --runtime containers', () => {
  it('prints the topology, keeps it up, and on SIGINT removes every container, network and temp file', async () => {
    const session = randomUUID();
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
