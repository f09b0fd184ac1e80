import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { systemClock, timersOf } from '../../common/index.ts';
import type { Clock, TimerHandle } from '../../common/index.ts';
import { NetworkError } from './errors.ts';
import { Conntrack } from './conntrack.ts';
import type { PacketDirection, PacketVerdict, TrackedFlow } from './conntrack.ts';
import { describeFlowVerdict, evaluateFlow } from './evaluate.ts';
import type { FlowQuery, SideVerdict } from './evaluate.ts';
import { deniedReason, gate, whenPasses } from './relay.ts';
import type { GateListener } from './relay.ts';
import { NameRegistry } from './names.ts';
import type { NetworkNode, NetworkService, Resolution } from './names.ts';

/** One decision of the shim, recorded for every connection a node opens. */
export interface NetworkEvent {
  /** ISO time from the network's clock. */
  time: string;
  /** The node whose egress was used. */
  source: string;
  /** The name or address as the client asked for it. */
  destination: string;
  destinationNode?: string;
  port: number;
  proto: 'tcp';
  verdict: 'allow' | 'drop' | 'reject' | 'no-such-host';
  reason: string;
  outbound?: SideVerdict;
  inbound?: SideVerdict;
  /** For allowed connections: whether it reached the service or nothing listened on that port. */
  outcome?: 'forwarded' | 'no-listener';
  /**
   * Set when this is not the connection's first packet but a later one that conntrack no longer
   * covered and the rules denied: `return` (responder to initiator) or `forward`.
   */
  packet?: PacketDirection;
  /**
   * How the client asked: a CONNECT tunnel, an absolute-form HTTP request, or (`dns`) a plain request
   * to a name that resolved to the shim itself (the containers runtime's Consul names), judged by its Host header.
   */
  via: 'connect' | 'http' | 'dns';
}

export type NetworkEventListener = (event: NetworkEvent) => void;

/** Where one node's egress listens. */
export interface EgressListen {
  /** Address to bind, e.g. `127.0.0.1`, or the shim's address on the node's own Docker network. */
  host: string;
  /** 0 for any free port. */
  port: number;
  /**
   * Ports on `host` where the shim also takes plain HTTP requests and routes them by their Host
   * header: what a node sends when a Consul name resolves to the shim. Default none.
   */
  namePorts?: number[];
}

export interface StartNetworkOptions {
  nodes: NetworkNode[];
  /**
   * How long a dropped connection is held, silent, before the shim gives up on it for the client:
   * it then answers as a proxy whose connect timed out (504, `Proxy-Status: ...; error=connection_timeout`).
   * Nebula's drop has no such end; the client's own timeout ends the wait. The harness plays that
   * timeout here, where a flow that can only end by a deadline is known, so that a client may wait
   * longer for servers that do answer. Default 30 s.
   */
  dropHoldMs?: number;
  /** Time of events and conntrack; its timers (when it has them) run the holds. */
  clock?: Clock;
  /**
   * Called when the shim starts holding a dropped flow (a first packet or a later one); the
   * returned function is called once when the hold ends (given up, resumed, or the client left).
   * A scenario's virtual clock counts such a flow as waiting on a deadline, not on an answer.
   */
  onHold?: (flow: HeldFlow) => () => void;
  /** Where each node's egress listens. Default: 127.0.0.1 on a free port. */
  listen?: (node: string) => EgressListen;
  /** Let services' targets be other hosts than loopback (see NameRegistryOptions). Default false. */
  remoteTargets?: boolean;
}

/** A flow the shim holds, as `onHold` sees it. */
export interface HeldFlow {
  source: string;
  /** The name or address as the client asked for it. */
  destination: string;
  port: number;
}

