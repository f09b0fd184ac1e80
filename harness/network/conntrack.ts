import { systemClock } from '../../common/index.ts';
import type { Clock } from '../../common/index.ts';
import { evaluateSide } from './evaluate.ts';
import type { FlowQuery, SideVerdict } from './evaluate.ts';
import type { Firewall, FirewallAction } from './firewall.ts';

/** Which way a packet of a tracked flow goes: from the initiator (`forward`) or back to it (`return`). */
export type PacketDirection = 'forward' | 'return';

/** What the two firewalls a packet crosses said: each node's table entry, or its rules when the entry is gone. */
export interface PacketVerdict {
  verdict: 'allow' | FirewallAction;
  /** For each node the packet crossed: `conntrack` (a live entry passed it) or the rule side that judged it. */
  sender: 'conntrack' | SideVerdict;
  receiver?: 'conntrack' | SideVerdict;
  /** The side that denied it, when denied. */
  denied?: SideVerdict;
}

/** A flow the rules allowed, with a source port: the unit conntrack keeps, one entry per node it joins. */
export type TrackedQuery = FlowQuery & { sourcePort: number };

type Timeouts = Firewall['conntrack'];

/**
 * Nebula's connection tracking (firewall.go: Drop, inConns, addConn, evict, and the timer wheel of
 * timeout.go), one table per node as each Nebula keeps its own. A packet crossing a node passes if
 * that node's table holds the flow's tuple, which refreshes the entry's expiry to now + the node's
 * timeout for the protocol (tcp 12m, udp 3m, other 10m unless `firewall.conntrack` says otherwise;
 * every packet refreshes, there is no FIN/RST handling). Without an entry the node's rules judge the
 * packet, and a pass adds it. So return traffic of an allowed flow passes the initiator's inbound
 * side with no inbound rule.
 *
 * Removal is Nebula's, lazy: an entry sits in a wheel slot about its timeout ahead (ticks of the
 * smallest timeout, rounded up, plus one); the wheel turns only when the node adds a new entry;
 * each packet the node checks takes one entry off the turned slots and drops it if its expiry has
 * passed (else puts it back for the time left). An idle flow on a node that opens nothing new is
 * never forgotten; with new flows, a 12m tcp entry goes 12 to 15 minutes after it was added.
 *
 * @example
 * const conntrack = new Conntrack({ clock });
 * const flow = conntrack.track({ from: worker, to: mcp, port: 8000, sourcePort: 51000, proto: 'tcp' });
 * flow.packet('return').verdict; // 'allow': the entries from the allowed first packet
 */
export class Conntrack {
  readonly #clock: Clock;
  readonly #tables = new Map<string, NodeTable>();

  constructor(options: { clock?: Clock } = {}) {
    this.#clock = options.clock ?? systemClock;
  }

  /** Entries `node`'s table holds (expired ones the wheel has not yet removed included, as in Nebula). */
  /** Forgets every tracked flow of every node, as a fresh Nebula would start with none. */
  clear(): void {
    this.#tables.clear();
  }

  size(node: string): number {
    return this.#tables.get(node)?.entries.size ?? 0;
  }

  /** Tracks a flow whose first packet the rules allowed: both nodes check (purge one) and add their entry now. */
  track(query: TrackedQuery): TrackedFlow {
    const flow = new TrackedFlow(this, query);
    flow.admit();
    return flow;
  }

  /**
   * Nebula's inConns: takes one turned-out entry off `node`'s wheel (evicting it if expired), then
   * says whether the table holds `tuple`, refreshing it when it does.
   */
  hit(node: string, timeouts: Timeouts, tuple: string, timeoutMs: number): boolean {
    const table = this.#table(node, timeouts);
    const now = this.#clock.now();
    table.purgeOne(now);
    const entry = table.entries.get(tuple);
    if (entry === undefined) return false;
    table.entries.set(tuple, now + timeoutMs);
    return true;
  }

