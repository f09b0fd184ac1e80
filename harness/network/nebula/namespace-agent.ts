import { spawn, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { NebulaLabError } from './errors.ts';
import type { AgentProto, AgentReply, AgentRequest, ProbeOutcome } from './namespace-agent-main.ts';

const AGENT_SCRIPT = fileURLToPath(new URL('./namespace-agent-main.ts', import.meta.url));
const STOP_GRACE_MS = 3_000;
/** Margin on top of a probe's own timeout before the agent itself is deemed stuck. */
const REPLY_MARGIN_MS = 5_000;

export interface ProbeOptions {
  proto: AgentProto;
  host: string;
  port: number;
  timeoutMs: number;
}

export interface RunningProbe {
  readonly result: Promise<ProbeResult>;
  cancel(): Promise<void>;
}

export interface ProbeResult {
  outcome: ProbeOutcome;
  localPort: number | undefined;
  elapsedMs: number;
  detail: string | undefined;
}

/** The socket helper running inside one namespace (see namespace-agent-main.ts). */
export interface StartedNamespaceAgent extends AsyncDisposable {
  readonly namespace: string;
  /** Listens on 0.0.0.0:port inside the namespace (TCP accepts, UDP echoes); idempotent. */
  listen(proto: AgentProto, port: number): Promise<void>;
  /**
   * Connects (TCP) or sends and awaits the echo (UDP) from inside the namespace. `cancel()` ends
   * the probe early; its result then has outcome `timeout` and detail `cancelled`.
   */
  startProbe(options: ProbeOptions): RunningProbe;
  close(): Promise<void>;
}

/**
 * Starts the socket helper inside `namespace` with this very Node binary and awaits its ready line.
 *
 * @example
 * await using agent = await startNamespaceAgent({ namespace: 'mth-1-0-b' });
 * await agent.listen('tcp', 8000);
 */
export async function startNamespaceAgent(options: { namespace: string; readyTimeoutMs?: number }): Promise<StartedNamespaceAgent> {
  const child = spawn('ip', ['netns', 'exec', options.namespace, process.execPath, AGENT_SCRIPT], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const agent = new NamespaceAgent(options.namespace, child);
  try {
    await agent.request({ op: 'ready' }, options.readyTimeoutMs ?? 10_000);
    return agent;
  } catch (error) {
    await agent.close();
    throw error;
  }
}

type Pending = { resolve(reply: AgentReply): void; reject(error: Error): void };
type RequestBody = DistributiveOmit<AgentRequest, 'id'> | { op: 'ready' };
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

class NamespaceAgent implements StartedNamespaceAgent {
  readonly namespace: string;
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, Pending>();
  readonly #exited: Promise<void>;
  readonly #stderr: string[] = [];
  #nextId = 1;
  #exit: string | undefined;
  #closing: Promise<void> | undefined;

  constructor(namespace: string, child: ChildProcess) {
    this.namespace = namespace;
    this.#child = child;
    this.#exited = new Promise((resolve) => {
      const settle = (description: string): void => {
        if (this.#exit !== undefined) return;
        this.#exit = description;
        for (const pending of this.#pending.values()) pending.reject(this.#error(`agent in ${namespace} ${description}`));
        this.#pending.clear();
        resolve();
      };
      child.once('close', (code, signal) => settle(signal ? `killed by ${signal}` : `exited with code ${code}`));
      child.once('error', (error) => settle(`failed to start: ${error.message}`));
    });
    if (child.stdout) readline.createInterface({ input: child.stdout }).on('line', (line) => this.#onLine(line));
    if (child.stderr) {
      readline.createInterface({ input: child.stderr }).on('line', (line) => {
        this.#stderr.push(line);
        if (this.#stderr.length > 20) this.#stderr.shift();
      });
    }
  }

  async listen(proto: AgentProto, port: number): Promise<void> {
    await this.request({ op: 'listen', proto, port }, REPLY_MARGIN_MS);
  }

  startProbe(options: ProbeOptions): RunningProbe {
    const { id, reply } = this.#send({ op: 'probe', ...options }, options.timeoutMs + REPLY_MARGIN_MS);
    const result = reply.then((r): ProbeResult => {
      if (r.outcome === undefined) throw this.#error(`agent in ${this.namespace} gave no probe outcome`);
      return { outcome: r.outcome, localPort: r.localPort, elapsedMs: r.elapsedMs ?? 0, detail: r.detail };
    });
    // The caller may only ever await cancel(); a failed probe must not become an unhandled rejection.
    result.catch(() => {});
    return {
      result,
      cancel: async () => {
        await this.request({ op: 'cancel', probeId: id }, REPLY_MARGIN_MS);
      },
    };
  }

  /** Sends one request; the `ready` pseudo-request waits for the greeting (id 0). */
  request(body: RequestBody, timeoutMs: number): Promise<AgentReply & { ok: true }> {
    return this.#send(body, timeoutMs).reply;
  }

  #send(body: RequestBody, timeoutMs: number): { id: number; reply: Promise<AgentReply & { ok: true }> } {
    const id = body.op === 'ready' ? 0 : this.#nextId++;
    if (this.#exit !== undefined) return { id, reply: Promise.reject(this.#error(`agent in ${this.namespace} ${this.#exit}`)) };
    const reply = new Promise<AgentReply & { ok: true }>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(this.#error(`agent in ${this.namespace}: no answer to ${body.op} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, {
        resolve: (answer) => {
          clearTimeout(timer);
          if (answer.ok) resolve(answer);
          else reject(this.#error(`agent in ${this.namespace}: ${body.op} failed: ${answer.error}`));
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      if (body.op !== 'ready') this.#child.stdin?.write(`${JSON.stringify({ id, ...body })}\n`);
    });
    return { id, reply };
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#exit !== undefined) return;
      this.#child.stdin?.end();
      const timer = setTimeout(() => this.#child.kill('SIGKILL'), STOP_GRACE_MS);
      await this.#exited;
      clearTimeout(timer);
    })();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #onLine(line: string): void {
    let reply: AgentReply;
    try {
      reply = JSON.parse(line) as AgentReply;
    } catch {
      return;
    }
    const pending = this.#pending.get(reply.id);
    if (!pending) return;
    this.#pending.delete(reply.id);
    pending.resolve(reply);
  }

  #error(message: string): NebulaLabError {
    const stderr = this.#stderr.length > 0 ? `\n--- agent stderr ---\n${this.#stderr.join('\n')}` : '';
    return new NebulaLabError('ERR_NEBULA_START', `${message}${stderr}`);
  }
}
