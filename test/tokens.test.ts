import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { describeTokenKind, JWKS_FAULTS, startAuthServer, TOKEN_KINDS } from '../mocks/auth-server/index.ts';
import type { JwksFault, StartedAuthServer, TokenKind } from '../mocks/auth-server/index.ts';
import { startMonitoringAiMcp } from '../mocks/monitoring-ai-mcp/index.ts';
import type { StartedMonitoringAiMcp } from '../mocks/monitoring-ai-mcp/index.ts';
import { INVALID_TOKEN_BODY, MISSING_TOKEN_BODY, startMonitoringMcp } from '../mocks/monitoring-mcp/index.ts';
import type { AuthCause, StartedMonitoringMcp } from '../mocks/monitoring-mcp/index.ts';
import { ManualClock } from '../common/index.ts';
import { connectMcpClient } from '../mocks/shared/index.ts';
import type { LogEntry } from '../common/index.ts';

// Every token kind against both MCP servers, through the real SDK client over loopback HTTP.

const AUDIENCE = 'https://monitoring-mcp.example.invalid/v1/mcp';
// Short so the `slow` fault fails fast; the auth server's delay is far beyond it.
const JWKS_TIMEOUT_MS = 400;

/** Why the strict server rejects each kind: [audience check off, audience check on]; null = accepted. */
const EXPECTED: Record<TokenKind, [AuthCause | null, AuthCause | null]> = {
  valid: [null, null],
  'with-audience': [null, null],
  'no-audience': [null, 'wrong_audience'],
  'wrong-audience': [null, 'wrong_audience'],
  expired: ['expired', 'expired'],
  'not-yet-valid': ['not_yet_valid', 'not_yet_valid'],
  'wrong-issuer': ['wrong_issuer', 'wrong_issuer'],
  'unknown-kid': ['unknown_kid', 'unknown_kid'],
  'foreign-key': ['bad_signature', 'bad_signature'],
  'alg-none': ['alg_not_allowed', 'alg_not_allowed'],
  'hs256-key-confusion': ['alg_not_allowed', 'alg_not_allowed'],
  tampered: ['bad_signature', 'bad_signature'],
  'not-a-jwt': ['malformed', 'malformed'],
  // `Bearer ` + '' reaches the server as `Bearer` (header values are trimmed): no token at all.
  empty: ['missing_token', 'missing_token'],
};

/** The audience is only given where the kind uses it the way describeTokenKind assumes. */
function mint(auth: StartedAuthServer, kind: TokenKind): Promise<string> {
  return kind === 'no-audience' || kind === 'wrong-audience' ? auth.mint(kind) : auth.mint(kind, { audience: AUDIENCE });
}

function lastAuth(entries: LogEntry[]): LogEntry | undefined {
  return entries.filter((e) => e.event.startsWith('auth.')).at(-1);
}

/** Connects with the real SDK client; the outcome is 'connected' or the HTTP status it was refused with. */
async function connectOutcome(url: string, token: string | undefined): Promise<'connected' | number> {
  try {
    await using client = await connectMcpClient(url, { token });
    await client.listTools();
    return 'connected';
  } catch (error) {
    if (error instanceof StreamableHTTPError && error.code !== undefined) return error.code;
    throw error;
  }
}

async function rawPost(url: string, token: string): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
  });
}

describe('tokens against the strict monitoring-mcp', () => {
  const stack = new AsyncDisposableStack();
  const clock = new ManualClock();
  let auth: StartedAuthServer;
  let servers: Record<'off' | 'on', StartedMonitoringMcp>;

  beforeAll(async () => {
    auth = stack.use(await startAuthServer({ clock }));
    const common = { audience: AUDIENCE, issuer: auth.issuer, jwksUrl: auth.jwksUrl, clock, jwksTimeoutMs: JWKS_TIMEOUT_MS };
    servers = {
      off: stack.use(await startMonitoringMcp(common)),
      on: stack.use(await startMonitoringMcp({ ...common, verifyAudience: true })),
    };
  });
  afterAll(() => stack.disposeAsync());

  describe.each([
    ['off', 0, 'strict'],
    ['on', 1, 'audienceChecked'],
  ] as const)('with audience checking %s', (mode, column, verdict) => {
    it.each(TOKEN_KINDS)('decides on a %s token as expected', async (kind) => {
      const server = servers[mode];
      const cause = EXPECTED[kind][column];
      const token = await mint(auth, kind);
      // Cross-check with the auth server's own table of what a verifier should do.
      expect(cause === null).toBe(describeTokenKind(kind)[verdict].accepted);

      expect(await connectOutcome(server.mcpUrl, token)).toBe(cause === null ? 'connected' : 401);
      if (cause === null) {
        expect(lastAuth(server.log.entries)).toMatchObject({ event: 'auth.allowed', mode: 'strict' });
        return;
      }
      const response = await rawPost(server.mcpUrl, token);
      expect(response.status).toBe(401);
      const body = cause === 'missing_token' ? MISSING_TOKEN_BODY : INVALID_TOKEN_BODY;
      expect(await response.text()).toBe(JSON.stringify(body));
      expect(response.headers.get('www-authenticate')).toBe(`Bearer error="${body.error}", error_description="${body.error_description}"`);
      expect(lastAuth(server.log.entries)).toMatchObject({ event: 'auth.rejected', cause });
    });
  });
});

