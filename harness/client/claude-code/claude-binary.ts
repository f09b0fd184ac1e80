import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import { ClientError } from '../errors.ts';

/** The pinned package (package.json pins it at an exact version). */
const PACKAGE = '@anthropic-ai/claude-code';
/** The wrapper's `bin/claude.exe` is a small stub until its postinstall copies the native binary over it. */
const STUB_MAX_BYTES = 1024 * 1024;

export interface ClaudeBinary {
  path: string;
  /** As `claude --version` prints it, e.g. `2.1.332`. */
  version: string;
}

const versions = new Map<string, Promise<string>>();

/**
 * Finds the Claude Code binary to run as the worker: `bin` when given, else `HARNESS_CLAUDE_BIN`,
 * else the pinned npm package (its native binary, or the platform package's when the wrapper's
 * postinstall did not run). Rejects with `ERR_CLAUDE_MISSING` when there is none.
 *
 * @example
 * const claude = await resolveClaudeBinary({ bin: process.env.HARNESS_CLAUDE_BIN });
 * claude.version; // '2.1.332'
 */
export async function resolveClaudeBinary(options: { bin?: string | undefined; env?: NodeJS.ProcessEnv } = {}): Promise<ClaudeBinary> {
  const named = options.bin || (options.env ?? process.env).HARNESS_CLAUDE_BIN;
  const file = named ? path.resolve(named) : pinnedBinary();
  if (!file || !existsSync(file)) {
    throw new ClientError(
      'ERR_CLAUDE_MISSING',
      named
        ? `no Claude Code binary at ${file} (from ${options.bin ? '--claude-bin' : 'HARNESS_CLAUDE_BIN'})`
        : `Claude Code is not installed: run npm install (package.json pins ${PACKAGE}), or name a binary with --claude-bin / HARNESS_CLAUDE_BIN`,
    );
  }
  let version = versions.get(file);
  if (!version) {
    version = readVersion(file);
    versions.set(file, version);
    version.catch(() => versions.delete(file));
  }
  return { path: file, version: await version };
}

function pinnedBinary(): string | undefined {
  const require = createRequire(import.meta.url);
  let root: string;
  try {
    root = path.dirname(require.resolve(`${PACKAGE}/package.json`));
  } catch {
    return undefined;
  }
  const wrapper = path.join(root, 'bin', 'claude.exe');
  if (existsSync(wrapper) && statSync(wrapper).size > STUB_MAX_BYTES) return wrapper;
  const platform = `${process.platform}-${process.arch}`;
  try {
    const native = path.join(path.dirname(require.resolve(`${PACKAGE}-${platform}/package.json`)), process.platform === 'win32' ? 'claude.exe' : 'claude');
    return existsSync(native) ? native : undefined;
  } catch {
    return undefined;
  }
}

async function readVersion(file: string): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)(file, ['--version'], { timeout: 30_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', DISABLE_TELEMETRY: '1', CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1' } });
    return /\d+\.\d+\.\d+\S*/.exec(stdout)?.[0] ?? stdout.trim();
  } catch (error) {
    throw new ClientError('ERR_CLAUDE_MISSING', `${file} --version failed: ${(error as Error).message}`, undefined, { cause: error });
  }
}
