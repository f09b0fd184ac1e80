import { extractWWWAuthenticateParams } from '@modelcontextprotocol/sdk/client/auth.js';
import {
  OAuthMetadataSchema,
  OAuthProtectedResourceMetadataSchema,
  OpenIdProviderDiscoveryMetadataSchema,
  type OAuthProtectedResourceMetadata,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import { CLAUSES } from './clauses.ts';
import { initializeRequest, MCP_POST_HEADERS, probe, type ProbeAnswer } from './exchange.ts';
import type { CheckResult, Clause, Exchange, Severity } from './finding.ts';
import type { AuditContext, ServerUnderAudit } from './target.ts';

/** What discovery learnt about a server, for the checks that follow. */
export interface Discovery {
  results: CheckResult[];
  /** The protected resource metadata a client would use (header URL first, then the well-known URLs). */
  metadata?: OAuthProtectedResourceMetadata;
  /** The challenge's `scope`, else the metadata's `scopes_supported`. */
  scope?: string;
}

type Outcome = Pick<CheckResult, 'status' | 'severity' | 'message'>;

function result(server: string, id: string, title: string, clause: Clause, outcome: Outcome, evidence: Exchange[]): CheckResult {
  return { id, title, target: server, clause, ...outcome, evidence };
}

const pass = (message: string): Outcome => ({ status: 'pass', severity: 'info', message });
const fail = (severity: Severity, message: string): Outcome => ({ status: 'fail', severity, message });
const skip = (message: string): Outcome => ({ status: 'skip', severity: 'info', message });

function statusText(answer: ProbeAnswer): string {
  return answer.status === undefined ? `no answer (${answer.exchange.error})` : `${answer.status}`;
}

/** The URL without query and fragment: the resource identifier a server URL stands for. */
function resourceOf(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}

function parseMetadata(answer: ProbeAnswer): { metadata?: OAuthProtectedResourceMetadata; why?: string } {
  if (answer.status !== 200) return { why: `answered ${statusText(answer)}` };
  const parsed = OAuthProtectedResourceMetadataSchema.safeParse(answer.json);
  if (!parsed.success) return { why: `not RFC 9728 metadata: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ')}` };
  return { metadata: parsed.data };
}

/**
 * The unauthenticated request and protected resource metadata discovery, as an MCP client
 * does it: a 401's `WWW-Authenticate` (resource_metadata, scope), then the metadata at the
 * header's URL, at the path-inserted well-known URL and at the root one.
 *
 * @example
 * const { results, metadata } = await discover(server, context);
 */
export async function discover(server: ServerUnderAudit, context: AuditContext): Promise<Discovery> {
  const name = server.name;
  const results: CheckResult[] = [];
  const unauthenticated = await probe(context.router, { method: 'POST', url: server.url, headers: { ...MCP_POST_HEADERS }, body: initializeRequest() });
  const header = unauthenticated.headers?.get('www-authenticate') ?? undefined;
  const challenge = unauthenticated.status === 401 && header !== undefined && /^bearer\b/i.test(header);
  const params =
    unauthenticated.status === undefined ? {} : extractWWWAuthenticateParams(new Response(null, { headers: header === undefined ? {} : { 'www-authenticate': header } }));
  const why =
    unauthenticated.status === undefined
      ? statusText(unauthenticated)
      : unauthenticated.status !== 401
        ? `answered ${unauthenticated.status} to a request without a token: no 401, no WWW-Authenticate`
        : header === undefined
          ? '401 without a WWW-Authenticate header'
          : `WWW-Authenticate is not a Bearer challenge: ${header}`;
  const evidence = [unauthenticated.exchange];
  results.push(
    result(name, 'challenge.www-authenticate', 'a request without a token gets 401 with a Bearer WWW-Authenticate challenge', CLAUSES.challenge,
      unauthenticated.status === undefined ? skip(why) : challenge ? pass(`401, WWW-Authenticate: ${header}`) : fail('medium', why), evidence),
    result(name, 'challenge.resource-metadata', 'the challenge names the protected resource metadata (resource_metadata)', CLAUSES.prmDiscovery,
      unauthenticated.status === undefined ? skip(why) : params.resourceMetadataUrl ? pass(`resource_metadata=${params.resourceMetadataUrl.href}`) : fail('low', challenge ? 'the challenge has no resource_metadata' : why), evidence),
    result(name, 'challenge.scope', 'the challenge names the scopes needed (scope)', CLAUSES.challengeScope,
      unauthenticated.status === undefined ? skip(why) : params.scope ? pass(`scope="${params.scope}"`) : fail('low', challenge ? 'the challenge has no scope' : why), evidence),
  );

  const origin = new URL(server.url).origin;
  const path = new URL(server.url).pathname;
  const candidates: { id: string; title: string; url?: string; missing: string; severity: Severity }[] = [
    { id: 'prm.header-url', title: "protected resource metadata at the challenge's resource_metadata URL", ...(params.resourceMetadataUrl ? { url: params.resourceMetadataUrl.href } : {}), missing: 'no resource_metadata in a challenge', severity: 'medium' },
    { id: 'prm.well-known-path', title: 'protected resource metadata at the path-inserted well-known URL', ...(path !== '/' ? { url: `${origin}/.well-known/oauth-protected-resource${path}` } : {}), missing: 'the MCP endpoint is at the root', severity: 'info' },
    { id: 'prm.well-known-root', title: 'protected resource metadata at the root well-known URL', url: `${origin}/.well-known/oauth-protected-resource`, missing: '', severity: 'info' },
  ];
  let metadata: OAuthProtectedResourceMetadata | undefined;
  let metadataUrl: string | undefined;
  const discoveryEvidence: Exchange[] = [];
  for (const candidate of candidates) {
    if (!candidate.url) {
      results.push(result(name, candidate.id, candidate.title, CLAUSES.prmDiscovery, skip(candidate.missing), []));
      continue;
    }
    const answer = await probe(context.router, { method: 'GET', url: candidate.url, headers: { accept: 'application/json' } });
    discoveryEvidence.push(answer.exchange);
    const parsed = parseMetadata(answer);
    if (parsed.metadata && !metadata) {
      metadata = parsed.metadata;
      metadataUrl = candidate.url;
    }
    results.push(
      result(name, candidate.id, candidate.title, candidate.id === 'prm.header-url' ? CLAUSES.prm : CLAUSES.prmDiscovery,
        parsed.metadata ? pass(`served at ${candidate.url}`) : fail(candidate.severity, `${candidate.url}: ${parsed.why}`), [answer.exchange]),
    );
  }
  results.push(
    result(name, 'prm.discoverable', 'protected resource metadata is discoverable by one of the mechanisms', CLAUSES.prm,
      metadata ? pass(`found at ${metadataUrl}`) : fail('high', 'no protected resource metadata: not named in a challenge, not at either well-known URL'), discoveryEvidence),
  );
  if (!metadata) {
    results.push(
      result(name, 'prm.authorization-servers', 'the metadata names at least one authorization server', CLAUSES.prm, skip('no protected resource metadata'), []),
      result(name, 'prm.resource', "the metadata's resource is the server's URL", CLAUSES.prmResource, skip('no protected resource metadata'), []),
    );
    return { results, ...(params.scope ? { scope: params.scope } : {}) };
  }
  const servers = metadata.authorization_servers ?? [];
  results.push(
    result(name, 'prm.authorization-servers', 'the metadata names at least one authorization server', CLAUSES.prm,
      servers.length > 0 ? pass(`authorization_servers: ${servers.join(', ')}`) : fail('high', 'authorization_servers is missing or empty'), discoveryEvidence),
  );
  const expected = resourceOf(server.url);
  const resourceOk = metadata.resource === expected || metadata.resource === server.url;
  results.push(
    result(name, 'prm.resource', "the metadata's resource is the server's URL", CLAUSES.prmResource,
      resourceOk ? pass(`resource: ${metadata.resource}`) : fail('medium', `resource is ${metadata.resource}, the server is reached at ${expected}`), discoveryEvidence),
  );
  const scope = params.scope ?? (metadata.scopes_supported?.length ? metadata.scopes_supported.join(' ') : undefined);
  return { results, metadata, ...(scope ? { scope } : {}) };
}

/** The metadata URLs a client tries for `issuer`, in the MCP specification's priority order. */
export function authServerMetadataUrls(issuer: string): string[] {
  const url = new URL(issuer);
  const path = url.pathname.replace(/\/$/, '');
  if (path === '') return [`${url.origin}/.well-known/oauth-authorization-server`, `${url.origin}/.well-known/openid-configuration`];
  return [
    `${url.origin}/.well-known/oauth-authorization-server${path}`,
    `${url.origin}/.well-known/openid-configuration${path}`,
    `${url.origin}${path}/.well-known/openid-configuration`,
  ];
}

/**
 * The authorization server's RFC 8414 / OIDC discovery metadata, and its `issuer`.
 *
 * @example
 * const results = await checkAuthServer('http://auth-server.service.dev-us-east-1.consul:8080', context);
 */
export async function checkAuthServer(issuer: string, context: AuditContext): Promise<CheckResult[]> {
  const evidence: Exchange[] = [];
  let found: { url: string; issuer: string } | undefined;
  const misses: string[] = [];
  for (const url of authServerMetadataUrls(issuer)) {
    const answer = await probe(context.router, { method: 'GET', url, headers: { accept: 'application/json' } });
    evidence.push(answer.exchange);
    if (answer.status !== 200) {
      misses.push(`${url}: ${statusText(answer)}`);
      continue;
    }
    const schema = url.includes('openid-configuration') ? OpenIdProviderDiscoveryMetadataSchema : OAuthMetadataSchema;
    const parsed = schema.safeParse(answer.json);
    if (!parsed.success) {
      misses.push(`${url}: not ${url.includes('openid') ? 'OIDC discovery' : 'RFC 8414'} metadata (${parsed.error.issues.map((issue) => issue.path.join('.') || '(root)').join(', ')})`);
      continue;
    }
    found = { url, issuer: parsed.data.issuer };
    break;
  }
  const target = issuer;
  return [
    result(target, 'as.metadata', 'the authorization server serves RFC 8414 or OpenID Connect discovery metadata', CLAUSES.asMetadata,
      found ? pass(`served at ${found.url}`) : fail('high', misses.join('; ')), evidence),
    result(target, 'as.issuer', "the metadata's issuer is the authorization server's identifier", CLAUSES.asIssuer,
      !found ? skip('no metadata') : found.issuer === issuer ? pass(`issuer: ${found.issuer}`) : fail('medium', `issuer is ${found.issuer}, the metadata was fetched for ${issuer}`), evidence),
  ];
}

/** The Origin a DNS-rebinding page would send. */
export const FOREIGN_ORIGIN = 'https://attacker.example.invalid';

/**
 * A request with a valid token and a foreign `Origin` must get 403.
 *
 * @example
 * const result = await checkOrigin(server, context);
 */
export async function checkOrigin(server: ServerUnderAudit, context: AuditContext): Promise<CheckResult> {
  const token = { kind: 'valid', value: await context.mint('with-audience', { audience: server.audience, ...(server.scope ? { scope: server.scope } : {}) }) };
  const answer = await probe(context.router, { method: 'POST', url: server.url, headers: { ...MCP_POST_HEADERS, origin: FOREIGN_ORIGIN }, token, body: initializeRequest() });
  const title = 'a request with a foreign Origin is refused with 403';
  const status = answer.status;
  const outcome: Outcome =
    status === undefined
      ? skip(statusText(answer))
      : status === 403
        ? pass('403')
        : status >= 200 && status < 300
          ? fail('medium', `accepted a request from Origin ${FOREIGN_ORIGIN} (${status})`)
          : status === 401
            ? skip('the valid token was refused (401), so the Origin check could not be told apart')
            : fail('low', `refused with ${status}, not 403`);
  return result(server.name, 'origin.foreign', title, CLAUSES.origin, outcome, [answer.exchange]);
}

/**
 * When the server names scopes, a token with its audience but none of them must get 403 with an
 * `insufficient_scope` challenge naming the scopes and the metadata; skipped when it names none.
 *
 * @example
 * const result = await checkInsufficientScope(server, context);
 */
export async function checkInsufficientScope(server: ServerUnderAudit, context: AuditContext): Promise<CheckResult> {
  const title = 'a token without the scopes the server names gets 403 insufficient_scope';
  if (!server.scope) return result(server.name, 'scope.insufficient', title, CLAUSES.insufficientScope, skip('the server names no scopes (no challenge scope, no scopes_supported)'), []);
  const token = { kind: 'no-scope', value: await context.mint('with-audience', { audience: server.audience }) };
  const answer = await probe(context.router, { method: 'POST', url: server.url, headers: { ...MCP_POST_HEADERS }, token, body: initializeRequest() });
  const params = answer.status === undefined ? {} : extractWWWAuthenticateParams(new Response(null, { headers: answer.headers ?? {} }));
  const status = answer.status;
  const outcome: Outcome =
    status === undefined
      ? skip(statusText(answer))
      : status >= 200 && status < 300
        ? fail('low', `accepts a token without the scopes it names (${server.scope}): answered ${status}`)
        : status === 403 && params.error === 'insufficient_scope' && params.scope && params.resourceMetadataUrl
          ? pass(`403, error="insufficient_scope", scope="${params.scope}"`)
          : fail('low', `answered ${status}${answer.headers?.get('www-authenticate') ? ` with WWW-Authenticate: ${answer.headers.get('www-authenticate')}` : ' without WWW-Authenticate'}, not 403 insufficient_scope naming scope and resource_metadata`);
  return result(server.name, 'scope.insufficient', title, CLAUSES.insufficientScope, outcome, [answer.exchange]);
}