describe('tokens against monitoring-mcp without validation', () => {
  const stack = new AsyncDisposableStack();
  let auth: StartedAuthServer;
  let development: StartedMonitoringMcp;
  let decodeOnly: StartedMonitoringMcp;

  beforeAll(async () => {
    auth = stack.use(await startAuthServer());
    development = stack.use(await startMonitoringMcp({ jwksUrl: auth.jwksUrl, issuer: auth.issuer }));
    decodeOnly = stack.use(await startMonitoringMcp({ audience: AUDIENCE, authMode: 'decode-only', jwksUrl: auth.jwksUrl }));
  });
  afterAll(() => stack.disposeAsync());

  it.each([...TOKEN_KINDS, 'no header' as const])('lets a %s token in when no audience is configured (development mode)', async (kind) => {
    const token = kind === 'no header' ? undefined : await mint(auth, kind);
    expect(await connectOutcome(development.mcpUrl, token)).toBe('connected');
    expect(lastAuth(development.log.entries)).toMatchObject({ event: 'auth.skipped' });
    expect(auth.jwksRequests).toBe(0);
  });

  it.each([...TOKEN_KINDS, 'no header' as const])('lets a %s token in with authMode decode-only', async (kind) => {
    const token = kind === 'no header' ? undefined : await mint(auth, kind);
    expect(await connectOutcome(decodeOnly.mcpUrl, token)).toBe('connected');
    expect(lastAuth(decodeOnly.log.entries)).toMatchObject({ event: 'auth.allowed', mode: 'decode-only' });
  });
});

describe('tokens against the lenient monitoring-ai-mcp', () => {
  const stack = new AsyncDisposableStack();
  let auth: StartedAuthServer;
  let lenient: StartedMonitoringAiMcp;

  beforeAll(async () => {
    auth = stack.use(await startAuthServer());
    lenient = stack.use(await startMonitoringAiMcp({ audience: AUDIENCE }));
  });
  afterAll(() => stack.disposeAsync());

  it.each([...TOKEN_KINDS, 'no header' as const])('lets a %s token in on both toolsets', async (kind) => {
    const token = kind === 'no header' ? undefined : await mint(auth, kind);
    for (const toolset of ['grafana', 'alertmanager']) {
      expect(await connectOutcome(lenient.mcpUrl(toolset), token)).toBe('connected');
    }
    const seen = lastAuth(lenient.log.entries);
    expect(seen?.event).toBe('auth.allowed');
    if (kind !== 'no header' && describeTokenKind(kind).decodable) expect(seen).toMatchObject({ iss: expect.any(String), sub: expect.any(String) });
  });
});

describe('JWKS faults against the strict monitoring-mcp', () => {
  const stack = new AsyncDisposableStack();
  let auth: StartedAuthServer;

  beforeAll(async () => {
    auth = stack.use(await startAuthServer({ slowMs: 10_000 }));
  });
  afterAll(() => stack.disposeAsync());

  const EXPECTED_FAULT: Record<JwksFault, { cause: AuthCause; errorCode?: string }> = {
    'http-500': { cause: 'jwks_unreachable', errorCode: 'HTTP_500' },
    slow: { cause: 'jwks_unreachable', errorCode: 'ETIMEDOUT' },
    'invalid-json': { cause: 'jwks_invalid' },
    'empty-keyset': { cause: 'jwks_invalid' },
    'connection-refused': { cause: 'jwks_unreachable', errorCode: 'ECONNREFUSED' },
  };

  it.each(JWKS_FAULTS)('rejects a valid token with 401 and logs the cause when the JWKS fault is %s', async (fault) => {
    // A fresh server each time: a cold JWKS cache, so the fault is hit on the first request.
    await using server = await startMonitoringMcp({ audience: AUDIENCE, issuer: auth.issuer, jwksUrl: auth.jwksUrl, jwksTimeoutMs: JWKS_TIMEOUT_MS });
    const token = await auth.mint('valid');
    await auth.setJwksFault(fault);
    try {
      const response = await rawPost(server.mcpUrl, token);
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual(INVALID_TOKEN_BODY);
      expect(lastAuth(server.log.entries)).toMatchObject({ event: 'auth.rejected', jwksUrl: auth.jwksUrl, ...EXPECTED_FAULT[fault] });
    } finally {
      await auth.setJwksFault(null);
    }
  });
});
