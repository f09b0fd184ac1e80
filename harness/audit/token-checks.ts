import type { MintOptions, TokenKind } from '../../mocks/auth-server/index.ts';
import { CLAUSES } from './clauses.ts';
import { initializeRequest, MCP_POST_HEADERS, probe, type ProbeAnswer } from './exchange.ts';
import type { CheckResult, Clause, Severity } from './finding.ts';
import type { AuditContext, ServerUnderAudit } from './target.ts';

/** One probe of the battery: which token, and what a compliant server does with it. */
interface BatteryEntry {
  id: string;
  title: string;
  /** undefined: no Authorization header at all. */
  token?: (server: ServerUnderAudit) => { kind: TokenKind; options: MintOptions } | undefined;
  expect: 'reject' | 'accept';
  /** Severity when a token that must be refused is let in (or a valid one refused). */
  severity: Severity;
  clause: Clause;
}

function own(server: ServerUnderAudit): MintOptions {
  return { audience: server.audience, ...(server.scope ? { scope: server.scope } : {}) };
}

function scoped(server: ServerUnderAudit): MintOptions {
  return server.scope ? { scope: server.scope } : {};
}

/** A defective token that is otherwise valid for `server` (its audience and scopes), so only the defect shows. */
function defect(kind: TokenKind) {
  return (server: ServerUnderAudit) => ({ kind, options: own(server) });
}

/**
 * The token battery, in the order it is sent. Every token comes from the auth server's mint
 * (mocks/auth-server/token-kinds.ts says what each kind is).
 */
export const TOKEN_BATTERY: readonly BatteryEntry[] = [
  { id: 'token.no-header', title: 'no Authorization header is refused with 401', expect: 'reject', severity: 'high', clause: CLAUSES.unauthorized },
  { id: 'token.empty-bearer', title: 'an empty bearer token is refused', token: () => ({ kind: 'empty', options: {} }), expect: 'reject', severity: 'high', clause: CLAUSES.tokenValidation },
  { id: 'token.not-a-jwt', title: 'a token that is not a JWT is refused', token: () => ({ kind: 'not-a-jwt', options: {} }), expect: 'reject', severity: 'high', clause: CLAUSES.tokenValidation },
  { id: 'token.alg-none', title: 'an unsigned token (alg: none) is refused', token: defect('alg-none'), expect: 'reject', severity: 'critical', clause: CLAUSES.tokenValidation },
  { id: 'token.hs256-key-confusion', title: 'an HS256 token keyed with the public key is refused', token: defect('hs256-key-confusion'), expect: 'reject', severity: 'critical', clause: CLAUSES.tokenValidation },
  { id: 'token.tampered', title: 'a token whose payload was changed after signing is refused', token: defect('tampered'), expect: 'reject', severity: 'critical', clause: CLAUSES.tokenValidation },
  { id: 'token.expired', title: 'an expired token is refused', token: defect('expired'), expect: 'reject', severity: 'high', clause: CLAUSES.tokenValidation },
  { id: 'token.not-yet-valid', title: 'a token not valid yet (nbf ahead) is refused', token: defect('not-yet-valid'), expect: 'reject', severity: 'medium', clause: CLAUSES.tokenValidation },
  { id: 'token.wrong-issuer', title: 'a token from another issuer is refused', token: defect('wrong-issuer'), expect: 'reject', severity: 'high', clause: CLAUSES.tokenValidation },
  { id: 'token.unknown-kid', title: 'a token signed by a key not in the JWKS is refused', token: defect('unknown-kid'), expect: 'reject', severity: 'critical', clause: CLAUSES.tokenValidation },
  { id: 'token.foreign-key', title: 'a token with a known kid but a foreign signature is refused', token: defect('foreign-key'), expect: 'reject', severity: 'critical', clause: CLAUSES.tokenValidation },
  { id: 'token.no-audience', title: 'a token without aud is refused', token: (server) => ({ kind: 'no-audience', options: scoped(server) }), expect: 'reject', severity: 'high', clause: CLAUSES.audience },
  { id: 'token.wrong-audience', title: 'a token for another audience is refused', token: (server) => ({ kind: 'wrong-audience', options: scoped(server) }), expect: 'reject', severity: 'high', clause: CLAUSES.audience },
  {
    id: 'token.other-server-audience',
    title: "a valid token minted for another of the worker's servers is refused (confused deputy)",
    token: (server) => (server.otherAudience ? { kind: 'with-audience', options: { ...scoped(server), audience: server.otherAudience.audience } } : undefined),
    expect: 'reject',
    severity: 'high',
    clause: CLAUSES.passthrough,
  },
  { id: 'token.valid', title: "a valid token for this server's audience is accepted", token: (server) => ({ kind: 'with-audience', options: own(server) }), expect: 'accept', severity: 'medium', clause: CLAUSES.tokenValidation },
];

