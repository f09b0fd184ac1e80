import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as LegacyTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Client as ModernClient, SdkError, SdkErrorCode, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
import { z } from 'zod';
import { lazySchemaValidator, timersOf } from '../../common/index.ts';
import type { Clock, Fetch } from '../../common/index.ts';
import type { ObservedAnswer } from './classify.ts';
import type { FailureReason } from './worker-report.ts';

/** The MCP revisions the simulated worker can be pinned to (`client_revision` on the worker). */
export const CLIENT_REVISIONS = ['2025-11-25', '2026-07-28'] as const;
export const ClientRevisionSchema = z.enum(CLIENT_REVISIONS, {
  error: (issue) => `must be one of ${CLIENT_REVISIONS.join(', ')} (the MCP revision the worker is pinned to; unset: negotiate as Claude Code 2.1.332), got ${JSON.stringify(issue.input)}`,
});
export type ClientRevision = z.infer<typeof ClientRevisionSchema>;

/** Claude Code 2.1.332 caps its HTTP probe's timeout at 5 s (`Math.min(5000, Math.floor(MCP_TIMEOUT / 3))`). */
const PROBE_TIMEOUT_CAP_MS = 5000;
/** A reconnect after a failed probe gets what is left of MCP_TIMEOUT, but at least 1 s. */
const RECONNECT_FLOOR_MS = 1000;
/** Deadlines closer than this are the same moment (timer granularity), not an order. */
const TIE_MS = 5;
/** The SDKs' own request timeouts run on real timers: never first, an attempt's abort ends a request. */
const SDK_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * How long Claude Code 2.1.332 waits for its `server/discover` probe on HTTP: a third of
 * MCP_TIMEOUT, at most 5 s. Measured (test/differential/direct.test.ts: a server silent to the
 * probe gets `initialize` 3.0 s after it with MCP_TIMEOUT 9000, 5.0 s with 30000) and read in its
 * bundle (`timeoutMs: Math.min(5000, Math.floor(MCP_TIMEOUT / 3))`).
 *
 * @example
 * probeTimeoutMs(30_000); // 5000
 * probeTimeoutMs(3_000); // 1000
 */
export function probeTimeoutMs(mcpTimeoutMs: number): number {
  return Math.max(1, Math.min(PROBE_TIMEOUT_CAP_MS, Math.floor(mcpTimeoutMs / 3)));
}

/** What the worker holds once connected, whichever SDK and revision it connected with. */
export interface McpSession {
  /** The revision the connection runs on. */
  revision: ClientRevision;
  listTools(params: undefined, options: { signal: AbortSignal; timeout: number }): Promise<{ tools: { name: string }[] }>;
  getServerVersion(): { name: string; version: string } | undefined;
  getServerCapabilities(): { tools?: object } | undefined;
  close(): Promise<void>;
}

export interface NegotiationOptions {
  url: URL;
  /** The worker's fetch for this server (its egress, the init wait's signal, the answers it saw). */
  fetch: Fetch;
  headers: Record<string, string>;
  /** Pinned revision, or undefined: negotiate as Claude Code 2.1.332 (probe, then fall back). */
  revision: ClientRevision | undefined;
  mcpTimeoutMs: number;
  /** `clock.now()` when the worker started connecting: the first attempt's timeout counts from it. */
  startedAt: number;
  /** The worker's clock: every timeout here runs on its timers (a scenario's virtual clock, or real time). */
  clock: Clock;
  /**
   * Whether a 401/403 answer to the probe ends the connection there: Claude Code 2.1.332 then asks
   * for an OAuth login (needs-auth) and sends no initialize. Otherwise initialize follows.
   */
  endsAtProbe(answer: ObservedAnswer): Promise<boolean>;
  /** The last non-2xx answer to a POST the fetch saw (reset by this module before each attempt). */
  answer(): ObservedAnswer | undefined;
  forgetAnswer(): void;
  clientInfo: { name: string; title: string; version: string };
}

/** One connection attempt, as it went (for the report and for the init-wait rule). */
export interface NegotiationAttempt {
  revision: ClientRevision;
  /** `probe`: server/discover (2026-07-28); `initialize`: the 2025 handshake on the same attempt; `reconnect`: a fresh one. */
  kind: 'probe' | 'initialize' | 'reconnect';
  /** `clock.now()` at which this attempt's own timeout fires. */
  deadlineAt: number;
}

export type NegotiationResult =
  | { ok: true; session: McpSession; attempts: NegotiationAttempt[] }
  | { ok: false; error: unknown; timedOut: boolean; timeoutMs: number; attempts: NegotiationAttempt[] };

