import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAuthServer, type StartedAuthServer } from '../../mocks/auth-server/index.ts';
import { directRouter } from './exchange.ts';
import { FIXTURE_SCOPE, startBareServer, startFixtureMcpServer, type Flaw } from './fixture-servers.ts';
import type { CheckResult } from './finding.ts';
import { checkAuthServer, checkInsufficientScope, checkOrigin, discover } from './protocol-checks.ts';
import type { AuditContext, ServerUnderAudit } from './target.ts';
import { runTokenBattery, TOKEN_BATTERY } from './token-checks.ts';

let auth: StartedAuthServer;
let context: AuditContext;
beforeAll(async () => {
  auth = await startAuthServer();
  context = { router: directRouter(), mint: (kind, options) => auth.mint(kind, options) };
});
afterAll(() => auth.close());

function target(url: string): ServerUnderAudit {
  return { name: 'fixture', url, audience: url, scope: FIXTURE_SCOPE, otherAudience: { server: 'other', audience: 'http://other-mcp.example.invalid/mcp' } };
}

function byId(results: CheckResult[], id: string): CheckResult {
  const found = results.find((result) => result.id === id);
  if (!found) throw new Error(`no result ${id} in ${results.map((result) => result.id).join(', ')}`);
  return found;
}

describe('runTokenBattery', () => {
  it('passes every check against a server that validates tokens as the MCP specification asks', async () => {
    await using server = await startFixtureMcpServer(auth);
    const results = await runTokenBattery(target(server.url), context);
    expect(results.map((result) => [result.id, result.status])).toEqual(TOKEN_BATTERY.map((entry) => [entry.id, 'pass']));
  });

  // Each flaw makes exactly the checks it names fail, with their severity.
  it.each<[Flaw, string[]]>([
    ['no-auth', ['token.no-header', 'token.empty-bearer', 'token.not-a-jwt', 'token.alg-none', 'token.hs256-key-confusion', 'token.tampered', 'token.expired', 'token.not-yet-valid', 'token.wrong-issuer', 'token.unknown-kid', 'token.foreign-key', 'token.no-audience', 'token.wrong-audience', 'token.other-server-audience']],
    ['accept-malformed', ['token.empty-bearer', 'token.not-a-jwt']],
    ['no-signature', ['token.alg-none', 'token.hs256-key-confusion', 'token.tampered', 'token.unknown-kid', 'token.foreign-key']],
    ['no-exp', ['token.expired']],
    ['no-nbf', ['token.not-yet-valid']],
    ['no-iss', ['token.wrong-issuer']],
    ['no-aud', ['token.no-audience', 'token.wrong-audience', 'token.other-server-audience']],
    ['refuse-all', ['token.valid']],
  ])('fails exactly the checks a server with flaw %s breaks', async (flaw, failing) => {
    await using server = await startFixtureMcpServer(auth, [flaw]);
    const results = await runTokenBattery(target(server.url), context);
    expect(results.filter((result) => result.status === 'fail').map((result) => result.id)).toEqual(failing);
    for (const result of results.filter((r) => r.status === 'fail')) {
      expect(result.severity).toBe(TOKEN_BATTERY.find((entry) => entry.id === result.id)!.severity);
    }
  });

  it('fails with low severity when a bad token is refused with 403 instead of 401', async () => {
    await using server = await startFixtureMcpServer(auth, ['status-403']);
    const expired = byId(await runTokenBattery(target(server.url), context), 'token.expired');
    expect([expired.status, expired.severity, expired.evidence[0]!.response!.status]).toEqual(['fail', 'low', 403]);
  });

  it('shows each token by kind and length in the evidence, never in full', async () => {
    await using server = await startFixtureMcpServer(auth, ['no-signature']);
    const results = await runTokenBattery(target(server.url), context);
    const shown = JSON.stringify(results.map((result) => result.evidence));
    expect(shown).toMatch(/Bearer <alg-none token, \d+ chars>/);
    expect(shown).not.toMatch(/eyJ/);
  });

  it('skips the confused-deputy token when there is no other server', async () => {
    await using server = await startFixtureMcpServer(auth);
    const { otherAudience: _other, ...alone } = target(server.url);
    expect(byId(await runTokenBattery(alone, context), 'token.other-server-audience').status).toBe('skip');
  });
});

