import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Agent, type Dispatcher } from 'undici';
import { startAuthServer } from '../mocks/auth-server/index.ts';
import { startMonitoringMcp } from '../mocks/monitoring-mcp/index.ts';
import { fetchThrough, proxiedFetch, proxyDispatcher, type Fetch } from '../common/index.ts';
import { parseFirewall, startNetwork } from '../harness/network/index.ts';
import { median, percentile, round } from './measure.ts';

export interface HandshakeArgs {
  /** Handshakes per path, after the warm-up. */
  count: number;
  warmup: number;
}

export interface PathFigures {
  medianMs: number;
  p90Ms: number;
}

export interface HandshakeFigures {
  count: number;
  /** Connections kept alive from one handshake to the next (one dispatcher for all), as a long-lived client. */
  warm: { direct: PathFigures; shim: PathFigures; ratio: number };
  /** New connections for every handshake (a new dispatcher each), as each scenario's worker connects. */
  cold: { direct: PathFigures; shim: PathFigures; ratio: number };
}

type PathName = 'warmDirect' | 'warmShim' | 'coldDirect' | 'coldShim';

const AUDIENCE = 'https://monitoring-mcp.tinyspeck.com/v1/mcp';
const DC = 'dev-us-east-1';
const CONSUL_NAME = `monitoring-mcp.service.${DC}.consul`;

/**
 * Part 1: initialize + tools/list against the strict server (monitoring-mcp verifying a real RS256
 * token against the auth server's JWKS), (a) with the SDK client straight to its loopback port and
 * (b) through the worker's egress on the network shim by its Consul name, the way the harness's
 * worker connects (proxiedFetch). Same process, same server; the paths take turns so that drift
 * (GC, JIT, CPU frequency) hits them alike. Warm: the SDK's default fetch (a) and one proxiedFetch
 * (b) for all handshakes. Cold: a new undici Agent (a) and a new proxy dispatcher (b) per handshake.
 */
export async function measureHandshakes(args: HandshakeArgs): Promise<HandshakeFigures> {
  await using auth = await startAuthServer({ issuer: `http://auth-server.service.${DC}.consul:8080` });
  await using server = await startMonitoringMcp({ audience: AUDIENCE, issuer: auth.issuer, jwksUrl: auth.jwksUrl });
  await using network = await startNetwork({
    nodes: [
      {
        identity: { name: 'claude-worker', ip: '10.42.0.2', groups: ['dev', 'claude-worker'] },
        firewall: parseFirewall({ outbound: [{ port: 8000, proto: 'tcp', groups: ['dev', 'monitoring-mcp'] }] }),
      },
      {
        identity: { name: 'monitoring-mcp', ip: '10.42.0.3', groups: ['dev', 'monitoring-mcp'] },
        firewall: parseFirewall({ inbound: [{ port: 8000, proto: 'tcp', group: 'dev' }] }),
      },
    ],
  });
  network.addService('monitoring-mcp', { name: CONSUL_NAME, port: 8000, target: { host: '127.0.0.1', port: Number(new URL(server.url).port) } });
  const token = await auth.mint('valid');
  const proxyUrl = network.egress('claude-worker').proxyUrl;
  const directUrl = new URL(server.mcpUrl);
  const shimUrl = new URL(`http://${CONSUL_NAME}:8000/v1/mcp`);
  const warmShimFetch = proxiedFetch(proxyUrl);
  const paths: Record<PathName, () => Promise<number>> = {
    warmDirect: () => handshake(directUrl, token, undefined),
    warmShim: () => handshake(shimUrl, token, warmShimFetch),
    coldDirect: () => withDispatcher(new Agent(), (fetch) => handshake(directUrl, token, fetch)),
    coldShim: () => withDispatcher(proxyDispatcher(proxyUrl), (fetch) => handshake(shimUrl, token, fetch)),
  };
  const names = Object.keys(paths) as PathName[];
  const times = Object.fromEntries(names.map((name) => [name, [] as number[]])) as Record<PathName, number[]>;
  for (let i = 0; i < args.warmup + args.count; i++) {
    // Rotate which path goes first, so that none always runs right after another's garbage.
    for (let k = 0; k < names.length; k++) {
      const name = names[(i + k) % names.length]!;
      const ms = await paths[name]();
      if (i >= args.warmup) times[name].push(ms);
    }
  }
  if (!network.events.some((event) => event.verdict === 'allow')) throw new Error('no connection went through the shim');
  const summary = (values: number[]): PathFigures => ({ medianMs: round(median(values), 2), p90Ms: round(percentile(values, 90), 2) });
  const pair = (direct: number[], shim: number[]) => ({ direct: summary(direct), shim: summary(shim), ratio: round(median(shim) / median(direct), 2) });
  return { count: args.count, warm: pair(times.warmDirect, times.warmShim), cold: pair(times.coldDirect, times.coldShim) };
}

async function withDispatcher(dispatcher: Dispatcher, run: (fetch: Fetch) => Promise<number>): Promise<number> {
  const fetch = fetchThrough(() => dispatcher);
  try {
    return await run(fetch);
  } finally {
    await dispatcher.close();
  }
}

/** One handshake as the worker does it: connect (initialize + initialized), tools/list, close. */
async function handshake(url: URL, token: string, fetch: Fetch | undefined): Promise<number> {
  const started = performance.now();
  const transport = new StreamableHTTPClientTransport(url, {
    requestInit: { headers: { Authorization: `Bearer ${token}` } },
    ...(fetch ? { fetch } : {}),
  });
  const client = new Client({ name: 'bench', version: '0.0.0' });
  try {
    await client.connect(transport);
    const { tools } = await client.listTools();
    if (tools.length === 0) throw new Error('the strict server listed no tools');
  } finally {
    await client.close();
  }
  return performance.now() - started;
}
