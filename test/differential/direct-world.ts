import net from 'node:net';
import express from 'express';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { cachedKeys, startAuthServer, type StartedAuthServer } from '../../mocks/auth-server/index.ts';
import { listen } from '../../common/index.ts';
import { sendJsonRpcError, textResult } from '../../mocks/shared/index.ts';
import { parseFirewall, startNetwork, type NetworkEvent, type StartedNetwork } from '../../harness/network/index.ts';

// Small loopback servers behind the network shim, one behaviour each, for the direct cases of the
// differential test: both clients reach them through the same worker egress, by name.

/** The token a protected server accepts. */
export const GOOD_TOKEN = 'good-token';
export const DOMAIN = 'direct.test';

export interface McpBehaviour {
  kind: 'mcp';
  /** Refuse requests without `Authorization: Bearer good-token`. */
  auth?: {
    status: 401 | 403;
    /** Put `resource_metadata="<this server's PRM URL>"` in WWW-Authenticate. */
    resourceMetadataHeader?: boolean;
    /** Serve RFC 9728 protected resource metadata at /.well-known/oauth-protected-resource naming this auth server. */
    prm?: 'auth-reg' | 'auth-cimd' | 'auth-none';
  };
  /** Delay before answering each POST. */
  delayMs?: number;
  /** Answer tools/list with HTTP 500 and a JSON-RPC error (initialize still succeeds). */
  toolsListFails?: boolean;
  /** What the server does with a `server/discover` probe: close the connection, or never answer it. */
  probe?: 'reset' | 'silent';
}
/** `silent`: accepts the TCP connection and never answers. `refused`: nothing listens. `dropped`: the firewall drops the flow. */
export type Behaviour = McpBehaviour | { kind: 'silent' } | { kind: 'refused' } | { kind: 'dropped' };

/** A POST an MCP server got: its JSON-RPC method and the headers a config may set. */
export interface Post {
  method: string;
  authorization: string | undefined;
  probe: string | undefined;
  /** The JSON-RPC params and the MCP-Protocol-Version header (what a version probe carries). */
  params: unknown;
  protocolVersion: string | undefined;
}

export interface StartedDirectWorld extends AsyncDisposable {
  /** `http://<name>.direct.test/mcp` */
  url(name: string): string;
  egressProxyUrl: string;
  events(): readonly NetworkEvent[];
  /** How many POSTs each MCP server got (Claude Code's version probe shows here). */
  posts(name: string): Post[];
  /** Forget the POSTs seen so far (between two clients). */
  resetPosts(): void;
  close(): Promise<void>;
}

const keys = cachedKeys();
const ALLOW_ALL = parseFirewall({ outbound: [{ port: 'any', proto: 'any', host: 'any' }], inbound: [{ port: 'any', proto: 'any', host: 'any' }] });
const WALLED = parseFirewall({ outbound: [{ port: 'any', proto: 'any', host: 'any' }], inbound: [] });

/**
 * Starts the servers of `cases` (by name) and a network where `worker` reaches each as
 * `<name>.direct.test:<port>`, plus three auth servers: `auth-reg` (dynamic client registration),
 * `auth-cimd` (Client ID Metadata Documents, the mock's default) and `auth-none` (neither).
 */
