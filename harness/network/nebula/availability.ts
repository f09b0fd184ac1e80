import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { runCommandSync } from './command.ts';
import { NAMESPACE_PREFIX } from './netns.ts';

function onPath(command: string): boolean {
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
    if (!dir) continue;
    try {
      accessSync(path.join(dir, command), constants.X_OK);
      return true;
    } catch {
      // not in this dir
    }
  }
  return false;
}

/**
 * Why real Nebula cannot run here, or undefined when it can: Linux, root, /dev/net/tun, the
 * `nebula`, `nebula-cert` and `ip` commands, and permission to make a network namespace (tried
 * for real with a throw-away one). Synchronous, so a suite can use it in `describe.skipIf`.
 *
 * @example
 * const reason = realNebulaUnavailableReason();
 * if (reason) console.warn(`skipping: ${reason}`);
 */
export function realNebulaUnavailableReason(): string | undefined {
  if (process.platform !== 'linux') return `network namespaces need Linux, this is ${process.platform}`;
  if (process.getuid?.() !== 0) return 'not running as root (network namespaces and tun devices need it)';
  try {
    if (!statSync('/dev/net/tun').isCharacterDevice()) return '/dev/net/tun is not a character device';
  } catch {
    return 'no /dev/net/tun';
  }
  for (const command of ['nebula', 'nebula-cert', 'ip']) {
    if (!onPath(command)) return `no \`${command}\` on PATH (run .ci/nebula-setup.sh)`;
  }
  const probe = `${NAMESPACE_PREFIX}${process.pid}-check`;
  if (runCommandSync('ip', ['netns', 'add', probe]) === undefined) return '`ip netns add` is not permitted here';
  runCommandSync('ip', ['netns', 'del', probe]);
  return undefined;
}