/** Live view of a negotiation under way: the attempt running now. */
export interface Negotiation {
  result: Promise<NegotiationResult>;
  /** The attempt running now (its deadline decides `failed` vs `pending` at the init wait). */
  current(): NegotiationAttempt | undefined;
  /** Ends whatever attempt is running (the init wait passed, or the worker is done). */
  abort(reason: unknown): void;
}

/**
 * Connects to one server on the MCP revision the worker speaks. Unpinned, as Claude Code 2.1.332
 * does on HTTP (measured, README "What Claude Code 2.1.332 does"): a `server/discover` probe
 * first (MCP-Protocol-Version 2026-07-28, client info and capabilities in `params._meta`, through
 * the same fetch), timed out after {@link probeTimeoutMs}; a server offering 2026-07-28 is
 * connected on it (the v2 client, `@modelcontextprotocol/client`). Otherwise the 2025-11-25
 * `initialize` follows (the v1 client): on an error answer within the same attempt (its timeout
 * MCP_TIMEOUT from the worker's start), after a probe timeout or a reset on a fresh connection
 * with what is left of MCP_TIMEOUT (at least 1 s). A 401 to the probe that Claude Code answers
 * with an OAuth login (no Authorization header configured, and discovery finds a way to
 * register) ends it there: no initialize (`endsAtProbe`).
 * Pinned, only that revision is tried: 2025-11-25 sends `initialize` and no probe, 2026-07-28 the
 * probe and no fallback.
 *
 * @example
 * const negotiation = negotiateRevision({ url, fetch, headers, revision: undefined, mcpTimeoutMs: 30_000, startedAt: clock.now(), clock, ... });
 * const result = await negotiation.result;
 */
export function negotiateRevision(options: NegotiationOptions): Negotiation {
  const attempts: NegotiationAttempt[] = [];
  let running: { attempt: NegotiationAttempt; controller: AbortController } | undefined;
  let aborted: { reason: unknown } | undefined;
  const firstDeadline = options.startedAt + options.mcpTimeoutMs;
  const timers = timersOf(options.clock);

  /** Runs one attempt with its own timeout; `connect` gets the attempt's signal and fetch. */
  const attempt = async <T>(
    kind: NegotiationAttempt['kind'],
    revision: ClientRevision,
    deadlineAt: number,
    connect: (fetch: Fetch, signal: AbortSignal) => Promise<T>,
  ): Promise<{ ok: true; value: T } | { ok: false; error: unknown; timedOut: boolean; timeoutMs: number }> => {
    const controller = new AbortController();
    const entry: NegotiationAttempt = { revision, kind, deadlineAt };
    attempts.push(entry);
    running = { attempt: entry, controller };
    if (aborted) controller.abort(aborted.reason);
    const timeoutMs = Math.max(1, Math.ceil(deadlineAt - options.clock.now()));
    let timedOut = false;
    const timer = timers.setTimeout(() => {
      timedOut = true;
      controller.abort(new DOMException(`no answer within ${timeoutMs} ms`, 'TimeoutError'));
    }, timeoutMs);
    const fetch = ((input: Parameters<Fetch>[0], init?: Parameters<Fetch>[1]) =>
      options.fetch(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, controller.signal]) : controller.signal })) as Fetch;
    const ended = new Promise<never>((_resolve, reject) => {
      controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
    });
    ended.catch(() => {});
    try {
      const value = await Promise.race([connect(fetch, controller.signal), ended]);
      return { ok: true, value };
    } catch (error) {
      return { ok: false, error, timedOut, timeoutMs };
    } finally {
      timers.clearTimeout(timer);
    }
  };

  const legacy = (kind: 'initialize' | 'reconnect', deadlineAt: number) =>
    attempt(kind, '2025-11-25', deadlineAt, async (fetch, signal) => {
      const transport = new LegacyTransport(options.url, { fetch, requestInit: { headers: options.headers } });
      const client = new LegacyClient(options.clientInfo, { capabilities: { roots: {}, elicitation: {} }, jsonSchemaValidator: lazySchemaValidator() });
      await connectOrClose(client, transport, signal);
      return session('2025-11-25', client);
    });

  // The probe's timeout is the attempt's own (on the worker's clock), not the SDK's real-time one.
  const probe = (deadlineAt: number) =>
    attempt('probe', '2026-07-28', deadlineAt, async (fetch, signal) => {
      const transport = new ModernTransport(options.url, { fetch, requestInit: { headers: options.headers } });
      const client = new ModernClient(options.clientInfo, {
        capabilities: { roots: {}, elicitation: {} },
        versionNegotiation: { mode: { pin: '2026-07-28' }, probe: { timeoutMs: SDK_TIMEOUT_MS } },
      });
      await connectOrClose(client, transport, signal);
      return session('2026-07-28', client as never);
    });

  const run = async (): Promise<NegotiationResult> => {
    const done = (outcome: { ok: true; value: McpSession } | { ok: false; error: unknown; timedOut: boolean; timeoutMs: number }): NegotiationResult =>
      outcome.ok ? { ok: true, session: outcome.value, attempts } : { ok: false, error: outcome.error, timedOut: outcome.timedOut, timeoutMs: outcome.timeoutMs, attempts };
    if (options.revision === '2025-11-25') return done(await legacy('initialize', firstDeadline));
    if (options.revision === '2026-07-28') return done(await probe(firstDeadline));

    options.forgetAnswer();
    const probed = await probe(options.startedAt + probeTimeoutMs(options.mcpTimeoutMs));
    if (probed.ok || aborted) return done(probed);
    const answer = options.answer();
    if (!probed.timedOut && answer && (answer.status === 401 || answer.status === 403) && (await options.endsAtProbe(answer))) return done(probed);
    options.forgetAnswer();
    if (!probed.timedOut && (answer !== undefined || isErrorAnswer(probed.error))) {
      // The server answered the probe with an error: the 2025 handshake follows on the same attempt.
      return done(await legacy('initialize', firstDeadline));
    }
    // A probe timeout or a reset: a fresh connection, pinned to 2025-11-25, with what is left.
    const now = options.clock.now();
    return done(await legacy('reconnect', now + Math.max(RECONNECT_FLOOR_MS, firstDeadline - now)));
  };

  return {
    result: run(),
    current: () => running?.attempt,
    abort: (reason) => {
      aborted = { reason };
      running?.controller.abort(reason);
    },
  };
}