export async function startDirectWorld(cases: Record<string, Behaviour>, options: { dropHoldMs: number }): Promise<StartedDirectWorld> {
  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    await Promise.allSettled(closers.reverse().map((closer) => closer()));
  };
  const posts = new Map<string, Post[]>();
  try {
    const network: StartedNetwork = await startNetwork({
      nodes: [
        { identity: { name: 'worker', ip: '10.99.0.1', groups: ['worker'] }, firewall: ALLOW_ALL },
        { identity: { name: 'servers', ip: '10.99.0.2', groups: ['servers'] }, firewall: ALLOW_ALL },
        { identity: { name: 'walled', ip: '10.99.0.3', groups: ['walled'] }, firewall: WALLED },
      ],
      dropHoldMs: options.dropHoldMs,
    });
    closers.push(() => network.close());
    // One overlay port per service: a node's services cannot share one.
    const add = (node: string, name: string, port: number) =>
      network.addService(node, { name: `${name}.${DOMAIN}`, aliases: [], port: overlayPort(name), target: { host: '127.0.0.1', port } });

    const authServers = {
      'auth-reg': { registration: true, clientIdMetadataDocuments: false },
      'auth-cimd': { registration: false, clientIdMetadataDocuments: true },
      'auth-none': { registration: false, clientIdMetadataDocuments: false },
    };
    for (const [name, options] of Object.entries(authServers)) {
      const auth: StartedAuthServer = await startAuthServer({ keys, ...options, issuer: origin(name) });
      closers.push(() => auth.close());
      add('servers', name, Number(new URL(auth.url).port));
    }
    for (const [name, behaviour] of Object.entries(cases)) {
      if (behaviour.kind === 'mcp') {
        const seen: Post[] = [];
        posts.set(name, seen);
        const server = await listen(mcpApp(name, behaviour, seen), { host: '127.0.0.1', port: 0 });
        closers.push(() => server.close());
        add('servers', name, server.port);
      } else if (behaviour.kind === 'silent') {
        const silent = await silentServer();
        closers.push(() => silent.close());
        add('servers', name, silent.port);
      } else if (behaviour.kind === 'refused') {
        add('servers', name, await freePort());
      } else {
        const server = await listen(mcpApp(name, { kind: 'mcp' }, []), { host: '127.0.0.1', port: 0 });
        closers.push(() => server.close());
        add('walled', name, server.port);
      }
    }
    return {
      url: (name) => `${origin(name)}/mcp`,
      egressProxyUrl: network.egress('worker').proxyUrl,
      events: () => network.events,
      posts: (name) => posts.get(name) ?? [],
      resetPosts: () => {
        for (const seen of posts.values()) seen.length = 0;
      },
      close,
      [Symbol.asyncDispose]: close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

const ports = new Map<string, number>();
/** A stable overlay port per name (the shim takes a node's services by port). */
function overlayPort(name: string): number {
  if (!ports.has(name)) ports.set(name, 8000 + ports.size);
  return ports.get(name)!;
}

function origin(name: string): string {
  return `http://${name}.${DOMAIN}:${overlayPort(name)}`;
}

function mcpApp(name: string, behaviour: McpBehaviour, seen: Post[]): express.Express {
  const app = express();
  app.disable('x-powered-by');
  const prm = behaviour.auth?.prm;
  const resource = (_req: express.Request) => `${origin(name)}/mcp`;
  const prmUrl = (_req: express.Request) => `${origin(name)}/.well-known/oauth-protected-resource/mcp`;
  if (prm) {
    app.get(['/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/mcp'], (req, res) => {
      res.json({ resource: resource(req), authorization_servers: [origin(prm)], bearer_methods_supported: ['header'] });
    });
  }
  app.post('/mcp', express.json(), async (req, res) => {
    const method = typeof req.body?.method === 'string' ? req.body.method : Array.isArray(req.body) ? 'batch' : '?';
    seen.push({ method, authorization: req.headers.authorization, probe: req.get('x-probe'), params: req.body?.params, protocolVersion: req.get('mcp-protocol-version') });
    if (method === 'server/discover' && behaviour.probe === 'reset') {
      req.socket.destroy();
      return;
    }
    if (method === 'server/discover' && behaviour.probe === 'silent') return;
    if (behaviour.delayMs) await new Promise((resolve) => setTimeout(resolve, behaviour.delayMs));
    if (res.destroyed) return;
    const auth = behaviour.auth;
    if (auth && req.headers.authorization !== `Bearer ${GOOD_TOKEN}`) {
      if (auth.resourceMetadataHeader) res.set('WWW-Authenticate', `Bearer error="invalid_token", resource_metadata="${prmUrl(req)}"`);
      else res.set('WWW-Authenticate', 'Bearer error="invalid_token"');
      res.status(auth.status).json({ error: auth.status === 401 ? 'invalid_token' : 'insufficient_scope', error_description: `${name} refuses this request` });
      return;
    }
    if (behaviour.toolsListFails && method === 'tools/list') {
      sendJsonRpcError(res, 500, -32603, 'tools/list failed on purpose');
      return;
    }
    const server = new McpServer({ name, version: '1.0.0' });
    server.registerTool('alpha', { description: 'first' }, async () => textResult('a'));
    server.registerTool('beta', { description: 'second' }, async () => textResult('b'));
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  });
  app.use((_req, res) => {
    res.status(404).json({ detail: 'Not Found' });
  });
  return app;
}

async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A port nothing listens on: bound, read, released. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

