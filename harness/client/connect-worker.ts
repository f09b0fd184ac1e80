import { systemClock, timersOf } from '../../common/index.ts';
import type { Clock, Fetch } from '../../common/index.ts';
import { classifyFailure, summarizeError, type ObservedAnswer } from './classify.ts';
import { expandEnv, type WorkerEnv } from './env-expansion.ts';
import { claudeCodeNeedsAuth } from './oauth-discovery.ts';
import { ClientError } from './errors.ts';
import { ClientRevisionSchema, initWaitOutcome, negotiateRevision, stillConnecting, type ClientRevision, type McpSession } from './revision-negotiation.ts';
import { McpServerConfigSchema, type HttpMcpServerConfig, type McpServerConfig } from './worker-config.ts';
import type { McpServerReport, WorkerReport } from './worker-report.ts';
import { mcpToolName, unpermittedTools, WorkerSettingsSchema, type WorkerSettings } from './worker-settings.ts';

export interface ConnectWorkerOptions {
  servers: readonly McpServerConfig[];
  /** The worker's environment, for `${VAR}` / `${VAR:-default}` in url and headers. */
  env: WorkerEnv;
  /** How the worker reaches the network; the harness passes `proxiedFetch(proxyUrl)` (the node's egress). */
  fetch?: Fetch;
  /**
   * The worker's MCP_TIMEOUT: how long it waits for its servers before printing its init line (a
   * server still connecting then is `pending`), and the base of each connection attempt's own
   * timeout (revision-negotiation.ts). A silently dropped flow ends here, never at the SDK's 60 s.
   */
  timeoutMs: number;
  /** Pin the MCP revision; unset: negotiate as Claude Code 2.1.332 (probe with server/discover, then fall back). */
  revision?: ClientRevision | undefined;
  /** settings.json; without it no permission is checked. */
  settings?: WorkerSettings;
  /** Time of `elapsedMs` and of the deadline (its timers when it has them, as a scenario's virtual clock does). */
  clock?: Clock;
}

const BODY_READ_LIMIT = 64 * 1024;
/** The SDK's own request timeout runs on real timers: never first, the deadline's abort ends a request. */
const SDK_TIMEOUT_MS = 2 ** 31 - 1;
const USER_AGENT = 'claude-code/0.0.0 (simulated by mcp-topology-harness)';

/**
 * Connects to every server at once as the claude-worker does at start (Claude Code's agent SDK):
 * per server a real SDK Client over Streamable HTTP with the expanded headers, `initialize`, then
 * `tools/list` when the server offers tools, then close. A server's failure is a `failed` (or
 * `needs-auth`) entry with a reason, never a throw; only bad options throw (`ERR_CLIENT_ARGUMENT`).
 *
 * As in Claude Code, a server whose `initialize` succeeded stays `connected` when `tools/list`
 * fails (it just has no tools; `reason` says why).
 *
 * @example
 * const report = await connectWorker({
 *   servers: parseWorkerConfig(text, { file: 'agent_config.yaml' }).servers,
 *   env: { MONITORING_AI_MCP_URL: ai.url },
 *   fetch: proxiedFetch(node.proxyUrl),
 *   timeoutMs: 2_000,
 * });
 * console.log(formatMcpServersLine(report));
 */
export async function connectWorker(options: ConnectWorkerOptions): Promise<WorkerReport> {
  const { servers, env, timeoutMs, settings, revision } = checkOptions(options);
  const fetch = options.fetch ?? globalThis.fetch;
  const clock = options.clock ?? systemClock;
  const reports = await Promise.all(servers.map((server) => connectServer(server, { env, fetch, timeoutMs, clock, revision })));
  const report: WorkerReport = { servers: reports, permissionsChecked: settings !== undefined, unpermitted: [], denied: [] };
  if (settings) {
    const unpermitted = unpermittedTools(report, settings);
    report.unpermitted = unpermitted.map((entry) => entry.tool);
    report.denied = unpermitted.filter((entry) => entry.reason === 'denied').map((entry) => entry.tool);
  }
  return report;
}

