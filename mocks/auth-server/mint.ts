import { randomUUID } from 'node:crypto';
import { base64url, SignJWT, UnsecuredJWT } from 'jose';
import type { JWTPayload } from 'jose';
import * as z from 'zod';
import type { Clock } from '../../common/index.ts';
import { AuthServerError } from './errors.ts';
import type { KeyRing, SigningKey } from './key-ring.ts';
import { assertTokenKind, NOT_A_JWT, WRONG_AUDIENCE, WRONG_ISSUER } from './token-kinds.ts';
import type { TokenKind } from './token-kinds.ts';

const AudienceSchema = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

export const MintOptionsSchema = z.strictObject({
  /** `aud` claim; see each kind for whether it is used. */
  audience: AudienceSchema.optional(),
  /** `sub` claim; defaults to the client id. */
  subject: z.string().min(1).optional(),
  /** `client_id` claim; defaults to `claude-worker`. */
  clientId: z.string().min(1).optional(),
  /** `scope` claim (space-separated), omitted when not given. */
  scope: z.string().min(1).optional(),
  /** Lifetime; defaults to the server's `tokenTtlSeconds` (3600). */
  ttlSeconds: z.number().int().positive().optional(),
});
export type MintOptions = z.infer<typeof MintOptionsSchema>;

/** The default client (and subject) of minted tokens: the worker of the incident. */
export const DEFAULT_CLIENT_ID = 'claude-worker';

export interface MintContext {
  issuer: string;
  clock: Clock;
  ttlSeconds: number;
  keys: KeyRing;
}

export interface Minted {
  token: string;
  /** kid in the token's header, if any. */
  kid?: string;
  /** The signed claims (for `tampered`, before tampering). */
  claims?: JWTPayload;
}

function sign(claims: JWTPayload, key: SigningKey, kid = key.kid): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid }).sign(key.privateKey);
}

/**
 * Mints one token of `kind`; all time claims come from `context.clock`.
 *
 * @example
 * const { token } = await mintToken('expired', {}, { issuer, clock, ttlSeconds: 3600, keys });
 */
export async function mintToken(kind: TokenKind, options: MintOptions | undefined, context: MintContext): Promise<Minted> {
  assertTokenKind(kind);
  const parsed = MintOptionsSchema.safeParse(options ?? {});
  if (!parsed.success) {
    throw new AuthServerError('ERR_AUTH_SERVER_MINT', `bad mint options: ${z.prettifyError(parsed.error)}`);
  }
  const opts = parsed.data;
  if (kind === 'not-a-jwt') return { token: NOT_A_JWT };
  if (kind === 'empty') return { token: '' };
  if (kind === 'with-audience' && opts.audience === undefined) {
    throw new AuthServerError('ERR_AUTH_SERVER_MINT', 'token kind "with-audience" needs options.audience');
  }

  const ttl = opts.ttlSeconds ?? context.ttlSeconds;
  const now = Math.floor(context.clock.now() / 1000);
  const clientId = opts.clientId ?? DEFAULT_CLIENT_ID;
  const claims: JWTPayload = {
    iss: context.issuer,
    sub: opts.subject ?? clientId,
    client_id: clientId,
    iat: now,
    exp: now + ttl,
    jti: randomUUID(),
  };
  if (opts.scope !== undefined) claims.scope = opts.scope;
  if (opts.audience !== undefined) claims.aud = opts.audience;

  switch (kind) {
    case 'no-audience':
      delete claims.aud;
      break;
    case 'wrong-audience':
      claims.aud = opts.audience ?? WRONG_AUDIENCE;
      break;
    case 'expired':
      claims.iat = now - 2 * ttl;
      claims.exp = now - ttl;
      break;
    case 'not-yet-valid':
      claims.nbf = now + ttl;
      claims.exp = now + 2 * ttl;
      break;
    case 'wrong-issuer':
      claims.iss = WRONG_ISSUER;
      break;
    default:
      break;
  }

  const current = context.keys.current();
  switch (kind) {
    case 'unknown-kid': {
      const stray = await context.keys.stray();
      return { token: await sign(claims, stray), kid: stray.kid, claims };
    }
    case 'foreign-key': {
      const stray = await context.keys.stray();
      return { token: await sign(claims, stray, current.kid), kid: current.kid, claims };
    }
    case 'alg-none':
      return { token: new UnsecuredJWT(claims).encode(), claims };
    case 'hs256-key-confusion': {
      const secret = new TextEncoder().encode(await context.keys.publicPem(current));
      const token = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: current.kid }).sign(secret);
      return { token, kid: current.kid, claims };
    }
    case 'tampered': {
      const [header, , signature] = (await sign(claims, current)).split('.');
      // Privilege escalation is the classic tamper; 'root' only so the payload always changes.
      const forged = { ...claims, sub: claims.sub === 'admin' ? 'root' : 'admin' };
      const payload = base64url.encode(JSON.stringify(forged));
      return { token: `${header}.${payload}.${signature}`, kid: current.kid, claims };
    }
    default:
      return { token: await sign(claims, current), kid: current.kid, claims };
  }
}
