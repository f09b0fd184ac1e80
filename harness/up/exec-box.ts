import type { Readable, Writable } from 'node:stream';
import { isHarnessError } from '../../common/index.ts';
import type { WorkerBox } from '../client/index.ts';
import { UpError } from './errors.ts';
import type { StartedUp } from './start-up.ts';

/** Where the worker's files go in its container (the same as the simulated worker's). */
const BOX_DIR = '/tmp/harness-worker';

export interface BoxExecOptions {
  /** The image the command runs from; default the runtime's (the harness image: node, no shell, no curl). */
  image?: string | undefined;
  /** Called once it runs, with the way to end it (Ctrl-C). */
  onStart?: (stop: () => void) => void;
  stdout?: Writable;
  stderr?: Writable;
}

/**
 * Runs `argv` as the worker node inside its box (the containers runtime: a fresh container on the
 * worker's network, from the harness image unless `image`): the worker's environment only (env,
 * minted tokens, its egress as every proxy variable, NODE_USE_ENV_PROXY=1), `.mcp.json` and
 * settings.json written into it with their paths in HARNESS_MCP_CONFIG / HARNESS_SETTINGS; its
 * stdout and stderr streamed here. Resolves with its exit status; the container is gone by then.
 *
 * @example
 * const code = await execInBox(up, up.running.workerBox!, ['node', '-e', 'fetch("http://monitoring-mcp.service.dev-us-east-1.consul:8000/")']);
 */
export async function execInBox(up: StartedUp, box: WorkerBox, argv: string[], options: BoxExecOptions = {}): Promise<number> {
  const files = [{ target: `${BOX_DIR}/.mcp.json`, content: `${JSON.stringify(up.launch.mcpJson, null, 2)}\n` }];
  if (up.launch.settingsJson) files.push({ target: `${BOX_DIR}/settings.json`, content: `${JSON.stringify(up.launch.settingsJson, null, 2)}\n` });
  const env: Record<string, string> = { ...up.workerEnv, HARNESS_MCP_CONFIG: files[0]!.target };
  if (up.launch.settingsJson) env.HARNESS_SETTINGS = `${BOX_DIR}/settings.json`;
  else delete env.HARNESS_SETTINGS;
  let started;
  try {
    started = await box.start({ argv, env, files, ...(options.image ? { image: options.image, imageHint: 'build it, or leave out --exec-image' } : {}) });
  } catch (error) {
    if (!isHarnessError(error) || error.code !== 'ERR_RUNTIME_WORKER') throw error;
    const missing = /executable file not found|no such file or directory/i.test(error.message);
    throw new UpError(
      'ERR_UP_EXEC',
      missing
        ? `could not run ${argv[0]} in the worker's container: no such command in its image${options.image ? ` ${options.image}` : ' (the harness image has node, no shell or curl; --exec-image names another)'}`
        : error.message,
      { cause: error },
    );
  }
  await using running = started;
  running.stdout.pipe(options.stdout ?? process.stdout, { end: false });
  // docker-init (PID 1) says so when the command is not in the image: that is an error of ours, not output of the command's.
  const notFound = watchNotFound(running.stderr, options.stderr ?? process.stderr);
  options.onStart?.(() => void running.stop());
  const code = await running.exited;
  if (code === 127 && notFound.seen) {
    throw new UpError(
      'ERR_UP_EXEC',
      `could not run ${argv[0]} in the worker's container: no such command in its image${options.image ? ` ${options.image}` : ' (the harness image has node, no shell or curl; --exec-image names another)'}`,
    );
  }
  return code;
}

/** Forwards `from` to `to`, but keeps back docker-init's "exec CMD failed: No such file or directory" line, noting it. */
function watchNotFound(from: Readable, to: Writable): { seen: boolean } {
  const state = { seen: false };
  let partial = '';
  from.setEncoding('utf8');
  from.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (/^\[FATAL tini \(\d+\)\] exec .* failed: No such file or directory/.test(line)) state.seen = true;
      else to.write(`${line}\n`);
    }
  });
  from.once('end', () => {
    if (partial) to.write(partial);
  });
  return state;
}