describe('discover', () => {
  it('passes every challenge and metadata check against a compliant server and learns its scope', async () => {
    await using server = await startFixtureMcpServer(auth);
    const discovery = await discover(target(server.url), context);
    expect(discovery.results.filter((result) => result.status !== 'pass')).toEqual([]);
    expect(discovery.metadata?.authorization_servers).toEqual([auth.issuer]);
    expect(discovery.scope).toBe(FIXTURE_SCOPE);
  });

  it.each<[Flaw[], string, string]>([
    [['no-challenge'], 'challenge.www-authenticate', 'medium'],
    [['no-resource-metadata'], 'challenge.resource-metadata', 'low'],
    [['no-scope'], 'challenge.scope', 'low'],
    [['broken-header-url'], 'prm.header-url', 'medium'],
    [['no-prm-path'], 'prm.well-known-path', 'info'],
    [['no-prm-root'], 'prm.well-known-root', 'info'],
    [['no-resource-metadata', 'no-prm-path', 'no-prm-root'], 'prm.discoverable', 'high'],
    [['no-authorization-servers'], 'prm.authorization-servers', 'high'],
    [['wrong-resource'], 'prm.resource', 'medium'],
  ])('with flaws %j fails %s (%s)', async (flaws, id, severity) => {
    await using good = await startFixtureMcpServer(auth);
    expect(byId((await discover(target(good.url), context)).results, id).status).toBe('pass');
    await using bad = await startFixtureMcpServer(auth, flaws);
    const result = byId((await discover(target(bad.url), context)).results, id);
    expect([result.status, result.severity]).toEqual(['fail', severity]);
    expect(result.clause?.spec).toMatch(/^(MCP 2025-11-25|RFC \d+)$/);
  });

  it('reports a server that lets a request without a token in: no 401, no WWW-Authenticate', async () => {
    await using server = await startFixtureMcpServer(auth, ['no-auth']);
    const result = byId((await discover(target(server.url), context)).results, 'challenge.www-authenticate');
    expect(result.status).toBe('fail');
    expect(result.message).toMatch(/answered 200 .*no WWW-Authenticate/);
  });
});

describe('checkOrigin', () => {
  it('passes when a foreign Origin gets 403 and fails when it is let in', async () => {
    await using good = await startFixtureMcpServer(auth);
    expect((await checkOrigin(target(good.url), context)).status).toBe('pass');
    await using bad = await startFixtureMcpServer(auth, ['no-origin-check']);
    const result = await checkOrigin(target(bad.url), context);
    expect([result.status, result.severity, result.clause?.section]).toEqual(['fail', 'medium', 'Transports > Streamable HTTP > Security Warning']);
  });
});

describe('checkInsufficientScope', () => {
  it('passes on 403 insufficient_scope naming scope and metadata, fails when the token gets in, skips without scopes', async () => {
    await using good = await startFixtureMcpServer(auth);
    const passed = await checkInsufficientScope(target(good.url), context);
    expect([passed.status, passed.message]).toEqual(['pass', `403, error="insufficient_scope", scope="${FIXTURE_SCOPE}"`]);
    await using bad = await startFixtureMcpServer(auth, ['no-scope-check']);
    const failed = await checkInsufficientScope(target(bad.url), context);
    expect([failed.status, failed.severity]).toEqual(['fail', 'low']);
    const { scope: _scope, ...unscoped } = target(good.url);
    expect((await checkInsufficientScope(unscoped, context)).status).toBe('skip');
  });
});

describe('checkAuthServer', () => {
  it('passes against the mock auth server (RFC 8414 metadata, issuer identical)', async () => {
    const results = await checkAuthServer(auth.issuer, context);
    expect(results.map((result) => [result.id, result.status])).toEqual([['as.metadata', 'pass'], ['as.issuer', 'pass']]);
  });

  it('fails as.metadata against a server with no metadata', async () => {
    await using bare = await startBareServer();
    const results = await checkAuthServer(bare.url, context);
    expect(results.map((result) => [result.id, result.status, result.severity])).toEqual([['as.metadata', 'fail', 'high'], ['as.issuer', 'skip', 'info']]);
    expect(results[0]!.evidence.map((exchange) => exchange.request.url)).toEqual([`${bare.url}/.well-known/oauth-authorization-server`, `${bare.url}/.well-known/openid-configuration`]);
  });

  it('fails as.issuer when the metadata names another issuer', async () => {
    await using other = await startAuthServer({ issuer: 'http://auth.example.invalid:9000' });
    const issuer = byId(await checkAuthServer(other.url, context), 'as.issuer');
    expect([issuer.status, issuer.severity]).toEqual(['fail', 'medium']);
  });
});
