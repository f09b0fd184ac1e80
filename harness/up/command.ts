import path from 'node:path';
import { isHarnessError } from '../../common/index.ts';
import { formatProvenance, type UserFlags } from '../incident/index.ts';
import type { Runtime } from '../runtime/index.ts';
import { formatEvent, formatUp, upDocument } from './describe.ts';
import { execAsWorker, summarizeFlows } from './exec.ts';
import { formatEdit, watchFiles } from './live.ts';
import { startUp } from './start-up.ts';
import { UpError } from './errors.ts';

export interface UpCommandOptions {
  root: string;
  runtime: Runtime;
  /** One JSON line: the document, then (with events, and on each applied edit) one JSON line each. */
  json?: boolean;
  events?: boolean;
  /** The user's own files and flags, patched onto the target (see harness check). */
  userFlags?: UserFlags;
  /** `--exec -- CMD ARGS...`: run this as the worker, then stop. */
  exec?: string[];
  /** With exec in containers: the image the command runs from (default the harness image). */
  execImage?: string;
  /** Ends the topology (the CLI aborts it on SIGINT/SIGTERM). */
  signal: AbortSignal;
  out: (text: string) => void;
  err: (text: string) => void;
}

/**
 * `harness up`: brings a scenario up, prints how to reach it, and keeps it up until `signal`
 * aborts, applying each edit of the scenario file as it is saved and printing the flows whose verdict changed; or (with `exec`) runs a command as the worker and returns its exit status. Everything is
 * removed before it returns.
 *
 * @example
 * const code = await upCommand('incidents/2025-10-01-prometheus-mcp/0-as-reported', { root: 'scenarios', runtime, signal, out, err });
 */
export async function upCommand(target: string, options: UpCommandOptions): Promise<number> {
  if (options.execImage && (!options.exec || options.runtime.name === 'inprocess')) {
    throw new UpError('ERR_UP_EXEC', '--exec-image names the image of a command run with --exec -- CMD ARGS... --runtime containers (in-process the command runs on this machine)');
  }
  await using up = await startUp(target, { root: options.root, runtime: options.runtime, ...(options.userFlags ? { userFlags: options.userFlags } : {}) });
  const doc = upDocument(up);
  if (up.provenance.length > 0 && !options.json) options.err(formatProvenance(up.provenance));
  if (options.events) {
    up.running.onEvent((event) => options.out(options.json ? `${JSON.stringify(event)}\n` : `${formatEvent(event)}\n`));
  }
  if (options.exec) {
    options.err(`harness: ${doc.scenario} is up (${doc.runtime}); running ${options.exec.join(' ')} as ${doc.worker.node}\n`);
    const outcome = await execAsWorker(up, options.exec, {
      ...(options.events ? {} : { onFlow: (flow) => options.err(`harness: ${formatEvent({ kind: 'flow', flow })}\n`) }),
      image: options.execImage,
      onStart: (stop) => {
        if (options.signal.aborted) stop();
        else options.signal.addEventListener('abort', stop, { once: true });
      },
    });
    for (const line of summarizeFlows(outcome.flows, up.scenario.topology.timeoutMs)) options.err(`harness: ${line}\n`);
    return outcome.exitCode;
  }
  const stopWatching = watchFiles(
    () => up.scenario.sources,
    async (file) => {
      try {
        const edit = await up.reload(file);
        options.out(options.json ? `${JSON.stringify({ kind: 'edit', ...edit })}\n` : formatEdit(edit));
      } catch (error) {
        if (!isHarnessError(error)) throw error;
        options.err(`harness: ${path.basename(file)} changed but was not applied (${error.code}): ${error.message}\n`);
      }
    },
  );
  // Printed once the watch is on: an edit made as soon as the document is read is seen.
  options.out(options.json ? `${JSON.stringify(doc)}\n` : formatUp(doc));
  await new Promise<void>((resolve) => {
    if (options.signal.aborted) resolve();
    options.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  stopWatching();
  options.err('harness: stopping; removing everything\n');
  return 0;
}
