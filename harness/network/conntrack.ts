import { systemClock } from '../../mocks/shared/index.ts';
import type { Clock } from '../../mocks/shared/index.ts';
import { evaluateSide } from './evaluate.ts';
import type { FlowQuery, SideVerdict } from './evaluate.ts';
import type { FirewallAction } from './firewall.ts';

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

/**
 * Nebula's connection tracking (firewall.go: Drop, inConns, addConn), one table per node as each
 * Nebula keeps its own. A packet crossing a node passes if that node's table holds the flow's
 * tuple, which refreshes the entry to now + the node's timeout for the protocol (tcp 12m, udp 3m,
 * other 10m unless `firewall.conntrack` says otherwise; every packet refreshes, there is no
 * FIN/RST handling). Without an entry the node's rules judge the packet, and a pass re-adds it.
 * So return traffic of an allowed flow passes the initiator's inbound side with no inbound rule,
 * until the flow idles out.
 *
 * @example
 * const conntrack = new Conntrack({ clock });
 * const flow = conntrack.track({ from: worker, to: mcp, port: 8000, sourcePort: 51000, proto: 'tcp' });
 * flow.packet('return').verdict; // 'allow': the entries from the allowed first packet
 * clock.advance(12 * 60_000);
 * flow.packet('return').verdict; // 'drop' when the worker has no inbound rule for it
 */
export class Conntrack {
  readonly #clock: Clock;
  /** node name -> tuple -> expiry (ms on the clock). */
  readonly #tables = new Map<string, Map<string, number>>();

  constructor(options: { clock?: Clock } = {}) {
    this.#clock = options.clock ?? systemClock;
  }

  /** Live entries of `node`'s table. */
  size(node: string): number {
    const table = this.#tables.get(node);
    if (!table) return 0;
    this.#purge(table);
    return table.size;
  }

  /** Tracks a flow whose first packet the rules allowed: both nodes' tables get their entry now. */
  track(query: TrackedQuery): TrackedFlow {
    const flow = new TrackedFlow(this, query);
    flow.admit();
    return flow;
  }

  /** Whether `node` tracks `tuple`; refreshes it when it does (every packet does, in Nebula). */
  hit(node: string, tuple: string, timeoutMs: number): boolean {
    const table = this.#table(node);
    this.#purge(table);
    if (!table.has(tuple)) return false;
    table.set(tuple, this.#clock.now() + timeoutMs);
    return true;
  }

  add(node: string, tuple: string, timeoutMs: number): void {
    this.#table(node).set(tuple, this.#clock.now() + timeoutMs);
  }

  #table(node: string): Map<string, number> {
    let table = this.#tables.get(node);
    if (!table) this.#tables.set(node, (table = new Map()));
    return table;
  }

  #purge(table: Map<string, number>): void {
    const now = this.#clock.now();
    for (const [tuple, expires] of table) if (expires <= now) table.delete(tuple);
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
    this.#conntrack.add(q.from.identity.name, tuple(q, 'sender'), timeout(q.from, q.proto));
    this.#conntrack.add(q.to.identity.name, tuple(q, 'receiver'), timeout(q.to, q.proto));
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
    if (this.#conntrack.hit(node.identity.name, key, ms)) return 'conntrack';
    const verdict = evaluateSide(q, side);
    if (verdict.allowed) this.#conntrack.add(node.identity.name, key, ms);
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
