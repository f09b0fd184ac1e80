// Whether the container suites can run here: a Docker engine that answers, and the images they use.
// When not, each suite is skipped with the reason printed (never silently).
import { spawnSync } from 'node:child_process';

export const HARNESS_IMAGE = process.env.HARNESS_IMAGE ?? 'mcp-topology-harness/node:local';
export const BYO_IMAGE = 'mcp-topology-harness/byo-echo-mcp:local';

/** Why the container suites cannot run here, or undefined when they can. */
export function containersUnavailable(images: string[] = [HARNESS_IMAGE]): string | undefined {
  const info = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { encoding: 'utf8', timeout: 15_000 });
  if (info.error) return `docker info could not run (${info.error.message}); run .ci/docker-setup.sh`;
  if (info.status !== 0) return `docker info failed (${info.stderr.trim().split('\n').at(-1) ?? `exit ${info.status}`}); run .ci/docker-setup.sh`;
  for (const image of images) {
    if (spawnSync('docker', ['image', 'inspect', image], { encoding: 'utf8' }).status !== 0) {
      return `image ${image} is not built (docker/build-images.sh, then scenarios/byo/files/build-image.sh)`;
    }
  }
  return undefined;
}

/** `docker <args>` output lines (ids), for the clean-up checks. */
export function dockerLines(...args: string[]): string[] {
  const result = spawnSync('docker', args, { encoding: 'utf8', timeout: 30_000 });
  if (result.status !== 0) throw new Error(`docker ${args.join(' ')}: ${result.stderr}`);
  return result.stdout.split('\n').filter(Boolean);
}

/**
 * Removes every container and network of a session (by its label), for a test's `finally` after it
 * SIGKILLed a run: a killed run cannot clean up after itself. Returns how many it removed.
 */
export function removeSession(session: string): { containers: number; networks: number } {
  const filter = `label=mcp-topology-harness.session=${session}`;
  const containers = dockerLines('ps', '-aq', '--filter', filter);
  if (containers.length > 0) dockerLines('rm', '-f', ...containers);
  const networks = dockerLines('network', 'ls', '-q', '--filter', filter);
  if (networks.length > 0) dockerLines('network', 'rm', ...networks);
  return { containers: containers.length, networks: networks.length };
}