/** A server's outcome when the worker printed its init line while it was still connecting or listing tools. */
export function stillConnecting(mcpTimeoutMs: number): { status: 'pending'; reason: FailureReason } {
  return { status: 'pending', reason: { kind: 'timeout', detail: `still connecting when the worker printed its init line (MCP_TIMEOUT ${mcpTimeoutMs} ms)` } };
}

/**
 * At the init wait (MCP_TIMEOUT from the worker's start): `pending` unless the attempt under way
 * times out then too, in which case its own timeout decides (`failed`, undefined here). Decided
 * from the two deadlines, not from which timer fires first, so the verdict does not depend on
 * the machine's load. Real Claude Code races these two timers where they coincide (a server
 * silent to both attempts): README, "What Claude Code 2.1.332 does".
 */
export function initWaitOutcome(initWaitPassed: boolean, attempt: NegotiationAttempt | undefined, initWaitAt: number, mcpTimeoutMs: number) {
  if (!initWaitPassed) return undefined;
  if (attempt && attempt.deadlineAt <= initWaitAt + TIE_MS) return undefined;
  return stillConnecting(mcpTimeoutMs);
}

/** Either SDK's client, as far as connecting goes. */
interface Connectable<T> {
  onerror?: (error: Error) => void;
  connect(transport: T, options: { signal: AbortSignal; timeout: number }): Promise<void>;
  close(): Promise<void>;
}

/** Connects `client`, closing it when that fails. */
async function connectOrClose<T>(client: Connectable<T>, transport: T, signal: AbortSignal): Promise<void> {
  // The standalone GET stream and late errors land here; the outcome is decided by the awaited calls.
  client.onerror = () => {};
  try {
    await client.connect(transport, { signal, timeout: SDK_TIMEOUT_MS });
  } catch (error) {
    await client.close().catch(() => {});
    throw error;
  }
}

function session(revision: ClientRevision, client: LegacyClient): McpSession {
  return {
    revision,
    listTools: (params, options) => client.listTools(params, options),
    getServerVersion: () => {
      const info = client.getServerVersion();
      return info ? { name: info.name, version: info.version } : undefined;
    },
    getServerCapabilities: () => client.getServerCapabilities(),
    close: () => client.close(),
  };
}

/** A JSON-RPC error the server sent (the v1 SDK's answer to a method it does not know). */
function isErrorAnswer(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error instanceof SdkError) return error.code !== SdkErrorCode.EraNegotiationFailed || !/probe failed/i.test(error.message);
  return typeof (error as { code?: unknown }).code === 'number';
}
