import { systemClock } from '../../common/index.ts';
import type { Clock } from '../../common/index.ts';
import { evaluateFlow } from './evaluate.ts';
import type { FlowQuery, FlowVerdict, SideVerdict } from './evaluate.ts';

interface Entry {
  expires: number;
  flow: string;
}

/**
 * Nebula's connection tracking: once a flow is allowed, its packets both ways pass without
 * consulting the rules again until the entry idles out (tcp 12m, udp 3m, other 10m by default,
 * from the initiator's `firewall.conntrack`). Set `sourcePort` on queries to tell flows apart.
 *
 * @example
 * const conntrack = new Conntrack({ clock });
 * conntrack.evaluate({ from: worker, to: mcp, port: 8000, sourcePort: 51000, proto: 'tcp' }); // rules
 * conntrack.evaluate({ from: mcp, to: worker, port: 51000, sourcePort: 8000, proto: 'tcp' }); // allow: return traffic
 */
export class Conntrack {
  readonly #clock: Clock;
  readonly #entries = new Map<string, Entry>();

  constructor(options: { clock?: Clock } = {}) {
    this.#clock = options.clock ?? systemClock;
  }

  /** Live entries. */
  get size(): number {
    this.#purge();
    return this.#entries.size;
  }

  /** Allows packets of tracked flows (either direction); otherwise asks the rules and tracks what they allow. */
  evaluate(query: FlowQuery): FlowVerdict {
    this.#purge();
    const forward = key(query.proto, query.from.identity.ip, query.sourcePort, query.to.identity.ip, query.port);
    const reverse = key(query.proto, query.to.identity.ip, query.port, query.from.identity.ip, query.sourcePort);
    const entry = this.#entries.get(forward) ?? this.#entries.get(reverse);
    if (entry) {
      entry.expires = this.#clock.now() + timeout(query);
      const reason = `conntrack: packet of established flow ${entry.flow}`;
      const side = (direction: SideVerdict['direction']): SideVerdict => {
        const self = direction === 'outbound' ? query.from : query.to;
        const action = direction === 'outbound' ? self.firewall.outboundAction : self.firewall.inboundAction;
        return { node: self.identity.name, direction, allowed: true, rule: 'conntrack', reason, misses: [], action };
      };
      return { verdict: 'allow', outbound: side('outbound'), inbound: side('inbound') };
    }
    const verdict = evaluateFlow(query);
    if (verdict.verdict === 'allow') {
      const flow = `${query.from.identity.name}:${query.sourcePort ?? '*'} -> ${query.to.identity.name}:${query.port}/${query.proto}`;
      this.#entries.set(forward, { expires: this.#clock.now() + timeout(query), flow });
    }
    return verdict;
  }

  #purge(): void {
    const now = this.#clock.now();
    for (const [k, entry] of this.#entries) if (entry.expires <= now) this.#entries.delete(k);
  }
}

function key(proto: string, fromIp: string, fromPort: number | undefined, toIp: string, toPort: number | undefined): string {
  return `${proto} ${fromIp}:${fromPort ?? '*'} ${toIp}:${toPort ?? '*'}`;
}

function timeout(query: FlowQuery): number {
  const t = query.from.firewall.conntrack;
  return query.proto === 'tcp' ? t.tcpTimeoutMs : query.proto === 'udp' ? t.udpTimeoutMs : t.defaultTimeoutMs;
}
