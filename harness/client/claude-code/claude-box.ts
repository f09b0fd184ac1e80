import { ClientError } from '../errors.ts';
import { runBoxUntilLine, type WorkerBox } from '../worker-box.ts';
import type { ClaudeMcpJson } from '../worker-client.ts';
import { resolveClaudeBinary } from './claude-binary.ts';
import type { ClaudeRun } from './claude-process.ts';

/** The worker's image with Claude Code in it (docker/build-images.sh builds it from the pinned package). */
export const DEFAULT_CLAUDE_IMAGE = 'mcp-topology-harness/claude-code:local';
/** Where that image has the pinned binary (on its PATH). */
const IMAGE_BINARY = '/usr/local/bin/claude';
/** Where a user's own binary (--claude-bin) is mounted, read-only. */
const USER_BINARY = '/opt/harness-claude/claude';
const INPUT_FILE = '/tmp/harness-worker/claude-run.json';
/** The box's own start (a container, then node loading the harness) before Claude Code's, on a busy 2-core machine. */
const BOX_START_MS = 60_000;
/** Beyond MCP_TIMEOUT: Claude Code's own start and its stop (as claude-process.ts allows), plus reading its logs. */
const CLAUDE_ALLOWANCE_MS = 45_000;

export interface ClaudeBoxInput {
  mcpJson: ClaudeMcpJson;
  settingsJson: unknown;
  /** Claude Code's whole environment but PATH (the box's). */
  env: Record<string, string>;
  mcpTimeoutMs: number;
  /** A user's own binary; default HARNESS_CLAUDE_BIN, then the image's pinned one. */
  bin?: string | undefined;
  image?: string | undefined;
}

/**
 * Runs Claude Code inside `box` (the worker's container): box-main.ts there runs the same
 * runClaudeUntilInit as on this machine and prints what it read, one JSON line. The pinned binary
 * comes with the Claude Code image; a user's own (`--claude-bin`, HARNESS_CLAUDE_BIN) is mounted
 * into it read-only and must run there (Linux, glibc, no shell in the offline image), or this
 * rejects with ERR_CLAUDE_CONTAINER.
 *
 * @example
 * const { run } = await runClaudeInBox(box, { mcpJson, settingsJson: undefined, env, mcpTimeoutMs: 30_000 });
 */
export async function runClaudeInBox(box: WorkerBox, input: ClaudeBoxInput): Promise<{ run: ClaudeRun; version: string | undefined }> {
  const named = input.bin || process.env.HARNESS_CLAUDE_BIN;
  const image = input.image || process.env.HARNESS_CLAUDE_IMAGE || DEFAULT_CLAUDE_IMAGE;
  const own = named ? await resolveClaudeBinary({ bin: input.bin }) : undefined;
  const payload = {
    binary: own ? USER_BINARY : IMAGE_BINARY,
    mcpJson: input.mcpJson,
    settingsJson: input.settingsJson,
    env: input.env,
    mcpTimeoutMs: input.mcpTimeoutMs,
  };
  const line = await runBoxUntilLine(
    box,
    {
      argv: ['node', 'harness/client/claude-code/box-main.ts', INPUT_FILE],
      env: {},
      files: [{ target: INPUT_FILE, content: JSON.stringify(payload) }],
      ...(own ? { mounts: [{ source: own.path, target: USER_BINARY }] } : {}),
      image,
      imageHint: image === DEFAULT_CLAUDE_IMAGE ? 'build it with docker/build-images.sh (it needs the pinned @anthropic-ai/claude-code in node_modules)' : 'build it, or unset HARNESS_CLAUDE_IMAGE',
    },
    (candidate) => candidate.type === 'harness_claude_run' || candidate.type === 'harness_claude_error',
    { timeoutMs: BOX_START_MS + input.mcpTimeoutMs + CLAUDE_ALLOWANCE_MS, what: `Claude Code in the worker's container (${image})`, code: 'ERR_CLAUDE_CONTAINER' },
  );
  if (line.type === 'harness_claude_error') {
    const message = String(line.message);
    if (own && line.code === 'ERR_CLAUDE_NO_INIT') {
      throw new ClientError(
        'ERR_CLAUDE_CONTAINER',
        `${own.path} (from ${input.bin ? '--claude-bin' : 'HARNESS_CLAUDE_BIN'}) does not run in the worker's container (${image}: Linux x64, glibc, no shell): ${message}; ` +
          'give a Linux build of Claude Code (its native binary), or run it with --runtime inprocess',
      );
    }
    throw new ClientError(line.code === 'ERR_CLAUDE_NO_INIT' ? 'ERR_CLAUDE_NO_INIT' : 'ERR_CLAUDE_CONTAINER', `in the worker's container: ${message}`);
  }
  const run = line.run as ClaudeRun;
  if (!own) await requireImageMatchesPin(image, run.init.claude_code_version);
  return { run, version: own?.version };
}

/**
 * The image's Claude Code is the pinned one as long as the image was built after the last bump:
 * where this machine has the pinned package too, a stale image is an error, not a silent other version.
 */
export async function requireImageMatchesPin(image: string, ran: string | undefined): Promise<void> {
  const pinned = await resolveClaudeBinary({ env: {} }).catch(() => undefined);
  if (!pinned || !ran || pinned.version === ran) return;
  throw new ClientError(
    'ERR_CLAUDE_CONTAINER',
    `${image} has Claude Code ${ran}, but node_modules pins ${pinned.version}: rebuild it with docker/build-images.sh (or name a binary with --claude-bin)`,
  );
}
