// Real Claude Code as the worker in containers: inside the worker's container, on the worker's
// network, from the Claude Code image. Every step of the seed's incident gives the same status per
// server as Claude Code in-process, and meets the scenario's expectations. In CI (CI=true) a missing
// Docker engine, image or Claude Code fails this suite; it never skips there.
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claudeCodeClient, DEFAULT_CLAUDE_IMAGE, resolveClaudeBinary } from '../../harness/client/index.ts';
import { runScenario, type ScenarioResult } from '../../harness/runner/index.ts';
import { containersRuntime } from '../../harness/runtime/index.ts';
import { loadScenarioFile, resolveScenarioArgs, type Scenario } from '../../harness/topology/index.ts';
import { containersUnavailable, HARNESS_IMAGE } from './docker-available.ts';

const root = path.resolve(import.meta.dirname, '../../scenarios');
const CLAUDE_IMAGE = process.env.HARNESS_CLAUDE_IMAGE ?? DEFAULT_CLAUDE_IMAGE;
const why = containersUnavailable([HARNESS_IMAGE, CLAUDE_IMAGE]);
const mustRun = process.env.CI === 'true';
if (why && !mustRun) console.warn(`test/containers/claude-code.test.ts skipped: ${why}`);

// One scenario per step file (a matrix step's first member): the seed's incident, step by step.
const steps: Scenario[] = (await resolveScenarioArgs(['incidents/2025-10-01-prometheus-mcp'], { root })).filter(
  (scenario, index, all) => all.findIndex((other) => other.file === scenario.file) === index,
);

function statuses(result: ScenarioResult): Record<string, string> {
  return Object.fromEntries(result.servers.map((server) => [server.name, server.status]));
}

describe.skipIf(why !== undefined && !mustRun)('Claude Code as the worker in containers', () => {
  beforeAll(async () => {
    if (why) throw new Error(`${why} (CI=true: this suite must run, not skip)`);
    const claude = await resolveClaudeBinary();
    console.log(`claude-code in containers: image ${CLAUDE_IMAGE}; in-process Claude Code ${claude.version} at ${claude.path}`);
  });

  it('has the seed incident steps to compare', () => {
    expect(steps.length).toBeGreaterThanOrEqual(13);
  });

  it.each(steps.map((scenario) => [scenario.id, scenario] as const))('%s: same statuses as in-process', async (_id, scenario) => {
    const [inProcess, inContainers] = await Promise.all([
      runScenario(scenario, { client: 'claude-code' }),
      runScenario(scenario, { client: 'claude-code', runtime: containersRuntime }),
    ]);
    expect(inContainers.error, 'Claude Code in containers could not run').toBeUndefined();
    expect(inProcess.error, 'Claude Code in-process could not run').toBeUndefined();
    expect(inContainers.client).toMatchObject({ name: 'claude-code', version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
    expect(statuses(inContainers)).toEqual(statuses(inProcess));
    expect(inContainers.servers.filter((server) => !server.ok).map((server) => server.mismatches)).toEqual([]);
  });

  describe('with a binary of the user that cannot run in the container', () => {
    const dirs: string[] = [];
    afterAll(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

    it('says so with ERR_CLAUDE_CONTAINER, naming the flag', async () => {
      // Runs here (it prints a version), but is a shell script: the worker's image has no shell.
      const dir = await mkdtemp(path.join(os.tmpdir(), 'mth-claude-script-'));
      dirs.push(dir);
      const bin = path.join(dir, 'claude');
      await writeFile(bin, '#!/bin/sh\necho "2.1.332 (Claude Code)"\n');
      await chmod(bin, 0o755);
      const [scenario] = (await loadScenarioFile(path.join(root, 'incidents/2025-10-01-prometheus-mcp/5-real-fix-valid-token.yaml'), { root })) as [Scenario];
      await using running = await containersRuntime.start(scenario.topology);
      const error = await running.runWorker(claudeCodeClient({ bin })).catch((caught: unknown) => caught);
      expect((error as { code?: string }).code).toBe('ERR_CLAUDE_CONTAINER');
      expect((error as Error).message).toContain('--claude-bin');
    });
  });
});