  /** Nebula's addConn: a new tuple turns the wheel to now and takes a slot; a known one only gets a new expiry. */
  add(node: string, timeouts: Timeouts, tuple: string, timeoutMs: number): void {
    const table = this.#table(node, timeouts);
    const now = this.#clock.now();
    if (!table.entries.has(tuple)) {
      table.wheel.advance(now);
      table.wheel.add(tuple, timeoutMs);
    }
    table.entries.set(tuple, now + timeoutMs);
  }

  /** A packet `node` checked that matched no entry and that its rules denied: inConns still purged one. */
  checked(node: string, timeouts: Timeouts): void {
    this.#table(node, timeouts).purgeOne(this.#clock.now());
  }

  #table(node: string, timeouts: Timeouts): NodeTable {
    let table = this.#tables.get(node);
    if (!table) this.#tables.set(node, (table = new NodeTable(timeouts)));
    return table;
  }
}

/** One node's entries (tuple -> expiry) and the wheel that removes them. */
class NodeTable {
  readonly entries = new Map<string, number>();
  readonly wheel: ExpiryWheel;

  constructor(timeouts: Timeouts) {
    const all = [timeouts.tcpTimeoutMs, timeouts.udpTimeoutMs, timeouts.defaultTimeoutMs];
    this.wheel = new ExpiryWheel(Math.max(1, Math.min(...all)), Math.max(...all));
  }

  /** Nebula's Purge + evict: one turned-out tuple; gone if expired, else back on the wheel for the time left. */
  purgeOne(now: number): void {
    const tuple = this.wheel.takeTurnedOut();
    if (tuple === undefined) return;
    const expires = this.entries.get(tuple);
    if (expires === undefined) return;
    if (expires > now) {
      this.wheel.advance(now);
      this.wheel.add(tuple, expires - now);
    } else {
      this.entries.delete(tuple);
    }
  }
}

/**
 * A hashed timing wheel as Nebula's conntrack uses one: `length` slots of `tickMs` (the smallest
 * timeout), enough for the largest timeout plus two; it turns only when advanced, moving the
 * slots it passes to a turned-out queue.
 */
class ExpiryWheel {
  readonly #tickMs: number;
  readonly #maxMs: number;
  readonly #slots: string[][];
  #current = 0;
  #lastTick: number | undefined;
  readonly #turnedOut: string[] = [];

  constructor(tickMs: number, maxMs: number) {
    this.#tickMs = tickMs;
    this.#maxMs = maxMs;
    this.#slots = Array.from({ length: Math.floor(maxMs / tickMs) + 2 }, () => []);
  }

