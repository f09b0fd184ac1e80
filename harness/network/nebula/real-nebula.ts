import { readdirSync, rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { NebulaLabError } from './errors.ts';
import { startNamespaceAgent, type ProbeResult, type RunningProbe, type StartedNamespaceAgent } from './namespace-agent.ts';
import { buildNebulaConfig } from './nebula-config.ts';
import { startNebulaProcess, type NebulaLogEntry, type StartedNebulaProcess } from './nebula-process.ts';
import { createNamespacePair, isProcessAlive, removeNamespaceSync, removeStaleNamespaces, type NamespacePair } from './netns.ts';
import { NebulaPki, type NebulaHostCert } from './pki.ts';

/** The overlay network of the lab: exists only inside its two namespaces. */
export const OVERLAY_PREFIX = '10.42.0';
export const OVERLAY_BITS = 24;
export const DEFAULT_FROM_IP = `${OVERLAY_PREFIX}.1`;
export const DEFAULT_TO_IP = `${OVERLAY_PREFIX}.2`;
/** The CA that signs a node whose spec names none. */
export const DEFAULT_CA_NAME = 'mth-ca';

const TEMP_DIR_PREFIX = 'mth-nebula-';
const LISTEN_PORT = 4242; // inside the namespaces only, so a fixed port cannot clash
const TUN_DEV = 'neb0';

export type RealProto = 'tcp' | 'udp';

/** One side of a flow, as real Nebula gets it: a certificate (name, groups, issuer, ip) and a firewall. */
export interface RealNodeSpec {
  name: string;
  groups: readonly string[];
  /** Name of the CA that signs this node's cert (made on first use); default `mth-ca`. */
  caName?: string;
  /** Overlay IP inside 10.42.0.0/24; default 10.42.0.1 for `from`, 10.42.0.2 for `to`. */
  ip?: string;
  /** The raw nebula `firewall:` section (outbound, inbound, optional conntrack), as a user writes it. */
  firewall: unknown;
}

export interface RealFlowCase {
  from: RealNodeSpec;
  to: RealNodeSpec;
  port: number;
  proto: RealProto;
}

/** What the node's certificate says: the same fields as the shim's NodeIdentity. */
export interface RealNodeIdentity {
  name: string;
  ip: string;
  groups: string[];
  caName: string;
  caSha: string;
}

export interface RealFlowResult {
  /** Real Nebula 1.6 has no reject: a flow is either let through or silently dropped. */
  verdict: 'allow' | 'drop';
  /** Which table dropped the flow, read from nebula's debug log. */
  droppedBy?: 'outbound' | 'inbound';
  /** Nebula's own reason, e.g. `no matching rule in firewall table`. */
  reason?: string;
  from: RealNodeIdentity;
  to: RealNodeIdentity;
  /** `started`: nebula was (re)started for new certificates; `reloaded`: only the firewall changed (SIGHUP). */
  setup: 'started' | 'reloaded';
  /** How long the probe itself took. */
  probeMs: number;
  /** The probe's source port in `from`'s namespace, when the kernel had assigned one. */
  sourcePort?: number;
}

export interface StartRealNebulaOptions {
  /** How long a TCP connect / UDP echo may take before the flow counts as dropped; default 1000 ms. */
  probeTimeoutMs?: number;
  /** Deadline for the tunnel handshake after a (re)start; default 5000 ms. */
  handshakeTimeoutMs?: number;
}

/** Two namespaces, a veth between them and (while a case runs) two real nebula processes. */
export interface StartedRealNebula extends AsyncDisposable {
  readonly namespaces: { readonly from: string; readonly to: string };
  /** The identity nebula will present for `spec` in role `role` (makes the certificate if needed). */
  identity(spec: RealNodeSpec, role: 'from' | 'to'): Promise<RealNodeIdentity>;
  /** The CA called `name` (made on first use): its fingerprint is what `ca_sha` rules name. */
  ca(name: string): Promise<{ name: string; sha: string }>;
  /** Sets nebula up for the case (restart or SIGHUP), probes `from` -> `to` and reads the verdict. */
  run(flow: RealFlowCase): Promise<RealFlowResult>;
  close(): Promise<void>;
}

/**
 * Starts the real-Nebula lab: removes namespaces left by dead runs, makes a fresh namespace pair
 * with a veth between them and a socket agent in each. Nebula itself starts on the first `run`.
 *
 * @example
 * await using lab = await startRealNebula();
 * const result = await lab.run({
 *   from: { name: 'worker', groups: ['dev'], firewall: { outbound: [{ port: 8000, proto: 'tcp', group: 'dev' }], inbound: [] } },
 *   to: { name: 'mcp', groups: ['dev'], firewall: { outbound: [], inbound: [{ port: 'any', proto: 'any', host: 'any' }] } },
 *   port: 8000,
 *   proto: 'tcp',
 * });
 * result.verdict; // 'allow'
 */
export async function startRealNebula(options: StartRealNebulaOptions = {}): Promise<StartedRealNebula> {
  removeStaleLabs();
  const dir = await mkdtemp(path.join(os.tmpdir(), `${TEMP_DIR_PREFIX}${process.pid}-`));
  const lab = new RealNebulaLab(dir, options);
  liveLabs.add(lab);
  installExitHandlers();
  try {
    await lab.init();
    return lab;
  } catch (error) {
    await lab.close();
    throw error;
  }
}

interface RunningPair {
  key: string;
  from: StartedNebulaProcess;
  to: StartedNebulaProcess;
}

class RealNebulaLab implements StartedRealNebula {
  readonly #dir: string;
  readonly #pki: NebulaPki;
  readonly #probeTimeoutMs: number;
  readonly #handshakeTimeoutMs: number;
  #pair: NamespacePair | undefined;
  #fromAgent: StartedNamespaceAgent | undefined;
  #toAgent: StartedNamespaceAgent | undefined;
  #running: RunningPair | undefined;
  #closing: Promise<void> | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(dir: string, options: StartRealNebulaOptions) {
    this.#dir = dir;
    this.#pki = new NebulaPki(dir);
    this.#probeTimeoutMs = options.probeTimeoutMs ?? 1_000;
    this.#handshakeTimeoutMs = options.handshakeTimeoutMs ?? 5_000;
  }

  get namespaces(): { from: string; to: string } {
    const pair = this.#requirePair();
    return { from: pair.a, to: pair.b };
  }

  async init(): Promise<void> {
    this.#pair = await createNamespacePair();
    [this.#fromAgent, this.#toAgent] = await Promise.all([
      startNamespaceAgent({ namespace: this.#pair.a }),
      startNamespaceAgent({ namespace: this.#pair.b }),
    ]);
  }

  async ca(name: string): Promise<{ name: string; sha: string }> {
    this.#assertOpen();
    const ca = await this.#pki.ca(name);
    return { name: ca.name, sha: ca.sha };
  }

  async identity(spec: RealNodeSpec, role: 'from' | 'to'): Promise<RealNodeIdentity> {
    this.#assertOpen();
    return toIdentity(await this.#cert(spec, role));
  }

  run(flow: RealFlowCase): Promise<RealFlowResult> {
    // One case at a time: cases share the two nebula processes and read verdicts from their logs.
    const next = this.#queue.then(() => this.#runOne(flow));
    this.#queue = next.catch(() => undefined);
    return next;
  }

  async #runOne(flow: RealFlowCase): Promise<RealFlowResult> {
    this.#assertOpen();
    validateFlow(flow);
    const pair = this.#requirePair();
    const [fromCert, toCert] = await Promise.all([this.#cert(flow.from, 'from'), this.#cert(flow.to, 'to')]);
    if (fromCert.ip === toCert.ip) {
      throw new NebulaLabError('ERR_NEBULA_CASE_INVALID', `from and to both have overlay ip ${fromCert.ip}`);
    }
    const setup = await this.#setUp(pair, fromCert, toCert, flow);
    const running = this.#running;
    if (!running) throw new NebulaLabError('ERR_NEBULA_START', 'nebula is not running after set-up');

    await this.#requireAgent(this.#toAgent).listen(flow.proto, flow.port);
    const fromMark = running.from.mark();
    const toMark = running.to.mark();
    const match = { proto: flow.proto, port: flow.port, fromIp: fromCert.ip, toIp: toCert.ip };
    const probe = this.#requireAgent(this.#fromAgent).startProbe({
      proto: flow.proto,
      host: toCert.ip,
      port: flow.port,
      timeoutMs: this.#probeTimeoutMs,
    });
    const stopWatching = new AbortController();
    const watch = watchForDrop(running, fromMark, toMark, match, this.#probeTimeoutMs + DROP_LOG_GRACE_MS, stopWatching.signal);
    const outcome = await this.#observe(probe, watch, stopWatching);
    const result = outcome.probe;
    const base = {
      from: toIdentity(fromCert),
      to: toIdentity(toCert),
      setup,
      probeMs: result.elapsedMs,
      ...(result.localPort === undefined ? {} : { sourcePort: result.localPort }),
    };
    const what = `the ${flow.proto} probe ${fromCert.ip} -> ${toCert.ip}:${flow.port}`;
    const drop = outcome.drop;

    if (result.outcome === 'connected' || result.outcome === 'echoed') {
      if (drop) throw this.#inconclusive(`${what} got through, yet nebula logged dropping it (${drop.droppedBy})`, running);
      return { verdict: 'allow', ...base };
    }
    if (result.outcome !== 'timeout') {
      throw this.#inconclusive(`${what} ended with ${result.outcome}${result.detail ? ` (${result.detail})` : ''}`, running);
    }
    if (!drop) throw this.#inconclusive(`${what} timed out after ${result.elapsedMs} ms, yet nebula logged no firewall drop`, running);
    if (drop.reason !== 'no matching rule in firewall table') {
      throw this.#inconclusive(`nebula dropped ${what}, but not for a firewall rule: ${drop.reason}`, running);
    }
    if (result.localPort !== undefined && drop.sourcePort !== result.localPort) {
      throw this.#inconclusive(`nebula dropped source port ${drop.sourcePort}, but ${what} used ${result.localPort}`, running);
    }
    return { verdict: 'drop', droppedBy: drop.droppedBy, reason: drop.reason, ...base };
  }

  /**
   * Runs the probe against nebula's log. A probe that ends first decides (a timeout then still
   * needs the drop line). A drop line that comes first is nebula's own verdict; the probe must
   * then stay unanswered for a short confirm window before it is cancelled, instead of running
   * into its full timeout: this keeps each dropped case well under a second.
   */
  async #observe(
    probe: RunningProbe,
    watch: Promise<Drop | undefined>,
    stopWatching: AbortController,
  ): Promise<{ probe: ProbeResult; drop: Drop | undefined }> {
    const first = await Promise.race([
      probe.result.then((result) => ({ kind: 'probe' as const, result })),
      watch.then((drop) => ({ kind: 'drop' as const, drop })),
    ]);
    if (first.kind === 'probe') {
      if (first.result.outcome !== 'timeout') stopWatching.abort(new Error('probe answered'));
      return { probe: first.result, drop: await watch };
    }
    if (first.drop) {
      let confirmTimer: NodeJS.Timeout | undefined;
      const confirmed = new Promise<void>((resolve) => {
        confirmTimer = setTimeout(resolve, DROP_CONFIRM_MS);
      });
      await Promise.race([probe.result, confirmed]);
      clearTimeout(confirmTimer);
      await probe.cancel();
    }
    return { probe: await probe.result, drop: first.drop };
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      const running = this.#running;
      this.#running = undefined;
      await Promise.allSettled([running?.from.close(), running?.to.close(), this.#fromAgent?.close(), this.#toAgent?.close()]);
      this.#removeSync();
      await rm(this.#dir, { recursive: true, force: true });
      liveLabs.delete(this);
      uninstallExitHandlersWhenIdle();
    })();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** The synchronous last resort for `exit` and signals: kills everything in our namespaces. */
  closeSync(): void {
    this.#removeSync();
    rmSync(this.#dir, { recursive: true, force: true });
    liveLabs.delete(this);
  }

  #removeSync(): void {
    if (!this.#pair) return;
    removeNamespaceSync(this.#pair.a);
    removeNamespaceSync(this.#pair.b);
  }

  /** Restarts nebula when the certificates change, else only reloads the firewalls with SIGHUP. */
  async #setUp(pair: NamespacePair, fromCert: NebulaHostCert, toCert: NebulaHostCert, flow: RealFlowCase): Promise<'started' | 'reloaded'> {
    // Each node trusts the CAs of both nodes, so that a handshake never depends on the case.
    const caPems = [...new Set([fromCert.ca.pem, toCert.ca.pem])];
    const caFile = path.join(this.#dir, 'ca-bundle.crt');
    const key = JSON.stringify([fromCert.crtFile, toCert.crtFile, caPems]);
    const fromConfig = path.join(this.#dir, 'from.yml');
    const toConfig = path.join(this.#dir, 'to.yml');
    const peerUdp = (host: string): string[] => [`${host}:${LISTEN_PORT}`];

    await writeFile(
      fromConfig,
      buildNebulaConfig({
        pki: { ca: caFile, cert: fromCert.crtFile, key: fromCert.keyFile },
        listen: { host: pair.underlayA, port: LISTEN_PORT },
        amLighthouse: true,
        lighthouses: [],
        staticHostMap: { [toCert.ip]: peerUdp(pair.underlayB) },
        tunDev: TUN_DEV,
        firewall: flow.from.firewall,
      }),
    );
    await writeFile(
      toConfig,
      buildNebulaConfig({
        pki: { ca: caFile, cert: toCert.crtFile, key: toCert.keyFile },
        listen: { host: pair.underlayB, port: LISTEN_PORT },
        amLighthouse: false,
        lighthouses: [fromCert.ip],
        staticHostMap: { [fromCert.ip]: peerUdp(pair.underlayA) },
        tunDev: TUN_DEV,
        firewall: flow.to.firewall,
      }),
    );

    if (this.#running?.key === key) {
      const running = this.#running;
      try {
        await Promise.all([running.from.reload(), running.to.reload()]);
        return 'reloaded';
      } catch (error) {
        // A half-applied reload leaves nebula in an unknown state: start afresh next time.
        await this.#stopNebula();
        throw error;
      }
    }

    await this.#stopNebula();
    await writeFile(caFile, caPems.join(''));
    const from = await startNebulaProcess({ name: 'from', namespace: pair.a, configFile: fromConfig });
    let to: StartedNebulaProcess;
    try {
      to = await startNebulaProcess({ name: 'to', namespace: pair.b, configFile: toConfig });
    } catch (error) {
      await from.close();
      throw error;
    }
    this.#running = { key, from, to };
    // `to` reports to its lighthouse `from` at start, which makes the tunnel with no data packet,
    // so the handshake never depends on the case's firewall.
    const stage2 = (entry: NebulaLogEntry): boolean =>
      entry.msg === 'Handshake message received' && (entry['handshake'] as { stage?: number } | undefined)?.stage === 2;
    const waitOptions = { timeoutMs: this.#handshakeTimeoutMs, what: 'completed handshake', code: 'ERR_NEBULA_HANDSHAKE_TIMEOUT' as const };
    try {
      await Promise.any([to.waitFor(stage2, waitOptions), from.waitFor(stage2, waitOptions)]);
    } catch (error) {
      const tails = `--- nebula from ---\n${from.tail()}\n--- nebula to ---\n${to.tail()}`;
      await this.#stopNebula();
      throw new NebulaLabError('ERR_NEBULA_HANDSHAKE_TIMEOUT', `no tunnel between the lab nodes within ${this.#handshakeTimeoutMs} ms\n${tails}`, {
        cause: error,
      });
    }
    return 'started';
  }

  async #stopNebula(): Promise<void> {
    const running = this.#running;
    this.#running = undefined;
    if (running) await Promise.all([running.from.close(), running.to.close()]);
  }

  #cert(spec: RealNodeSpec, role: 'from' | 'to'): Promise<NebulaHostCert> {
    const ip = spec.ip ?? (role === 'from' ? DEFAULT_FROM_IP : DEFAULT_TO_IP);
    if (!isLabOverlayIp(ip)) {
      throw new NebulaLabError('ERR_NEBULA_CASE_INVALID', `${role} ip ${ip} is not a host address in ${OVERLAY_PREFIX}.0/${OVERLAY_BITS}`);
    }
    return this.#pki.hostCert({ name: spec.name, ip, prefix: OVERLAY_BITS, groups: spec.groups, caName: spec.caName ?? DEFAULT_CA_NAME });
  }

  #inconclusive(message: string, running: RunningPair): NebulaLabError {
    return new NebulaLabError(
      'ERR_NEBULA_PROBE_INCONCLUSIVE',
      `${message}\n--- nebula from ---\n${running.from.tail()}\n--- nebula to ---\n${running.to.tail()}`,
    );
  }

  #requirePair(): NamespacePair {
    if (!this.#pair) throw new NebulaLabError('ERR_NEBULA_CLOSED', 'the lab has no namespaces (not started or closed)');
    return this.#pair;
  }

  #requireAgent(agent: StartedNamespaceAgent | undefined): StartedNamespaceAgent {
    if (!agent) throw new NebulaLabError('ERR_NEBULA_CLOSED', 'the lab has no namespace agent (not started or closed)');
    return agent;
  }

  #assertOpen(): void {
    if (this.#closing) throw new NebulaLabError('ERR_NEBULA_CLOSED', 'the real-nebula lab is closed');
  }
}

/**
 * What a SIGKILLed run could not clean: its namespaces (with the nebula processes in them) and
 * its temp dir (`mth-nebula-<pid>-*`), for owner pids that are gone.
 */
function removeStaleLabs(): void {
  removeStaleNamespaces();
  const tmp = os.tmpdir();
  for (const entry of readdirSync(tmp)) {
    const owner = new RegExp(`^${TEMP_DIR_PREFIX}(\\d+)-`).exec(entry);
    if (owner && !isProcessAlive(Number(owner[1]))) rmSync(path.join(tmp, entry), { recursive: true, force: true });
  }
}

function toIdentity(cert: NebulaHostCert): RealNodeIdentity {
  return { name: cert.name, ip: cert.ip, groups: [...cert.groups], caName: cert.ca.name, caSha: cert.ca.sha };
}

function isLabOverlayIp(ip: string): boolean {
  const match = /^10\.42\.0\.(\d{1,3})$/.exec(ip);
  const host = match ? Number(match[1]) : -1;
  return host >= 1 && host <= 254;
}

function validateFlow(flow: RealFlowCase): void {
  if (flow.proto !== 'tcp' && flow.proto !== 'udp') {
    throw new NebulaLabError('ERR_NEBULA_CASE_INVALID', `proto must be tcp or udp, got ${String(flow.proto)}`);
  }
  if (!Number.isInteger(flow.port) || flow.port < 1 || flow.port > 65_535) {
    throw new NebulaLabError('ERR_NEBULA_CASE_INVALID', `port must be 1-65535, got ${String(flow.port)}`);
  }
}

interface FlowMatch {
  proto: RealProto;
  port: number;
  fromIp: string;
  toIp: string;
}

interface FwPacket {
  LocalIP?: string;
  RemoteIP?: string;
  LocalPort?: number;
  RemotePort?: number;
  Protocol?: string;
}

interface Drop {
  droppedBy: 'outbound' | 'inbound';
  reason: string;
  /** The flow's source port as nebula logged it. */
  sourcePort: number | undefined;
}

/** How long to wait for a drop line that nebula has written but our pipe has not yet delivered. */
const DROP_LOG_GRACE_MS = 500;
/** After nebula logged the drop, how long the probe must stay unanswered before it is cancelled. */
const DROP_CONFIRM_MS = 200;

/**
 * The firewall drop of this flow in nebula's debug log (outbound on `from`, inbound on `to`),
 * or undefined when none comes within `timeoutMs` or the watch is aborted. Only lines after the
 * marks count, and only one probe runs at a time, so a line that names the flow is this probe's.
 */
async function watchForDrop(
  running: RunningPair,
  fromMark: number,
  toMark: number,
  flow: FlowMatch,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<Drop | undefined> {
  const outbound = (entry: NebulaLogEntry): boolean => {
    if (entry.msg !== 'dropping outbound packet' && entry.msg !== 'dropping cached packet') return false;
    const fp = entry['fwPacket'] as FwPacket | undefined;
    return fp?.Protocol === flow.proto && fp.RemoteIP === flow.toIp && fp.RemotePort === flow.port;
  };
  const inbound = (entry: NebulaLogEntry): boolean => {
    if (entry.msg !== 'dropping inbound packet') return false;
    const fp = entry['fwPacket'] as FwPacket | undefined;
    return fp?.Protocol === flow.proto && fp.LocalIP === flow.toIp && fp.LocalPort === flow.port && fp.RemoteIP === flow.fromIp;
  };
  const options = { timeoutMs, what: 'firewall drop', signal };
  const local = new AbortController();
  const both = AbortSignal.any([signal, local.signal]);
  try {
    const drop = await Promise.any([
      running.from.waitFor(outbound, { ...options, from: fromMark, signal: both }).then((entry): Drop => ({
        droppedBy: 'outbound',
        reason: String(entry['reason']),
        sourcePort: (entry['fwPacket'] as FwPacket).LocalPort,
      })),
      running.to.waitFor(inbound, { ...options, from: toMark, signal: both }).then((entry): Drop => ({
        droppedBy: 'inbound',
        reason: String(entry['reason']),
        sourcePort: (entry['fwPacket'] as FwPacket).RemotePort,
      })),
    ]);
    return drop;
  } catch {
    return undefined;
  } finally {
    // Whichever side answered, stop the other waiter now rather than at its timeout.
    local.abort(new Error('done'));
  }
}

const liveLabs = new Set<RealNebulaLab>();
let handlersInstalled = false;

function closeAllSync(): void {
  for (const lab of [...liveLabs]) lab.closeSync();
}

function onSignal(signal: NodeJS.Signals): void {
  closeAllSync();
  uninstallExitHandlers();
  // Re-raise so that the process still ends the way the signal asked.
  process.kill(process.pid, signal);
}

function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', closeAllSync);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
}

function uninstallExitHandlers(): void {
  if (!handlersInstalled) return;
  handlersInstalled = false;
  process.off('exit', closeAllSync);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  process.off('SIGHUP', onSignal);
}

function uninstallExitHandlersWhenIdle(): void {
  if (liveLabs.size === 0) uninstallExitHandlers();
}