function accepted(answer: ProbeAnswer): boolean {
  return answer.status !== undefined && answer.status >= 200 && answer.status < 300;
}

function judge(entry: BatteryEntry, server: ServerUnderAudit, answer: ProbeAnswer, tokenKind: string): CheckResult {
  const base = { id: entry.id, title: entry.title, target: server.name, clause: entry.clause, evidence: [answer.exchange] };
  if (answer.status === undefined) {
    return { ...base, status: 'skip', severity: 'info', message: `no answer: ${answer.exchange.error}` };
  }
  const what = tokenKind === 'none' ? 'a request without a token' : `the ${tokenKind} token`;
  if (entry.expect === 'accept') {
    return accepted(answer)
      ? { ...base, status: 'pass', severity: 'info', message: `accepted (${answer.status})` }
      : {
          ...base,
          status: 'fail',
          severity: entry.severity,
          message: `refused a valid token for its audience ${server.audience} (${answer.status}): the battery's refusals may not mean each defect was caught`,
        };
  }
  if (accepted(answer)) {
    const deputy = entry.id === 'token.other-server-audience' ? ` (valid, minted for ${server.otherAudience?.server}'s audience ${server.otherAudience?.audience})` : '';
    return { ...base, status: 'fail', severity: entry.severity, message: `accepts ${what}${deputy}: answered ${answer.status}` };
  }
  if (answer.status === 401) return { ...base, status: 'pass', severity: 'info', message: 'refused with 401' };
  return { ...base, status: 'fail', severity: 'low', clause: CLAUSES.tokenValidation, message: `refused ${what}, but with ${answer.status} instead of 401` };
}

/**
 * Sends every token of the battery to `server` (an MCP initialize, the first request any client
 * makes) and judges each answer: a token that must be refused gets a 401; the valid one a 2xx.
 *
 * @example
 * const results = await runTokenBattery(server, { router, mint: (kind, options) => auth.mint(kind, options) });
 */
export async function runTokenBattery(server: ServerUnderAudit, context: AuditContext): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const entry of TOKEN_BATTERY) {
    const spec = entry.token?.(server);
    if (entry.token && !spec) {
      results.push({
        id: entry.id,
        title: entry.title,
        target: server.name,
        status: 'skip',
        severity: 'info',
        message: 'the worker lists no other server with an audience of its own',
        clause: entry.clause,
        evidence: [],
      });
      continue;
    }
    // Shown by the battery's name for it (`other-server-audience`), which says more than the mint kind.
    const token = spec ? { kind: entry.id.slice('token.'.length), value: await context.mint(spec.kind, spec.options) } : undefined;
    const answer = await probe(context.router, { method: 'POST', url: server.url, headers: { ...MCP_POST_HEADERS }, body: initializeRequest(), ...(token ? { token } : {}) });
    results.push(judge(entry, server, answer, token?.kind ?? 'none'));
  }
  return results;
}