  /** Files `tuple` in the slot `timeoutMs` ahead: rounded up to whole ticks, plus one for the tick under way. */
  add(tuple: string, timeoutMs: number): void {
    const clamped = Math.min(Math.max(timeoutMs, this.#tickMs), this.#maxMs);
    const ticks = Math.ceil(clamped / this.#tickMs) + 1;
    this.#slots[(this.#current + ticks) % this.#slots.length]!.push(tuple);
  }

  /** Turns the wheel by the whole ticks since it last turned (at most once round). */
  advance(now: number): void {
    this.#lastTick ??= now;
    const ticks = Math.floor((now - this.#lastTick) / this.#tickMs);
    for (let i = 0; i < Math.min(ticks, this.#slots.length); i++) {
      this.#current = (this.#current + 1) % this.#slots.length;
      const slot = this.#slots[this.#current]!;
      this.#turnedOut.push(...slot);
      slot.length = 0;
    }
    this.#lastTick += ticks * this.#tickMs;
  }

  takeTurnedOut(): string | undefined {
    return this.#turnedOut.shift();
  }
}

/** One tracked connection: judges each of its packets at the two nodes it crosses. */
export class TrackedFlow {
  readonly #conntrack: Conntrack;
  readonly #query: TrackedQuery;
  readonly #reverse: TrackedQuery;
  readonly #reopened = new Set<() => void>();

  constructor(conntrack: Conntrack, query: TrackedQuery) {
    this.#conntrack = conntrack;
    this.#query = query;
    const initiatorIp = query.fromIp ?? query.from.identity.ip;
    const responderIp = query.toIp ?? query.to.identity.ip;
    // A return packet is a flow of its own to the rules: responder -> initiator's source port.
    this.#reverse = { from: query.to, to: query.from, port: query.sourcePort, sourcePort: query.port, proto: query.proto, fromIp: responderIp, toIp: initiatorIp };
  }

  /** `initiator:port -> responder:port/proto`, as events name it. */
  get name(): string {
    const q = this.#query;
    return `${q.from.identity.name}:${q.sourcePort} -> ${q.to.identity.name}:${q.port}/${q.proto}`;
  }

  /** Records the first packet the rules allowed: the initiator's outbound entry, the responder's inbound one. */
  admit(): void {
    const q = this.#query;
    // Nebula's Drop for the first packet: inConns at each node (a purge, no entry yet), the rules, addConn.
    for (const [node, at] of [[q.from, 'sender'], [q.to, 'receiver']] as const) {
      this.#conntrack.checked(node.identity.name, node.firewall.conntrack);
      this.#conntrack.add(node.identity.name, node.firewall.conntrack, tuple(q, at), timeout(node, q.proto));
    }
  }

  /**
   * One packet going `direction`: the sender's outbound side, then the receiver's inbound side,
   * each by its conntrack entry or else its rules (a rules pass re-adds the entry, as Nebula's
   * Drop does). A denied packet is answered with the denying table's action.
   */
  packet(direction: PacketDirection): PacketVerdict {
    const q = direction === 'forward' ? this.#query : this.#reverse;
    const sender = this.#cross(q, 'outbound');
    if (sender !== 'conntrack' && !sender.allowed) return { verdict: sender.action, sender, denied: sender };
    const receiver = this.#cross(q, 'inbound');
    if (receiver !== 'conntrack' && !receiver.allowed) return { verdict: receiver.action, sender, receiver, denied: receiver };
    if (sender !== 'conntrack' || receiver !== 'conntrack') this.#notifyReopened();
    return { verdict: 'allow', sender, receiver };
  }

  /** Calls `listener` once, the next time a packet passes by the rules (re-creating entries). */
  onceReopened(listener: () => void): void {
    this.#reopened.add(listener);
  }

  #cross(q: TrackedQuery, side: 'outbound' | 'inbound'): 'conntrack' | SideVerdict {
    const node = side === 'outbound' ? q.from : q.to;
    const key = tuple(q, side === 'outbound' ? 'sender' : 'receiver');
    const ms = timeout(node, q.proto);
    if (this.#conntrack.hit(node.identity.name, node.firewall.conntrack, key, ms)) return 'conntrack';
    const verdict = evaluateSide(q, side);
    if (verdict.allowed) this.#conntrack.add(node.identity.name, node.firewall.conntrack, key, ms);
    return verdict;
  }

  #notifyReopened(): void {
    const listeners = [...this.#reopened];
    this.#reopened.clear();
    for (const listener of listeners) listener();
  }
}

/**
 * The tuple a node keys its entry by, from its own side (Nebula's firewall.Packet: local address
 * and port, remote address and port, protocol). Both directions of a flow share it on a node.
 */
function tuple(q: TrackedQuery, at: 'sender' | 'receiver'): string {
  const fromIp = q.fromIp ?? q.from.identity.ip;
  const toIp = q.toIp ?? q.to.identity.ip;
  // A return packet's query is the reverse one, so its receiver's tuple is the initiator's sender tuple.
  const [local, remote] = at === 'sender' ? [`${fromIp}:${q.sourcePort}`, `${toIp}:${q.port}`] : [`${toIp}:${q.port}`, `${fromIp}:${q.sourcePort}`];
  return `${q.proto} local ${local} remote ${remote}`;
}

function timeout(node: FlowQuery['from'], proto: FlowQuery['proto']): number {
  const t = node.firewall.conntrack;
  return proto === 'tcp' ? t.tcpTimeoutMs : proto === 'udp' ? t.udpTimeoutMs : t.defaultTimeoutMs;
}
