import { Agent, fetch as undiciFetch } from 'undici';
import { HarnessError, isHarnessError } from '../../common/index.ts';
import type { AdminMintRequest, TokenKind } from '../../mocks/auth-server/index.ts';
import type { TokenSpec, Topology, TopologyNode } from '../topology/index.ts';
import { RuntimeError } from './errors.ts';

// A new connection per mint: a kept-alive one could be the one a reused auth server's last instance
// closed as it started afresh (the request would then fail, not retry).
const oneRequestPerConnection = new Agent({ pipelining: 0 });

/**
 * The kinds that carry the audience a scenario's token names (the resource it is meant for). The
 * others ignore it: `wrong-audience` would take it as its wrong audience and become right,
 * `no-audience` drops it, and a defect kind keeps its own defect whatever its `aud`.
 */
export const AUDIENCE_KINDS: ReadonlySet<TokenKind> = new Set<TokenKind>(['valid', 'with-audience']);

/**
 * The issuer (`iss` of every token it mints) of an auth-server node: its ISSUER env, else the URL
 * the other nodes reach it by, its Consul name and overlay port. The same in every runtime, so a
 * scenario's `MCP_JWT_ISSUER` matches or not the same way.
 *
 * @example
 * authServerIssuer(node); // 'http://auth-server.service.dev-us-east-1.consul:8080'
 */
export function authServerIssuer(node: TopologyNode): string {
  return node.env.ISSUER || `http://${node.service!.host}:${node.service!.port}`;
}

/** How a runtime reaches the auth server's mint: in this process its method, in a container its admin API. */
export type Mint = (request: AdminMintRequest) => Promise<string>;

/**
 * What the auth server is asked to mint for one of the worker's `tokens`: the body of its
 * `POST /admin/mint`, and `mint(kind, options)` in this process.
 *
 * @example
 * mintRequest({ kind: 'expired', audience: 'https://monitoring-mcp.tinyspeck.com/v1/mcp' }); // { kind: 'expired' }
 */
export function mintRequest(token: TokenSpec): AdminMintRequest {
  return {
    kind: token.kind,
    ...(token.audience !== undefined && AUDIENCE_KINDS.has(token.kind) ? { audience: token.audience } : {}),
    ...(token.subject !== undefined ? { subject: token.subject } : {}),
    ...(token.scope !== undefined ? { scope: token.scope } : {}),
    ...(token.ttl_seconds !== undefined ? { ttlSeconds: token.ttl_seconds } : {}),
  };
}

/**
 * Mints the worker's `tokens`, env var -> token, with the mint `mintOf` gives for the topology's
 * auth-server node (undefined: that node cannot mint, e.g. a brought server). Fails with
 * ERR_RUNTIME_TOKEN, the auth server's own error as `cause`, the same way in every runtime.
 *
 * @example
 * const env = await mintWorkerTokens(topology, (auth) => services.get(auth.name)?.mint);
 */
export async function mintWorkerTokens(topology: Topology, mintOf: (auth: TopologyNode) => Mint | undefined): Promise<Record<string, string>> {
  const tokens = Object.entries(topology.nodes.find((node) => node.run === 'worker')?.worker?.tokens ?? {});
  if (tokens.length === 0) return {};
  const authNode = topology.nodes.find((node) => node.run === 'auth-server');
  const mint = authNode && mintOf(authNode);
  if (!mint) {
    throw new RuntimeError(
      'ERR_RUNTIME_TOKEN',
      `the worker's tokens (${tokens.map(([name]) => name).join(', ')}) need a node with run: auth-server running the simulated auth server`,
    );
  }
  const minted: Record<string, string> = {};
  for (const [name, token] of tokens) {
    try {
      minted[name] = await mint(mintRequest(token));
    } catch (error) {
      const why = isHarnessError(error) ? `${error.code}: ${error.message}` : error instanceof Error ? error.message : String(error);
      throw new RuntimeError('ERR_RUNTIME_TOKEN', `the auth server did not mint ${name} (${token.kind}): ${why}`, { cause: error });
    }
  }
  return minted;
}

/**
 * A Mint through the auth server's TEST-ONLY admin API at `baseUrl`; its `{code, message}` error
 * answers come back as a HarnessError with the server's code (ERR_AUTH_SERVER_MINT, ...).
 *
 * @example
 * const token = await adminApiMint('http://127.0.0.1:49153')({ kind: 'valid' });
 */
export function adminApiMint(baseUrl: string): Mint {
  return async (request) => {
    const response = await undiciFetch(new URL('/admin/mint', baseUrl), {
      method: 'POST',
      dispatcher: oneRequestPerConnection,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(request),
    });
    const answer = (await response.json().catch(() => ({}))) as { token?: unknown; code?: unknown; message?: unknown };
    if (response.ok && typeof answer.token === 'string') return answer.token;
    throw new HarnessError(
      typeof answer.code === 'string' ? answer.code : 'ERR_RUNTIME_TOKEN',
      typeof answer.message === 'string' ? answer.message : `HTTP ${response.status} without a token`,
    );
  };
}
