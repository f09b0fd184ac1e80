// The `harness` command as the suites under test/ run it: a child process on this Node, from the
// repository root, with CI=true (no terminal progress), its exit code and both outputs kept.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

export const root = path.resolve(import.meta.dirname, '..');
export const cli = path.join(root, 'harness/cli.ts');

export interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `harness <args>` to its end; a non-zero exit is an outcome, not a throw. */
export async function harness(...args: string[]): Promise<Outcome> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [cli, ...args], { cwd: root, env: { ...process.env, CI: 'true' } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}
