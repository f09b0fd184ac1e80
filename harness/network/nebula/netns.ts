import { runCommand, runCommandSync } from './command.ts';

/** Every namespace this project makes starts with this, then the owner's pid: `mth-<pid>-<n>-a`. */
export const NAMESPACE_PREFIX = 'mth-';

/** Two namespaces joined by a veth pair; the underlay addresses exist only inside them. */
export interface NamespacePair {
  readonly a: string;
  readonly b: string;
  /** A's end of the veth (inside namespace a). */
  readonly underlayA: string;
  /** B's end of the veth (inside namespace b). */
  readonly underlayB: string;
}

// A /30 inside the two namespaces only: never assigned or routed in the root namespace.
const UNDERLAY_A = '192.168.213.1';
const UNDERLAY_B = '192.168.213.2';
const UNDERLAY_PREFIX = 30;

let pairCounter = 0;

/**
 * Makes two fresh namespaces (`mth-<pid>-<n>-a`, `-b`) joined by a veth pair, links up.
 * The veth is created inside namespace a with its peer placed straight into b, so nothing
 * ever appears in the root namespace. On failure, whatever was made is removed again.
 *
 * @example
 * const pair = await createNamespacePair();
 * // ... ip netns exec pair.a ...
 * removeNamespaceSync(pair.a); removeNamespaceSync(pair.b);
 */
export async function createNamespacePair(): Promise<NamespacePair> {
  const base = `${NAMESPACE_PREFIX}${process.pid}-${pairCounter++}`;
  const pair: NamespacePair = { a: `${base}-a`, b: `${base}-b`, underlayA: UNDERLAY_A, underlayB: UNDERLAY_B };
  const made: string[] = [];
  try {
    for (const ns of [pair.a, pair.b]) {
      await runCommand('ip', ['netns', 'add', ns]);
      made.push(ns);
    }
    await runCommand('ip', ['-n', pair.a, 'link', 'add', 'veth0', 'type', 'veth', 'peer', 'name', 'veth1', 'netns', pair.b]);
    await runCommand('ip', ['-n', pair.a, 'addr', 'add', `${UNDERLAY_A}/${UNDERLAY_PREFIX}`, 'dev', 'veth0']);
    await runCommand('ip', ['-n', pair.b, 'addr', 'add', `${UNDERLAY_B}/${UNDERLAY_PREFIX}`, 'dev', 'veth1']);
    for (const [ns, dev] of [[pair.a, 'veth0'], [pair.b, 'veth1'], [pair.a, 'lo'], [pair.b, 'lo']] as const) {
      await runCommand('ip', ['-n', ns, 'link', 'set', dev, 'up']);
    }
    return pair;
  } catch (error) {
    for (const ns of made) removeNamespaceSync(ns);
    throw error;
  }
}

/** Process ids still inside a namespace (empty when it is gone). */
export function namespacePids(ns: string): number[] {
  const out = runCommandSync('ip', ['netns', 'pids', ns]) ?? '';
  return out
    .split(/\s+/)
    .filter((word) => /^\d+$/.test(word))
    .map(Number);
}

/**
 * Kills anything still running inside `ns` (only ever processes this project started there),
 * then deletes it. Idempotent and never throws: it runs in clean-up paths.
 */
export function removeNamespaceSync(ns: string): void {
  for (const pid of namespacePids(ns)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  runCommandSync('ip', ['netns', 'del', ns]);
}

/** True while `pid` exists (an EPERM answer still means it does). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Deletes namespaces left by an earlier run of this project whose owner process is gone
 * (a SIGKILLed test worker cannot clean up after itself). Returns the names removed.
 *
 * @example
 * removeStaleNamespaces(); // before making new ones
 */
export function removeStaleNamespaces(): string[] {
  const list = runCommandSync('ip', ['netns', 'list']) ?? '';
  const removed: string[] = [];
  for (const line of list.split('\n')) {
    const name = line.split(/\s/)[0] ?? '';
    const owner = new RegExp(`^${NAMESPACE_PREFIX}(\\d+)-\\d+-[ab]$`).exec(name);
    if (!owner || isProcessAlive(Number(owner[1]))) continue;
    removeNamespaceSync(name);
    removed.push(name);
  }
  return removed;
}
