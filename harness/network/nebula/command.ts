import { execFile, execFileSync } from 'node:child_process';
import { NebulaLabError } from './errors.ts';

/** Bounded so that a hung helper cannot hang the suite. */
const COMMAND_TIMEOUT_MS = 10_000;

/**
 * Runs a helper command (`ip`, `nebula-cert`) and returns its stdout; a non-zero exit becomes
 * ERR_NEBULA_COMMAND carrying the command line and its stderr.
 *
 * @example
 * await runCommand('ip', ['netns', 'add', 'mth-123-0-a']);
 */
export function runCommand(command: string, args: readonly string[], options: { cwd?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd: options.cwd, timeout: COMMAND_TIMEOUT_MS, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error) {
        const why = stderr.trim() || error.message;
        reject(new NebulaLabError('ERR_NEBULA_COMMAND', `${command} ${args.join(' ')}: ${why}`, { cause: error }));
        return;
      }
      resolve(stdout);
    });
  });
}

/** The synchronous twin of runCommand, for `exit` handlers where nothing async runs; never throws. */
export function runCommandSync(command: string, args: readonly string[]): string | undefined {
  try {
    return execFileSync(command, args, { timeout: COMMAND_TIMEOUT_MS, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return undefined;
  }
}