export interface StartedNetwork extends AsyncDisposable {
  /** The node's egress: point the node's HTTP_PROXY (or undici ProxyAgent) at `proxyUrl`. */
  egress(node: string): { proxyUrl: string; port: number };
  /** Every decision so far, oldest first. */
  readonly events: NetworkEvent[];
  /** Calls `listener` on each new decision; returns the unsubscribe function. */
  onEvent(listener: NetworkEventListener): () => void;
  /** Registers a service after the network started (its real port comes from listen(0)). */
  addService(node: string, service: NetworkService): void;
  readonly names: NameRegistry;
  /**
   * Ends every connection through the network (tunnels, held drops, kept-alive ones) and forgets
   * every conntrack entry, as if each node's Nebula had just started; the egresses keep listening.
   * What the containers runtime does between two scenarios on the same shim.
   */
  reset(): void;
  close(): Promise<void>;
}

interface Decision {
  event: Omit<NetworkEvent, 'time' | 'via' | 'outcome'>;
  target?: { host: string; port: number };
  /** The question the rules answered, for a flow between two nodes (what conntrack then tracks). */
  query?: FlowQuery;
}

/**
 * Starts the Nebula stand-in: one egress proxy per node on loopback. Each connection a node opens
 * through its egress (CONNECT, or absolute-form HTTP) is resolved, judged by both nodes' firewall
 * tables, then forwarded to the service's loopback address, held silently (drop), or reset (reject).
 *
 * @example
 * await using network = await startNetwork({ nodes, dropHoldMs: 1_000 });
 * network.addService('monitoring-mcp', { name: 'monitoring-mcp.service.dev-us-east-1.consul', port: 8000, target: { host: '127.0.0.1', port } });
 * const fetch = proxiedFetch(network.egress('claude-worker').proxyUrl);
 * await fetch('http://monitoring-mcp.service.dev-us-east-1.consul:8000/');
 */
