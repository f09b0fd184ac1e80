import { spawn } from 'node:child_process';
import os from 'node:os';
import type { NetworkEvent } from '../network/index.ts';
import { UpError } from './errors.ts';
import { execInBox } from './exec-box.ts';
import type { StartedUp } from './start-up.ts';

export interface ExecOptions {
  /** Called with each shim decision taken while the command runs (its own flows and those they cause). */
  onFlow?: (flow: NetworkEvent) => void;
  /** Called once the command runs, with the way to end it (SIGTERM), e.g. on Ctrl-C. */
  onStart?: (stop: () => void) => void;
  /** In containers: the image the command runs from (default the harness image). */
  image?: string | undefined;
}

export interface ExecOutcome {
  /** The command's exit status; 128 + the signal's number when a signal ended it. */
  exitCode: number;
  /** Every decision the shim took while the command ran, oldest first. */
  flows: NetworkEvent[];
}

/**
 * Runs `command` as the worker node: the caller's environment plus the worker's (env, minted tokens,
 * its egress as HTTP(S)_PROXY, HARNESS_MCP_CONFIG / HARNESS_SETTINGS), stdio inherited. In a runtime
 * with a worker box (containers), inside it: see execInBox.
 *
 * @example
 * const { exitCode, flows } = await execAsWorker(up, ['curl', '-s', 'http://monitoring-mcp.service.dev-us-east-1.consul:8000/']);
 */
export async function execAsWorker(up: StartedUp, argv: string[], options: ExecOptions = {}): Promise<ExecOutcome> {
  const [command, ...args] = argv;
  if (!command) throw new UpError('ERR_UP_EXEC', '--exec needs a command: harness up <scenario> --exec -- CMD ARGS...');
  const flows: NetworkEvent[] = [];
  const stop = up.running.onEvent((event) => {
    if (event.kind !== 'flow') return;
    flows.push(event.flow);
    options.onFlow?.(event.flow);
  });
  try {
    const box = up.running.workerBox;
    if (box) return { exitCode: await execInBox(up, box, argv, { image: options.image, ...(options.onStart ? { onStart: options.onStart } : {}) }), flows };
    const env: NodeJS.ProcessEnv = { ...process.env, ...up.workerEnv };
    // The worker's every connection goes through its egress: nothing may bypass it.
    delete env.NO_PROXY;
    delete env.no_proxy;
    const child = spawn(command, args, { env, stdio: 'inherit' });
    options.onStart?.(() => child.kill('SIGTERM'));
    const exitCode = await new Promise<number>((resolve, reject) => {
      child.once('error', (error: NodeJS.ErrnoException) =>
        reject(new UpError('ERR_UP_EXEC', `could not run ${command}: ${error.code === 'ENOENT' ? 'no such command' : error.message}`, { cause: error })),
      );
      child.once('exit', (code, signal) => resolve(code ?? 128 + (signal ? (os.constants.signals[signal] ?? 0) : 0)));
    });
    return { exitCode, flows };
  } finally {
    stop();
  }
}

/**
 * What the harness says after the command: one line per flow the network did not let through, and
 * what the command saw of it (a dropped flow has no answer, so a client sees a timeout).
 *
 * @example
 * summarizeFlows(outcome.flows, up.scenario.topology.timeoutMs); // ["claude-worker -> monitoring-mcp...:8000 was DROPPED ..."]
 */
export function summarizeFlows(flows: readonly NetworkEvent[], timeoutMs: number): string[] {
  const lines: string[] = [];
  for (const flow of flows) {
    const to = `${flow.destination}:${flow.port}`;
    if (flow.verdict === 'drop') {
      lines.push(
        `${flow.source} -> ${to} was DROPPED by the network (${flow.reason}): no answer, as with Nebula's drop; ` +
          `the shim held it ${timeoutMs} ms (the scenario's timeout_ms), so the command saw a timeout`,
      );
    } else if (flow.verdict === 'reject') {
      lines.push(`${flow.source} -> ${to} was REJECTED by the network (${flow.reason}): the command saw the connection reset`);
    } else if (flow.verdict === 'no-such-host') {
      lines.push(`${flow.source} -> ${to}: no such host (${flow.reason})`);
    } else if (flow.outcome === 'no-listener') {
      lines.push(`${flow.source} -> ${to} was allowed, but ${flow.reason.split('; ').pop()}`);
    }
  }
  const through = flows.filter((flow) => flow.verdict === 'allow' && flow.outcome === 'forwarded').length;
  lines.push(`${flows.length} flow(s) while the command ran: ${through} reached a service, ${flows.length - through} did not`);
  return lines;
}
