import type { Runtime } from '../runtime/index.ts';
import { formatEvent, formatUp, upDocument } from './describe.ts';
import { execAsWorker, summarizeFlows } from './exec.ts';
import { startUp } from './start-up.ts';

export interface UpCommandOptions {
  root: string;
  runtime: Runtime;
  json?: boolean;
  events?: boolean;
  /** `--exec -- CMD ARGS...`: run this as the worker, then stop. */
  exec?: string[];
  /** Ends the topology (the CLI aborts it on SIGINT/SIGTERM). */
  signal: AbortSignal;
  out: (text: string) => void;
  err: (text: string) => void;
}

/**
 * `harness up`: brings a scenario up, prints how to reach it, and keeps it up until `signal`
 * aborts, or (with `exec`) runs a command as the worker and returns its exit status. Everything is
 * removed before it returns.
 *
 * @example
 * const code = await upCommand('incidents/2025-10-01-prometheus-mcp/0-as-reported', { root: 'scenarios', runtime, signal, out, err });
 */
export async function upCommand(target: string, options: UpCommandOptions): Promise<number> {
  await using up = await startUp(target, { root: options.root, runtime: options.runtime });
  const doc = upDocument(up);
  if (options.events) {
    up.running.onEvent((event) => options.out(options.json ? `${JSON.stringify(event)}\n` : `${formatEvent(event)}\n`));
  }
  if (options.exec) {
    options.err(`harness: ${doc.scenario} is up (${doc.runtime}); running ${options.exec.join(' ')} as ${doc.worker.node}\n`);
    const outcome = await execAsWorker(up, options.exec, {
      ...(options.events ? {} : { onFlow: (flow) => options.err(`harness: ${formatEvent({ kind: 'flow', flow })}\n`) }),
      onSpawn: (child) => {
        if (options.signal.aborted) child.kill('SIGTERM');
        else options.signal.addEventListener('abort', () => child.kill('SIGTERM'), { once: true });
      },
    });
    for (const line of summarizeFlows(outcome.flows, up.scenario.topology.timeoutMs)) options.err(`harness: ${line}\n`);
    return outcome.exitCode;
  }
  options.out(options.json ? `${JSON.stringify(doc, null, options.events ? undefined : 2)}\n` : formatUp(doc));
  await new Promise<void>((resolve) => {
    if (options.signal.aborted) resolve();
    options.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  options.err('harness: stopping; removing everything\n');
  return 0;
}
