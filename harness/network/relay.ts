import { Transform } from 'node:stream';
import type { PacketDirection, PacketVerdict, TrackedFlow } from './conntrack.ts';

/** What a gate reports: a packet of an established flow that a firewall denied. */
export interface GateListener {
  /** Called for each denial (a dropped packet is tried again later, as TCP retransmits it). */
  denied(verdict: PacketVerdict, direction: PacketDirection): void;
  /** A denial answered with reject: the caller resets both ends. */
  rejected(): void;
  /** A packet passed after a dropped one: the flow moves again. */
  resumed?(): void;
}

/**
 * Runs `deliver` once a packet of `flow` going `direction` passes both nodes' firewalls. A
 * dropped packet waits, the way TCP retransmits it, until a packet the other way passes by the
 * rules and so re-creates the conntrack entries; a rejected one ends the connection.
 *
 * @example
 * whenPasses(flow, 'return', listener, () => res.writeHead(200));
 */
export function whenPasses(flow: TrackedFlow, direction: PacketDirection, listener: GateListener, deliver: () => void): void {
  let denied = false;
  const attempt = () => {
    const verdict = flow.packet(direction);
    if (verdict.verdict === 'allow') {
      if (denied) listener.resumed?.();
      deliver();
      return;
    }
    denied = true;
    listener.denied(verdict, direction);
    if (verdict.verdict === 'reject') listener.rejected();
    else flow.onceReopened(attempt);
  };
  attempt();
}

/**
 * A stream stage that lets each chunk through as one packet of `flow` going `direction`; a
 * held chunk holds the stream behind it (backpressure), as a TCP stream cannot skip bytes.
 *
 * @example
 * upstream.pipe(gate(flow, 'return', listener)).pipe(socket);
 */
export function gate(flow: TrackedFlow, direction: PacketDirection, listener: GateListener): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      whenPasses(flow, direction, listener, () => callback(null, chunk));
    },
  });
}

/** Why a packet of an established flow was denied, for the network event. */
export function deniedReason(flow: TrackedFlow, direction: PacketDirection, verdict: PacketVerdict): string {
  const packet = direction === 'return' ? 'return traffic' : 'a packet';
  const denied = verdict.denied!;
  return `${packet} of ${flow.name} no longer matched a conntrack entry (the flow idled past the conntrack timeout), and ${denied.node} ${denied.direction}: ${denied.reason}`;
}
