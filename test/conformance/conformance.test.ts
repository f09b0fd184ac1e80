// The official MCP conformance suite (@modelcontextprotocol/conformance, pinned in package.json)
// run with `server --url` against every simulated MCP server it can use: those that let a client
// in without a token. Strict and spec-mode monitoring-mcp answer 401 to every request, and the
// suite sends no token, so it cannot test them (`harness audit` does). 0.1.16 has no scenario that
// tests an authorization server (its auth scenarios test clients against its own), so the mock
// auth server is not run against it. `npm run conformance` runs this file alone.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isMap, isScalar, isSeq, parseDocument } from 'yaml';
import { loadFixtures, startMonitoringAiMcp } from '../../mocks/monitoring-ai-mcp/index.ts';
import { startMonitoringMcp } from '../../mocks/monitoring-mcp/index.ts';

const BASELINE = path.join(import.meta.dirname, 'baseline.yml');
const SUITE = createRequire(import.meta.url).resolve('@modelcontextprotocol/conformance/dist/index.js');

const started: { close(): Promise<void> }[] = [];
const urls: Record<string, string> = {};
let output: string;
beforeAll(async () => {
  output = await mkdtemp(path.join(os.tmpdir(), 'mth-conformance-'));
  const ai = await startMonitoringAiMcp({ fixtures: await loadFixtures() });
  const dev = await startMonitoringMcp({});
  const decodeOnly = await startMonitoringMcp({ authMode: 'decode-only', audience: 'https://monitoring-mcp.tinyspeck.com/v1/mcp' });
  started.push(ai, dev, decodeOnly);
  urls['monitoring-ai-mcp grafana'] = `${ai.url}/monitoring/v1/mcp?toolset=grafana`;
  urls['monitoring-ai-mcp alertmanager'] = `${ai.url}/monitoring/v1/mcp?toolset=alertmanager`;
  urls['monitoring-mcp development mode'] = dev.mcpUrl;
  urls['monitoring-mcp decode-only'] = decodeOnly.mcpUrl;
});
afterAll(async () => {
  await Promise.allSettled(started.map((server) => server.close()));
  await rm(output, { recursive: true, force: true });
});

describe('the conformance baseline', () => {
  it('gives a reason (a comment) for every expected failure', async () => {
    const document = parseDocument(await readFile(BASELINE, 'utf8'));
    const server = document.contents;
    expect(isMap(server)).toBe(true);
    const entries = (server as { get(key: string, keepScalar: true): unknown }).get('server', true);
    expect(isSeq(entries)).toBe(true);
    const list = entries as { items: unknown[]; commentBefore?: string | null };
    expect(list.items.length).toBeGreaterThan(0);
    for (const [at, item] of list.items.entries()) {
      expect(isScalar(item)).toBe(true);
      const scalar = item as { value: unknown; commentBefore?: string | null };
      // The yaml package hangs the first item's comment on the list itself.
      const comment = at === 0 ? (scalar.commentBefore ?? list.commentBefore) : scalar.commentBefore;
      expect(comment?.trim(), `${String(scalar.value)} has no reason`).toMatch(/^(not applicable|deliberate non-compliance|gap to close): /);
    }
  });
});

describe('conformance server --url', () => {
  it.each(['monitoring-ai-mcp grafana', 'monitoring-ai-mcp alertmanager', 'monitoring-mcp development mode', 'monitoring-mcp decode-only'])(
    'passes against %s with the baseline (no unexpected failure, no stale entry)',
    async (name) => {
      const args = [SUITE, 'server', '--url', urls[name]!, '--expected-failures', BASELINE, '-o', path.join(output, name.replace(/\W+/g, '-'))];
      let code = 0;
      let stdout = '';
      try {
        ({ stdout } = await promisify(execFile)(process.execPath, args, { env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 10 * 1024 * 1024 }));
      } catch (error) {
        const failed = error as { code: number; stdout: string; stderr: string };
        code = failed.code;
        stdout = `${failed.stdout}\n${failed.stderr}`;
      }
      const summary = stdout.slice(stdout.indexOf('=== SUMMARY ==='));
      expect(code, summary).toBe(0);
      expect(summary).toMatch(/✓ server-initialize: 1 passed, 0 failed/);
      expect(summary).toMatch(/✓ tools-list: 1 passed, 0 failed/);
    },
    60_000,
  );
});
