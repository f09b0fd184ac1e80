// Global setup of the container suites: gives this suite run an id (every test process's session
// and every child run's is under it, see suite-sessions.ts), and at the end fails the run, naming
// them, when any container or network of those sessions is left, after removing it. Every test
// awaits its own clean-up, so nothing may be left or still going by then: anything here is a defect.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { TestProject } from 'vitest/node';

const SESSION_LABEL = 'mcp-topology-harness.session';

export default function setup(project: TestProject) {
  const suite = `suite-${randomBytes(4).toString('hex')}`;
  project.provide('mthSuite', suite);
  return function teardown() {
    if (spawnSync('docker', ['info'], { timeout: 15_000 }).status !== 0) return;
    const list = (...args: string[]) =>
      docker(...args, '--filter', 'label=mcp-topology-harness', '--format', `{{.ID}}\t{{.Name${args[0] === 'ps' ? 's' : ''}}}\t{{.Label "${SESSION_LABEL}"}}`)
        .map((line) => line.split('\t') as [string, string, string])
        .filter(([, , session]) => session.startsWith(`${suite}.`));
    const containers = list('ps', '-a');
    // One at a time: one already being removed (by a process killed mid-clean-up) is gone soon anyway.
    for (const [id] of containers) spawnSync('docker', ['rm', '-f', id], { timeout: 60_000 });
    const networks = list('network', 'ls');
    for (const [id] of networks) spawnSync('docker', ['network', 'rm', id], { timeout: 60_000 });
    if (containers.length + networks.length === 0) return;
    const names = (rows: string[][]) => rows.map(([, name]) => name).join(', ') || 'none';
    const still = [...list('ps', '-a'), ...list('network', 'ls')];
    throw new Error(
      `the container suites left ${containers.length} container(s) and ${networks.length} network(s) of their sessions ` +
        `(containers: ${names(containers)}; networks: ${names(networks)}); ${still.length === 0 ? 'removed now' : `could not remove: ${names(still)}`}`,
    );
  };
}

function docker(...args: string[]): string[] {
  const result = spawnSync('docker', args, { encoding: 'utf8', timeout: 60_000 });
  if (result.status !== 0) throw new Error(`docker ${args.join(' ')}: ${result.stderr || result.error?.message}`);
  return result.stdout.split('\n').filter(Boolean);
}
