import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { ContainerRuntimeClient } from 'testcontainers';
import { removeLabelled } from './docker.ts';
import { SESSION_LABEL } from './plan.ts';

/**
 * This process's session: every container and network it starts carries it. MTH_SESSION_ID sets it
 * (say, to a CI job's id, or for a test to find what a child process started).
 */
export const SESSION_ID = process.env.MTH_SESSION_ID || randomUUID();

/** How long a clean-up on SIGINT waits for starts already under way before its second pass. */
const PENDING_BOUND_MS = 15_000;

const active = new Set<string>();
const pending = new Set<Promise<unknown>>();
let docker: ContainerRuntimeClient | undefined;
let interrupted: NodeJS.Signals | undefined;

/**
 * Registers a topology as running: while any is, SIGINT and SIGTERM remove this process's
 * containers and networks (by its session label) before the process exits, and so does a plain
 * exit that skipped close(). Returns the function that unregisters it.
 */
export function trackRun(runId: string, client: ContainerRuntimeClient): () => void {
  docker = client;
  if (active.size === 0) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    process.on('exit', onExit);
  }
  active.add(runId);
  return () => {
    if (!active.delete(runId) || active.size > 0) return;
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('exit', onExit);
  };
}

/** Keeps a start (or any Docker call that may create something) in view, so a clean-up waits for it. */
export function whilePending<T>(work: Promise<T>): Promise<T> {
  pending.add(work);
  const done = () => pending.delete(work);
  work.then(done, done);
  return work;
}

/** True once SIGINT/SIGTERM arrived: starts under way should give up. */
export function interruptedBy(): NodeJS.Signals | undefined {
  return interrupted;
}

function onSignal(signal: NodeJS.Signals): void {
  if (interrupted) return;
  interrupted = signal;
  void cleanUpSession().then(
    (removed) => {
      process.stderr.write(`harness: ${signal}: removed ${removed.containers} container(s) and ${removed.networks} network(s) of this run\n`);
      process.exit(signal === 'SIGINT' ? 130 : 143);
    },
    (error: unknown) => {
      process.stderr.write(`harness: ${signal}: clean-up failed (${(error as Error).message}); remove leftovers with: docker rm -f $(docker ps -aq --filter label=${SESSION_LABEL}=${SESSION_ID})\n`);
      process.exit(signal === 'SIGINT' ? 130 : 143);
    },
  );
}

// Two passes: what exists now goes at once (starts waiting on it fail fast), then whatever a
// create already sent to the engine made in the meantime.
async function cleanUpSession(): Promise<{ containers: number; networks: number }> {
  const labels = [`${SESSION_LABEL}=${SESSION_ID}`];
  const first = await removeLabelled(docker!, labels);
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.allSettled([...pending]),
    new Promise((resolve) => {
      timer = setTimeout(resolve, PENDING_BOUND_MS);
    }),
  ]);
  clearTimeout(timer);
  const second = await removeLabelled(docker!, labels);
  return { containers: first.containers + second.containers, networks: first.networks + second.networks };
}

// Last resort when the process exits without closing its topologies (an uncaught error): only
// synchronous work is possible here, so the docker CLI does it, if there is one.
function onExit(): void {
  if (active.size === 0) return;
  const filter = `label=${SESSION_LABEL}=${SESSION_ID}`;
  const ids = spawnSync('docker', ['ps', '-aq', '--filter', filter], { encoding: 'utf8', timeout: 10_000 }).stdout?.split('\n').filter(Boolean) ?? [];
  if (ids.length > 0) spawnSync('docker', ['rm', '-f', ...ids], { timeout: 20_000 });
  const networks = spawnSync('docker', ['network', 'ls', '-q', '--filter', filter], { encoding: 'utf8', timeout: 10_000 }).stdout?.split('\n').filter(Boolean) ?? [];
  if (networks.length > 0) spawnSync('docker', ['network', 'rm', ...networks], { timeout: 20_000 });
}
