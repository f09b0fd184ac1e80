/**
 * A tiny process that runs inside one network namespace and does the real socket work of a probe:
 * it listens (TCP accept, UDP echo) or probes (TCP connect, UDP send-and-wait-for-echo) when told
 * to on stdin, one JSON request per line, and answers one JSON line per request on stdout.
 *
 * Started by namespace-agent.ts as `ip netns exec NS node namespace-agent-main.ts`; never run by hand.
 *
 * @example
 * // stdin:  {"id":1,"op":"listen","proto":"tcp","port":8000}
 * // stdout: {"id":1,"ok":true}
 * // stdin:  {"id":2,"op":"probe","proto":"tcp","host":"10.42.0.2","port":8000,"timeoutMs":1000}
 * // stdout: {"id":2,"ok":true,"outcome":"connected","localPort":40312,"elapsedMs":2}
 */
import dgram from 'node:dgram';
import net from 'node:net';
import readline from 'node:readline';

export type AgentProto = 'tcp' | 'udp';

export type AgentRequest =
  | { id: number; op: 'listen'; proto: AgentProto; port: number }
  | { id: number; op: 'probe'; proto: AgentProto; host: string; port: number; timeoutMs: number }
  /** Ends a running probe early as `timeout` (detail `cancelled`): the driver already has its verdict. */
  | { id: number; op: 'cancel'; probeId: number };

/** `connected`: TCP handshake done; `echoed`: the UDP echo came back; `refused`: a TCP RST came back. */
export type ProbeOutcome = 'connected' | 'echoed' | 'timeout' | 'refused' | 'error';

export type AgentReply =
  | { id: number; ok: true; outcome?: ProbeOutcome; localPort?: number; elapsedMs?: number; detail?: string }
  | { id: number; ok: false; error: string };

const UDP_RESEND_MS = 200;

const tcpServers = new Map<number, net.Server>();
/** Running probes by request id, each with a way to end it now. */
const running = new Map<number, () => void>();
const udpSockets = new Map<number, dgram.Socket>();

function reply(message: AgentReply): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

async function listenTcp(port: number): Promise<void> {
  if (tcpServers.has(port)) return;
  const server = net.createServer((socket) => {
    // The prober hangs up at once (often with RST): that is not an error here.
    socket.on('error', () => {});
    socket.end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  tcpServers.set(port, server);
}

async function listenUdp(port: number): Promise<void> {
  if (udpSockets.has(port)) return;
  const socket = dgram.createSocket('udp4');
  socket.on('message', (message, remote) => {
    socket.send(message, remote.port, remote.address);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, '0.0.0.0', () => {
      socket.off('error', reject);
      resolve();
    });
  });
  udpSockets.set(port, socket);
}

type ProbeReply = Omit<AgentReply & { ok: true }, 'id'>;

function probeTcp(id: number, host: string, port: number, timeoutMs: number): Promise<ProbeReply> {
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let settled = false;
    const finish = (outcome: ProbeOutcome, detail?: string): void => {
      if (settled) return;
      settled = true;
      running.delete(id);
      clearTimeout(timer);
      const localPort = socket.localPort;
      socket.destroy();
      resolve({ ok: true, outcome, localPort, elapsedMs: Math.round(performance.now() - started), detail });
    };
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    running.set(id, () => finish('timeout', 'cancelled'));
    socket.once('connect', () => finish('connected'));
    socket.once('error', (error: NodeJS.ErrnoException) =>
      finish(error.code === 'ECONNREFUSED' ? 'refused' : 'error', error.code ?? error.message),
    );
  });
}

function probeUdp(id: number, host: string, port: number, timeoutMs: number): Promise<ProbeReply> {
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4');
    const payload = Buffer.from('mth-probe');
    let settled = false;
    let resend: NodeJS.Timeout | undefined;
    const finish = (outcome: ProbeOutcome, detail?: string): void => {
      if (settled) return;
      settled = true;
      running.delete(id);
      clearTimeout(timer);
      clearInterval(resend);
      let localPort: number | undefined;
      try {
        localPort = socket.address().port;
      } catch {
        localPort = undefined;
      }
      socket.close();
      resolve({ ok: true, outcome, localPort, elapsedMs: Math.round(performance.now() - started), detail });
    };
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    running.set(id, () => finish('timeout', 'cancelled'));
    socket.on('message', (_message, remote) => {
      if (remote.address === host && remote.port === port) finish('echoed');
    });
    socket.on('error', (error: NodeJS.ErrnoException) => finish('error', error.code ?? error.message));
    // Resend a few times within the deadline: the count is bounded by timeoutMs / UDP_RESEND_MS.
    const send = (): void => {
      if (!settled) socket.send(payload, port, host);
    };
    socket.bind(0, () => {
      send();
      resend = setInterval(send, UDP_RESEND_MS);
    });
  });
}

async function handle(request: AgentRequest): Promise<void> {
  try {
    if (request.op === 'listen') {
      await (request.proto === 'tcp' ? listenTcp(request.port) : listenUdp(request.port));
      reply({ id: request.id, ok: true });
      return;
    }
    if (request.op === 'cancel') {
      running.get(request.probeId)?.();
      reply({ id: request.id, ok: true });
      return;
    }
    const probe = request.proto === 'tcp' ? probeTcp : probeUdp;
    reply({ id: request.id, ...(await probe(request.id, request.host, request.port, request.timeoutMs)) });
  } catch (error) {
    reply({ id: request.id, ok: false, error: (error as Error).message });
  }
}

function shutdown(): void {
  for (const server of tcpServers.values()) server.close();
  for (const socket of udpSockets.values()) socket.close();
  process.exit(0);
}

const lines = readline.createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (line.trim() === '') return;
  void handle(JSON.parse(line) as AgentRequest);
});
// The driver closing our stdin (or dying) is the signal to go.
lines.on('close', shutdown);
process.on('SIGTERM', shutdown);
reply({ id: 0, ok: true, detail: 'ready' });