function checkOptions(options: ConnectWorkerOptions): ConnectWorkerOptions {
  if (!options || typeof options !== 'object') throw argumentError('options are required');
  if (!Array.isArray(options.servers)) throw argumentError('servers must be an array');
  const names = new Set<string>();
  for (const [index, server] of options.servers.entries()) {
    const parsed = McpServerConfigSchema.safeParse(server);
    if (!parsed.success) throw argumentError(`servers[${index}] is not a server config: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    if (names.has(server.name)) throw argumentError(`servers[${index}]: duplicate server name ${JSON.stringify(server.name)}`);
    names.add(server.name);
  }
  if (!options.env || typeof options.env !== 'object') throw argumentError('env must be an object (use {} for none)');
  if (typeof options.timeoutMs !== 'number' || !Number.isFinite(options.timeoutMs) || options.timeoutMs <= 0) {
    throw argumentError(`timeoutMs must be a positive number of milliseconds, got ${String(options.timeoutMs)}`);
  }
  if (options.fetch !== undefined && typeof options.fetch !== 'function') throw argumentError('fetch must be a function');
  if (options.revision !== undefined && !ClientRevisionSchema.safeParse(options.revision).success) {
    throw argumentError(`revision ${ClientRevisionSchema.safeParse(options.revision).error?.issues[0]?.message ?? 'is unknown'}`);
  }
  if (options.settings !== undefined && !WorkerSettingsSchema.safeParse(options.settings).success) {
    throw argumentError('settings must come from parseWorkerSettings');
  }
  return options;
}

function argumentError(message: string): ClientError {
  return new ClientError('ERR_CLIENT_ARGUMENT', `connectWorker: ${message}`);
}

interface Context {
  env: WorkerEnv;
  fetch: Fetch;
  timeoutMs: number;
  clock: Clock;
  revision: ClientRevision | undefined;
}

async function connectServer(server: McpServerConfig, context: Context): Promise<McpServerReport> {
  const started = context.clock.now();
  const elapsed = () => Math.max(0, context.clock.now() - started);
  if (server.type !== 'http') {
    return {
      name: server.name, status: 'failed', tools: [], url: '', missingEnv: [], elapsedMs: elapsed(),
      reason: { kind: 'config', detail: `type "${server.type}": ${server.unsupported}` },
    };
  }
  const expanded = expandServer(server, context.env);
  const base = { name: server.name, url: expanded.url, missingEnv: expanded.missing };
  const invalid = invalidConfig(expanded);
  if (invalid) {
    return { ...base, status: 'failed', tools: [], elapsedMs: elapsed(), reason: { kind: 'config', detail: invalid } };
  }

  const deadline = new AbortController();
  let timedOut = false;
  // The init wait: MCP_TIMEOUT from the worker's start (every server starts at once).
  const deadlineAt = started + context.timeoutMs;
  const timers = timersOf(context.clock);
  const timer = timers.setTimeout(() => {
    timedOut = true;
    deadline.abort(new DOMException(`no answer within ${context.timeoutMs} ms`, 'TimeoutError'));
  }, context.timeoutMs);
  const seen: { answer: ObservedAnswer | undefined } = { answer: undefined };
  const authorizationConfigured = Object.keys(server.headers).some((name) => name.toLowerCase() === 'authorization');
  // OAuth discovery once per status: asked after a refused probe and again for the verdict.
  const discoveries = new Map<number, Promise<boolean>>();
  const needsAuth = (status: 401 | 403, wwwAuthenticate: string | undefined): Promise<boolean> => {
    if (!discoveries.has(status)) {
      discoveries.set(status, claudeCodeNeedsAuth({
        status, serverUrl: expanded.url, wwwAuthenticate, authorizationConfigured,
        fetch: (input, init) => context.fetch(input, { ...init, signal: deadline.signal }),
      }));
    }
    return discoveries.get(status)!;
  };
  const negotiation = negotiateRevision({
    url: new URL(expanded.url),
    fetch: observingFetch(context.fetch, deadline.signal, seen),
    headers: requestHeaders(expanded.headers),
    revision: context.revision,
    mcpTimeoutMs: context.timeoutMs,
    startedAt: started,
    clock: context.clock,
    endsAtProbe: (answer) => (answer.status === 401 ? needsAuth(401, answer.wwwAuthenticate) : Promise.resolve(false)),
    answer: () => seen.answer,
    forgetAnswer: () => {
      seen.answer = undefined;
    },
    clientInfo: { name: 'claude-code', title: 'Claude Code (simulated)', version: '0.0.0' },
  });
  let client: McpSession | undefined;
  let stage: 'initialize' | 'tools/list' = 'initialize';
  const requestOptions = () => ({ signal: deadline.signal, timeout: SDK_TIMEOUT_MS });
  const deadlinePassed = new Promise<{ ok: false; error: undefined }>((resolve) => {
    deadline.signal.addEventListener('abort', () => resolve({ ok: false, error: undefined }), { once: true });
  });

  try {
    const initialized = await Promise.race([negotiation.result, deadlinePassed]);
    if (!initialized.ok) {
      const pending = initWaitOutcome(timedOut, negotiation.current(), deadlineAt, context.timeoutMs);
      if (pending) return { ...base, ...pending, tools: [], elapsedMs: elapsed() };
      const attemptTimedOut = timedOut || ('timedOut' in initialized && initialized.timedOut);
      const verdict = classifyFailure({
        error: attemptTimedOut ? undefined : initialized.error, timedOut: attemptTimedOut,
        timeoutMs: 'timeoutMs' in initialized ? initialized.timeoutMs : context.timeoutMs, stage,
        answer: seen.answer,
      });
      const refused = seen.answer?.status;
      if (!attemptTimedOut && (refused === 401 || refused === 403) && (await needsAuth(refused, seen.answer?.wwwAuthenticate))) verdict.status = 'needs-auth';
      return { ...base, ...verdict, tools: [], elapsedMs: elapsed() };
    }
    client = initialized.session;
    const serverInfo = client.getServerVersion();
    const info = serverInfo ? { serverInfo: { name: serverInfo.name, version: serverInfo.version } } : {};
    if (!client.getServerCapabilities()?.tools) {
      return { ...base, ...info, status: 'connected', tools: [], elapsedMs: elapsed() };
    }
    stage = 'tools/list';
    seen.answer = undefined;
    const listed = await Promise.race([
      client.listTools(undefined, requestOptions()).then((result) => ({ ok: true as const, result }), (error: unknown) => ({ ok: false as const, error })),
      deadlinePassed,
    ]);
    if (!listed.ok) {
      // Still listing tools when the worker printed its init line: Claude Code shows it pending.
      if (timedOut) return { ...base, ...info, ...stillConnecting(context.timeoutMs), tools: [], elapsedMs: elapsed() };
      const verdict = classifyFailure({
        error: timedOut ? undefined : listed.error, timedOut, timeoutMs: context.timeoutMs, stage,
        answer: seen.answer,
      });
      // Claude Code keeps a server connected when only tools/list fails: it has no tools.
      const { status: _ignored, ...why } = verdict;
      return { ...base, ...info, ...why, status: 'connected', tools: [], elapsedMs: elapsed() };
    }
    const tools = listed.result.tools.map((tool) => mcpToolName(server.name, tool.name));
    return { ...base, ...info, status: 'connected', tools, elapsedMs: elapsed() };
  } catch (error) {
    // Not a server's answer but something in the client itself: still a report, not a throw.
    const summary = summarizeError(error);
    return { ...base, status: 'failed', tools: [], elapsedMs: elapsed(), error: summary, reason: { kind: 'protocol', detail: `client error: ${summary.message}` } };
  } finally {
    timers.clearTimeout(timer);
    // Ends anything still in flight (the standalone GET stream, a late request). A connected
    // client is closed first: aborting its requests' signals while it is open sends
    // notifications/cancelled, which Claude Code does not.
    if (client) await client.close().catch(() => {});
    if (!deadline.signal.aborted) deadline.abort(new DOMException('worker finished with this server', 'AbortError'));
    negotiation.abort(new DOMException('worker finished with this server', 'AbortError'));
    // A connection that completed after the init wait is closed too.
    if (!client) await negotiation.result.then((late) => (late.ok ? late.session.close() : undefined)).catch(() => {});
  }
}

interface ExpandedServer {
  url: string;
  headers: Record<string, string>;
  missing: string[];
}

function expandServer(server: HttpMcpServerConfig, env: WorkerEnv): ExpandedServer {
  const missing = new Set<string>();
  const url = expandEnv(server.url, env);
  url.missing.forEach((name) => missing.add(name));
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(server.headers)) {
    const expanded = expandEnv(value, env);
    expanded.missing.forEach((missingName) => missing.add(missingName));
    headers[name] = expanded.value;
  }
  return { url: url.value, headers, missing: [...missing] };
}

/** Why the expanded config cannot even be tried, or undefined. */
function invalidConfig(expanded: ExpandedServer): string | undefined {
  const unexpanded = expanded.missing.length > 0 ? ` (unset: ${expanded.missing.join(', ')})` : '';
  let url: URL;
  try {
    url = new URL(expanded.url);
  } catch {
    return `url ${JSON.stringify(expanded.url)} is not a valid URL${unexpanded}`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `url ${JSON.stringify(expanded.url)} is not http(s)${unexpanded}`;
  try {
    new Headers(expanded.headers);
  } catch (error) {
    return `headers cannot be sent: ${error instanceof Error ? error.message : String(error)}${unexpanded}`;
  }
  return undefined;
}

/** The configured headers, with Claude Code's kind of User-Agent unless the config sets one. */
function requestHeaders(headers: Record<string, string>): Record<string, string> {
  const hasUserAgent = Object.keys(headers).some((name) => name.toLowerCase() === 'user-agent');
  return hasUserAgent ? { ...headers } : { 'User-Agent': USER_AGENT, ...headers };
}

/**
 * The worker's fetch with the server's deadline on every request, remembering the last non-2xx
 * answer to a POST (status, body, WWW-Authenticate): the SDK's errors keep only part of it.
 */
function observingFetch(base: Fetch, deadline: AbortSignal, seen: { answer: ObservedAnswer | undefined }): Fetch {
  return (async (input: Parameters<Fetch>[0], init?: Parameters<Fetch>[1]) => {
    const signal = init?.signal ? AbortSignal.any([init.signal, deadline]) : deadline;
    const response = await base(input, { ...init, signal });
    const method = (init?.method ?? 'GET').toUpperCase();
    if (method === 'POST' && !response.ok && !(response.status >= 300 && response.status < 400)) {
      const headers = new Headers(init?.headers);
      seen.answer = {
        status: response.status,
        body: await readBody(response),
        wwwAuthenticate: response.headers.get('www-authenticate') ?? undefined,
        proxyStatus: response.headers.get('proxy-status') ?? undefined,
        networkHint: response.headers.get('x-harness-network') ?? undefined,
        authorization: headers.get('authorization') ?? undefined,
      };
    }
    return response;
  }) as Fetch;
}

async function readBody(response: Response): Promise<string | undefined> {
  try {
    const text = await response.clone().text();
    return text.slice(0, BODY_READ_LIMIT);
  } catch {
    return undefined;
  }
}
