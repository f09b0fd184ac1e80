// Small loopback servers for the audit's own tests: one MCP-ish resource server whose every
// compliance can be switched off (a flaw), so each check has a server that passes and one that fails.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { compactVerify, createLocalJWKSet, decodeJwt, type JSONWebKeySet } from 'jose';
import type { StartedAuthServer } from '../../mocks/auth-server/index.ts';
import { listen, type Listening } from '../../common/index.ts';

export type Flaw =
  | 'no-auth'
  | 'accept-malformed'
  | 'no-signature'
  | 'no-exp'
  | 'no-nbf'
  | 'no-iss'
  | 'no-aud'
  | 'refuse-all'
  | 'status-403'
  | 'no-challenge'
  | 'no-resource-metadata'
  | 'no-scope'
  | 'broken-header-url'
  | 'no-prm-path'
  | 'no-prm-root'
  | 'no-authorization-servers'
  | 'wrong-resource'
  | 'no-origin-check'
  | 'no-scope-check';

export interface FixtureMcpServer extends AsyncDisposable {
  /** The MCP endpoint, `<base>/mcp`: also its resource identifier. */
  readonly url: string;
  close(): Promise<void>;
}

export const FIXTURE_SCOPE = 'mcp:read';

/**
 * A resource server at `/mcp` that validates RS256 tokens from `auth` (signature by kid from its
 * JWKS, exp, nbf, iss, aud = its URL), challenges with resource_metadata and scope, serves RFC 9728
 * metadata at both well-known URLs, refuses a foreign Origin and a token without its scope (403
 * insufficient_scope); each `flaw` turns one of these off.
 */
export async function startFixtureMcpServer(auth: StartedAuthServer, flaws: readonly Flaw[] = []): Promise<FixtureMcpServer> {
  const flawed = new Set(flaws);
  const jwks = createLocalJWKSet((await (await fetch(auth.jwksUrl)).json()) as JSONWebKeySet);
  let base = '';
  const resource = () => `${base}/mcp`;
  const metadataUrl = () => `${base}/.well-known/oauth-protected-resource/mcp`;
  const metadata = () => ({
    resource: flawed.has('wrong-resource') ? 'https://elsewhere.example.invalid/mcp' : resource(),
    ...(flawed.has('no-authorization-servers') ? {} : { authorization_servers: [auth.issuer] }),
    scopes_supported: [FIXTURE_SCOPE],
  });
  const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
  };
  const refuse = (res: ServerResponse, error: string) => {
    const params = [
      `error="${error}"`,
      ...(flawed.has('no-resource-metadata') ? [] : [`resource_metadata="${flawed.has('broken-header-url') ? `${base}/nowhere` : metadataUrl()}"`]),
      ...(flawed.has('no-scope') ? [] : [`scope="${FIXTURE_SCOPE}"`]),
    ];
    json(res, (flawed.has('status-403') && error === 'invalid_token') || error === 'insufficient_scope' ? 403 : 401, { error }, flawed.has('no-challenge') ? {} : { 'www-authenticate': `Bearer ${params.join(', ')}` });
  };
  // A token let in as malformed (the accept-malformed flaw) has no claims, hence no scope check.
  function scopesOf(token: string): string[] {
    try {
      return String(decodeJwt(token).scope ?? '').split(' ');
    } catch {
      return [FIXTURE_SCOPE];
    }
  }
  async function valid(token: string): Promise<boolean> {
    if (flawed.has('refuse-all')) return false;
    let claims: ReturnType<typeof decodeJwt>;
    try {
      claims = decodeJwt(token);
    } catch {
      return flawed.has('accept-malformed');
    }
    if (!flawed.has('no-signature')) {
      try {
        await compactVerify(token, jwks, { algorithms: ['RS256'] });
      } catch {
        return false;
      }
    }
    const now = Math.floor(Date.now() / 1000);
    if (!flawed.has('no-exp') && !(typeof claims.exp === 'number' && claims.exp > now)) return false;
    if (!flawed.has('no-nbf') && typeof claims.nbf === 'number' && claims.nbf > now) return false;
    if (!flawed.has('no-iss') && claims.iss !== auth.issuer) return false;
    const aud = typeof claims.aud === 'string' ? [claims.aud] : (claims.aud ?? []);
    if (!flawed.has('no-aud') && !aud.includes(resource())) return false;
    return true;
  }
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (req.method === 'GET' && path === '/.well-known/oauth-protected-resource/mcp' && !flawed.has('no-prm-path')) return json(res, 200, metadata());
    if (req.method === 'GET' && path === '/.well-known/oauth-protected-resource' && !flawed.has('no-prm-root')) return json(res, 200, metadata());
    if (path !== '/mcp' || req.method !== 'POST') return json(res, 404, { detail: 'Not Found' });
    for await (const _chunk of req);
    if (req.headers.origin !== undefined && !flawed.has('no-origin-check')) return json(res, 403, { jsonrpc: '2.0', error: { code: -32000, message: 'Forbidden origin' } });
    if (!flawed.has('no-auth')) {
      const header = req.headers.authorization ?? '';
      // fetch trims `Bearer ` (an empty token) to `Bearer`: still a bearer credential, an empty one.
      const bearer = /^bearer(?: (.*)|\s*)$/i.exec(header);
      if (!bearer) return refuse(res, 'invalid_request');
      if (!(await valid(bearer[1] ?? ''))) return refuse(res, 'invalid_token');
      if (!flawed.has('no-scope-check') && !scopesOf(bearer[1] ?? '').includes(FIXTURE_SCOPE)) return refuse(res, 'insufficient_scope');
    }
    json(res, 200, { jsonrpc: '2.0', id: 1, result: { protocolVersion: '2025-11-25', capabilities: {}, serverInfo: { name: 'fixture', version: '1' } } });
  }
  const listening: Listening = await listen((req, res) => {
    handle(req, res).catch(() => json(res, 500, { detail: 'Internal Server Error' }));
  });
  base = listening.url;
  return { url: resource(), close: () => listening.close(), [Symbol.asyncDispose]: () => listening.close() };
}

/** An authorization server stand-in that serves no metadata at all (every path 404). */
export async function startBareServer(): Promise<{ url: string; close(): Promise<void>; [Symbol.asyncDispose](): Promise<void> }> {
  const listening = await listen((_req, res) => {
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"detail":"Not Found"}');
  });
  return { url: listening.url, close: () => listening.close(), [Symbol.asyncDispose]: () => listening.close() };
}