export async function startNetwork(options: StartNetworkOptions): Promise<StartedNetwork> {
  const clock = options.clock ?? systemClock;
  const timers = timersOf(clock);
  const dropHoldMs = options.dropHoldMs ?? 30_000;
  const names = new NameRegistry(options.nodes, { remoteTargets: options.remoteTargets ?? false });
  const conntrack = new Conntrack({ clock });
  const events: NetworkEvent[] = [];
  const listeners = new Set<NetworkEventListener>();
  const sockets = new Set<net.Socket>();
  const held = new Map<net.Socket, { timer: TimerHandle; end: () => void }>();
  const servers = new Map<string, { server: http.Server; host: string; port: number }>();
  const nameServers: http.Server[] = [];
  let closed = false;

  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('error', () => {}); // a client going away is not the shim's failure
    socket.once('close', () => {
      sockets.delete(socket);
      unhold(socket);
    });
  };

  const emit = (decision: Decision, via: NetworkEvent['via'], outcome?: NetworkEvent['outcome']) => {
    const event: NetworkEvent = { time: new Date(clock.now()).toISOString(), ...decision.event, via };
    if (outcome) {
      event.outcome = outcome;
      if (outcome === 'no-listener') {
        event.reason += `; nothing listens on ${decision.event.destinationNode}:${decision.event.port} (connection refused)`;
      }
    }
    events.push(event);
    for (const listener of [...listeners]) listener(event);
  };

  // Nebula's default drop: no answer at all, until the hold passes (see dropHoldMs).
  const hold = (socket: net.Socket, flow: HeldFlow, giveUp: () => void) => {
    const end = options.onHold?.(flow) ?? (() => {});
    const timer = timers.setTimeout(() => {
      held.delete(socket);
      end();
      giveUp();
    }, dropHoldMs);
    held.set(socket, { timer, end });
  };
  const unhold = (socket: net.Socket) => {
    const entry = held.get(socket);
    if (!entry) return;
    held.delete(socket);
    timers.clearTimeout(entry.timer);
    entry.end();
  };
  const heldTooLong = `the network held this dropped flow for ${dropHoldMs} ms (the scenario's timeout_ms)\n`;

  const decide = (source: string, destination: string, port: number): Decision => {
    const base = { source, destination, port, proto: 'tcp' as const };
    const resolution: Resolution | undefined = names.resolve(destination, port);
    if (!resolution) {
      const why = net.isIP(stripBrackets(destination))
        ? `${destination} is not the overlay IP of any node`
        : `no node serves ${destination}`;
      return { event: { ...base, verdict: 'no-such-host', reason: `getaddrinfo ENOTFOUND ${destination}: ${why}` } };
    }
    const withTarget = (decision: Decision): Decision => {
      if (resolution.target) decision.target = resolution.target;
      return decision;
    };
    if (resolution.node === source) {
      return withTarget({
        event: { ...base, destinationNode: source, verdict: 'allow', reason: `${source} connects to itself; local traffic does not cross the overlay` },
      });
    }
    const from = names.node(source);
    const to = names.node(resolution.node);
    const query: FlowQuery = {
      from: { identity: from.identity, firewall: from.firewall },
      to: { identity: to.identity, firewall: to.firewall },
      port,
      proto: 'tcp',
      ...(resolution.kind === 'subnet' ? { toIp: resolution.ip } : {}),
    };
    const verdict = evaluateFlow(query);
    const reason = describeFlowVerdict(verdict);
    return withTarget({
      event: { ...base, destinationNode: resolution.node, verdict: verdict.verdict, reason, outbound: verdict.outbound, inbound: verdict.inbound },
      query,
    });
  };

  const onConnect = (source: string) => (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    const parsed = parseAuthority(req.url ?? '');
    if (!parsed) {
      socket.end('HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\nCONNECT needs host:port\n');
      return;
    }
    const decision = decide(source, parsed.host, parsed.port);
    const { verdict } = decision.event;
    if (verdict === 'no-such-host') {
      emit(decision, 'connect');
      socket.end(dnsFailureResponse(parsed.host));
    } else if (verdict === 'drop') {
      emit(decision, 'connect');
      hold(socket, { source, destination: parsed.host, port: parsed.port }, () => socket.end(heldFlowResponse(heldTooLong)));
    } else if (verdict === 'reject' || !decision.target) {
      emit(decision, 'connect', verdict === 'allow' ? 'no-listener' : undefined);
      socket.resetAndDestroy();
    } else {
      const upstream = net.connect(decision.target.port, decision.target.host);
      track(upstream);
      const flow = trackFlow(decision, socket);
      const listener = gateListener(decision, 'connect', flow, socket, {
        reset: () => {
          upstream.resetAndDestroy();
          socket.resetAndDestroy();
        },
        // Mid-tunnel there is no proxy answer left to give: the connection ends.
        giveUp: () => {
          upstream.destroy();
          socket.destroy();
        },
      });
      let connected = false;
      upstream.once('connect', () => {
        connected = true;
        emit(decision, 'connect', 'forwarded');
        socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        if (!flow) {
          if (head.length > 0) upstream.write(head);
          upstream.pipe(socket);
          socket.pipe(upstream);
          return;
        }
        const forward = gate(flow, 'forward', listener);
        if (head.length > 0) forward.write(head);
        socket.pipe(forward).pipe(upstream);
        upstream.pipe(gate(flow, 'return', listener)).pipe(socket);
      });
      upstream.once('error', () => {
        if (!connected) emit(decision, 'connect', 'no-listener');
        socket.resetAndDestroy();
      });
      upstream.once('close', () => socket.destroy());
      socket.once('close', () => upstream.destroy());
    }
  };

  // namePort: the request came to a name that resolved to the shim, on this port; its Host header says which.
  const onRequest = (source: string, namePort?: number) => (req: http.IncomingMessage, res: http.ServerResponse) => {
    const via: NetworkEvent['via'] = namePort === undefined ? 'http' : 'dns';
    let url: URL | undefined;
    try {
      url = namePort === undefined ? new URL(req.url ?? '') : new URL(req.url ?? '/', `http://${req.headers.host ?? ''}`);
    } catch {
      url = undefined;
    }
    if (!url || url.protocol !== 'http:') {
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end(
        namePort === undefined
          ? `this is the network egress of ${source}: send absolute-form http:// requests or CONNECT\n`
          : `this is the network shim for ${source}: a request needs a Host header naming a service\n`,
      );
      return;
    }
    const host = stripBrackets(url.hostname);
    // A name request went to the port the client dialled, whatever its Host header says.
    const port = namePort ?? (url.port === '' ? 80 : Number(url.port));
    const decision = decide(source, host, port);
    const { verdict } = decision.event;
    if (verdict === 'no-such-host') {
      emit(decision, via);
      res.writeHead(502, { 'content-type': 'text/plain', 'x-harness-network': 'no-such-host' });
      res.end(`getaddrinfo ENOTFOUND ${host}\n`);
    } else if (verdict === 'drop') {
      emit(decision, via);
      hold(req.socket, { source, destination: host, port }, () => {
        res.writeHead(504, HELD_FLOW_HEADERS);
        res.end(heldTooLong);
      });
    } else if (verdict === 'reject' || !decision.target) {
      emit(decision, via, verdict === 'allow' ? 'no-listener' : undefined);
      req.socket.resetAndDestroy();
    } else {
      const flow = trackFlow(decision, req.socket);
      const listener = gateListener(decision, via, flow, req.socket, {
        reset: () => {
          upstream.destroy();
          req.socket.resetAndDestroy();
        },
        giveUp: () => {
          upstream.destroy();
          if (res.headersSent) {
            req.socket.destroy();
          } else {
            res.writeHead(504, HELD_FLOW_HEADERS);
            res.end(heldTooLong);
          }
        },
      });
      const upstream = http.request({
        host: decision.target.host,
        port: decision.target.port,
        method: req.method,
        path: `${url.pathname}${url.search}`,
        headers: withoutHopByHop(req.headers),
        agent: false,
      });
      let connected = false;
      upstream.once('socket', (socket) => {
        track(socket);
        socket.once('connect', () => {
          connected = true;
          emit(decision, via, 'forwarded');
        });
      });
      upstream.once('response', (answer) => {
        const respond = () => {
          res.writeHead(answer.statusCode ?? 502, answer.statusMessage, withoutHopByHop(answer.headers));
          (flow ? answer.pipe(gate(flow, 'return', listener)) : answer).pipe(res);
        };
        // The response's first bytes are return traffic too.
        if (flow) whenPasses(flow, 'return', listener, respond);
        else respond();
      });
      upstream.once('error', () => {
        if (!connected) emit(decision, via, 'no-listener');
        req.socket.resetAndDestroy();
      });
      res.once('close', () => upstream.destroy());
      (flow ? req.pipe(gate(flow, 'forward', listener)) : req).pipe(upstream);
    }
  };

  // An allowed flow between two nodes: its later packets go through conntrack, keyed by the
  // initiator's real source port (its connection to its egress).
  const trackFlow = (decision: Decision, client: net.Socket): TrackedFlow | undefined =>
    decision.query ? conntrack.track({ ...decision.query, sourcePort: client.remotePort ?? 0 }) : undefined;

  // A packet of an established flow that conntrack no longer covers and the rules deny: a drop is
  // held like a dropped first packet (for dropHoldMs, then given up), a reject resets the connection.
  const gateListener = (
    decision: Decision,
    via: NetworkEvent['via'],
    flow: TrackedFlow | undefined,
    client: net.Socket,
    end: { reset: () => void; giveUp: () => void },
  ): GateListener => ({
    denied(verdict: PacketVerdict, direction: PacketDirection) {
      const { outbound: _outbound, inbound: _inbound, ...event } = decision.event;
      emit({ event: { ...event, verdict: verdict.verdict, reason: deniedReason(flow!, direction, verdict), packet: direction } }, via);
      if (verdict.verdict === 'drop' && !held.has(client)) {
        hold(client, { source: decision.event.source, destination: decision.event.destination, port: decision.event.port }, end.giveUp);
      }
    },
    rejected: end.reset,
    resumed() {
      unhold(client);
    },
  });

  const closeAll = async () => {
    for (const socket of [...held.keys()]) unhold(socket);
    // Tunnels and held sockets still count as the server's connections: end them first, or close() waits.
    for (const socket of sockets) socket.destroy();
    await Promise.all(
      [...[...servers.values()].map(({ server }) => server), ...nameServers].map(
        (server) =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          }),
      ),
    );
  };

  const listenOn = async (server: http.Server, host: string, port: number): Promise<number> => {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return (server.address() as AddressInfo).port;
  };

  try {
    for (const name of names.nodeNames()) {
      const where = options.listen?.(name) ?? { host: '127.0.0.1', port: 0 };
      const server = http.createServer();
      server.on('connection', track);
      server.on('request', onRequest(name));
      server.on('connect', onConnect(name));
      // Registered before it listens, so that a listen that fails still gets it closed.
      servers.set(name, { server, host: where.host, port: 0 });
      servers.set(name, { server, host: where.host, port: await listenOn(server, where.host, where.port) });
      for (const namePort of where.namePorts ?? []) {
        const byName = http.createServer();
        byName.on('connection', track);
        byName.on('request', onRequest(name, namePort));
        nameServers.push(byName);
        await listenOn(byName, where.host, namePort);
      }
    }
  } catch (error) {
    await closeAll();
    throw error;
  }

  const reset = () => {
    for (const socket of [...held.keys()]) unhold(socket);
    for (const socket of sockets) socket.destroy();
    conntrack.clear();
  };

  let closing: Promise<void> | undefined;
  const close = () => {
    closed = true;
    closing ??= closeAll();
    return closing;
  };

  return {
    events,
    names,
    egress(node: string) {
      names.node(node);
      const entry = servers.get(node);
      if (!entry || closed) throw new NetworkError('ERR_UNKNOWN_NODE', `no egress for ${node}: the network is closed`);
      const host = net.isIPv6(entry.host) ? `[${entry.host}]` : entry.host;
      return { proxyUrl: `http://${host}:${entry.port}`, port: entry.port };
    },
    onEvent(listener: NetworkEventListener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    addService(node: string, service: NetworkService) {
      names.addService(node, service);
    },
    reset,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** `host:port` or `[v6]:port` of a CONNECT request. */
function parseAuthority(authority: string): { host: string; port: number } | undefined {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):([0-9]{1,5})$/.exec(authority);
  if (!match) return undefined;
  const port = Number(match[3]);
  if (port < 1 || port > 65535) return undefined;
  return { host: (match[1] ?? match[2]) as string, port };
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** How the shim answers a dropped flow once its hold passes: a proxy's connect timeout (RFC 9209). */
const HELD_FLOW_HEADERS = {
  'content-type': 'text/plain',
  'proxy-status': 'mth-egress; error=connection_timeout',
  'x-harness-network': 'dropped',
  connection: 'close',
};

function heldFlowResponse(body: string): string {
  return rawResponse('504 Gateway Timeout', HELD_FLOW_HEADERS, body);
}

function dnsFailureResponse(host: string): string {
  return rawResponse('502 Bad Gateway', { 'content-type': 'text/plain', 'x-harness-network': 'no-such-host', connection: 'close' }, `getaddrinfo ENOTFOUND ${host}\n`);
}

function rawResponse(status: string, headers: Record<string, string>, body: string): string {
  const lines = Object.entries({ ...headers, 'content-length': String(Buffer.byteLength(body)) }).map(([name, value]) => `${name}: ${value}`);
  return [`HTTP/1.1 ${status}`, ...lines, '', body].join('\r\n');
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'proxy-authenticate', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

function withoutHopByHop(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [key, value] of Object.entries(headers)) if (!HOP_BY_HOP.has(key) && value !== undefined) out[key] = value;
  return out;
}
