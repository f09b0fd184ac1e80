import { createHash, randomBytes } from 'node:crypto';
import express from 'express';
import type { Request, Response, Router } from 'express';
import * as z from 'zod';
import type { Clock, Fetch, ServiceLog } from '../../common/index.ts';

/** How long an authorization code may be redeemed (RFC 6749 §4.1.2 recommends 10 minutes at most). */
export const CODE_TTL_MS = 60_000;

/** What a code stands for: the authorization request it was issued for. */
interface Grant {
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  scope: string | undefined;
  resource: string | undefined;
  expiresAt: number;
}

/** An RFC 6749 §5.2 / §4.1.2.1 error. */
export interface GrantError {
  error: 'invalid_request' | 'invalid_client' | 'invalid_grant' | 'unsupported_response_type' | 'invalid_scope' | 'invalid_target' | 'server_error';
  description: string;
}

/** Client ID Metadata Document fields the server reads (draft-ietf-oauth-client-id-metadata-document-00). */
const ClientMetadataSchema = z.looseObject({
  client_id: z.string(),
  client_name: z.string().min(1),
  redirect_uris: z.array(z.string()).min(1),
});

// RFC 7636 §4.1: code_verifier = 43*128unreserved.
const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;
const CHALLENGE = /^[A-Za-z0-9\-_]{43}$/;

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/**
 * True when `clientId` is a Client ID Metadata Document URL: https with a path; plain http is
 * taken on loopback only, so tests can serve a document without TLS.
 */
export function isMetadataDocumentUrl(clientId: string): boolean {
  if (!URL.canParse(clientId)) return false;
  const url = new URL(clientId);
  const scheme = url.protocol === 'https:' || (url.protocol === 'http:' && isLoopback(url.hostname));
  return scheme && url.pathname !== '/' && url.pathname !== '' && url.hash === '';
}

/** The redirect URIs a client may use: its metadata document's, or for a plain client id any loopback or https URI. */
async function allowedRedirect(clientId: string, redirectUri: string, fetch: Fetch, documents: boolean): Promise<GrantError | undefined> {
  if (!URL.canParse(redirectUri)) return { error: 'invalid_request', description: `redirect_uri ${JSON.stringify(redirectUri)} is not an absolute URI` };
  if (isMetadataDocumentUrl(clientId) && !documents) {
    return { error: 'invalid_client', description: `${clientId} is a Client ID Metadata Document URL, and this server does not accept them` };
  }
  if (!isMetadataDocumentUrl(clientId)) {
    const url = new URL(redirectUri);
    // A pre-registered native client's redirect (MCP 2025-11-25: redirect URIs MUST be localhost or https).
    return url.protocol === 'https:' || isLoopback(url.hostname) ? undefined : { error: 'invalid_request', description: 'redirect_uri must be a loopback or https URI' };
  }
  let document: unknown;
  try {
    const response = await fetch(clientId, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(5_000) });
    if (!response.ok) return { error: 'invalid_client', description: `client metadata document ${clientId} answered ${response.status}` };
    document = await response.json();
  } catch (error) {
    return { error: 'invalid_client', description: `client metadata document ${clientId} could not be read: ${error instanceof Error ? error.message : String(error)}` };
  }
  const parsed = ClientMetadataSchema.safeParse(document);
  if (!parsed.success) return { error: 'invalid_client', description: `client metadata document ${clientId}: ${z.prettifyError(parsed.error)}` };
  if (parsed.data.client_id !== clientId) return { error: 'invalid_client', description: `client metadata document's client_id ${parsed.data.client_id} is not its URL ${clientId}` };
  if (!parsed.data.redirect_uris.includes(redirectUri)) return { error: 'invalid_request', description: `redirect_uri ${redirectUri} is not in the client metadata document's redirect_uris` };
  return undefined;
}

export interface AuthorizationCodeOptions {
  issuer: () => string;
  clock: Clock;
  log: ServiceLog;
  /** How the server fetches Client ID Metadata Documents. */
  fetch: Fetch;
  /** Whether a client id may be a Client ID Metadata Document URL; when not, such a client is unknown. */
  clientIdMetadataDocuments: boolean;
}

/**
 * The authorization code grant with PKCE (S256 only) and automatic consent: `GET /oauth/authorize`
 * issues a code at once and redirects to the client's `redirect_uri` with `code`, `state` and `iss`
 * (RFC 9207); `redeem` checks it at the token endpoint. Client ids may be Client ID Metadata Document
 * URLs, whose document is fetched and checked (client_id identical to the URL, redirect_uri listed).
 *
 * @example
 * const codes = new AuthorizationCodes({ issuer: () => url, clock, log, fetch });
 * app.use(codes.router());
 */
export class AuthorizationCodes {
  readonly #grants = new Map<string, Grant>();
  readonly #options: AuthorizationCodeOptions;

  constructor(options: AuthorizationCodeOptions) {
    this.#options = options;
  }

  /** `GET /oauth/authorize`. */
  router(): Router {
    const router = express.Router();
    router.get('/oauth/authorize', (req, res, next) => {
      this.#authorize(req, res).catch(next);
    });
    return router;
  }

  async #authorize(req: Request, res: Response): Promise<void> {
    const query = req.query as Record<string, unknown>;
    const text = (name: string): string | undefined => (typeof query[name] === 'string' && query[name] !== '' ? (query[name] as string) : undefined);
    const clientId = text('client_id');
    const redirectUri = text('redirect_uri');
    const refuse = (failure: GrantError) => {
      this.#options.log.write('authorize.rejected', { error: failure.error, error_description: failure.description, client_id: clientId ?? null });
      res.status(400).set('Cache-Control', 'no-store').json({ error: failure.error, error_description: failure.description });
    };
    // RFC 6749 §4.1.2.1: without a valid client and redirect URI, tell the user agent, never redirect.
    if (!clientId) return refuse({ error: 'invalid_request', description: 'missing client_id' });
    if (!redirectUri) return refuse({ error: 'invalid_request', description: 'missing redirect_uri' });
    const redirectError = await allowedRedirect(clientId, redirectUri, this.#options.fetch, this.#options.clientIdMetadataDocuments);
    if (redirectError) return refuse(redirectError);

    const state = text('state');
    const back = (params: Record<string, string>) => {
      const target = new URL(redirectUri);
      for (const [name, value] of Object.entries({ ...params, ...(state ? { state } : {}), iss: this.#options.issuer() })) target.searchParams.set(name, value);
      res.redirect(302, target.href);
    };
    const fail = (failure: GrantError) => {
      this.#options.log.write('authorize.rejected', { error: failure.error, error_description: failure.description, client_id: clientId });
      back({ error: failure.error, error_description: failure.description });
    };
    if (text('response_type') !== 'code') return fail({ error: 'unsupported_response_type', description: 'only response_type=code is supported' });
    const challenge = text('code_challenge');
    if (!challenge) return fail({ error: 'invalid_request', description: 'PKCE is required: missing code_challenge' });
    if (text('code_challenge_method') !== 'S256') return fail({ error: 'invalid_request', description: 'code_challenge_method must be S256' });
    if (!CHALLENGE.test(challenge)) return fail({ error: 'invalid_request', description: 'code_challenge is not a base64url SHA-256 digest' });
    const resource = text('resource');
    if (resource !== undefined && (!URL.canParse(resource) || resource.includes('#'))) return fail({ error: 'invalid_target', description: `resource ${JSON.stringify(resource)} is not an absolute URI without fragment` });

    const code = randomBytes(24).toString('base64url');
    this.#grants.set(code, { clientId, redirectUri, codeChallenge: challenge, scope: text('scope'), resource, expiresAt: this.#options.clock.now() + CODE_TTL_MS });
    this.#options.log.write('authorize.approved', { client_id: clientId, consent: 'automatic', scope: text('scope') ?? null, resource: resource ?? null });
    back({ code });
  }

  /**
   * Redeems `params.code` once (token endpoint, `grant_type=authorization_code`): same client and
   * redirect_uri, PKCE verifier matching, a `resource` (if sent) equal to the authorization request's.
   */
  redeem(params: Record<string, string | undefined>): GrantError | { clientId: string; scope: string | undefined; resource: string | undefined } {
    const { code, redirect_uri: redirectUri, code_verifier: verifier, client_id: clientId, resource } = params;
    if (!code) return { error: 'invalid_request', description: 'missing code' };
    if (!verifier) return { error: 'invalid_request', description: 'missing code_verifier (PKCE)' };
    if (!VERIFIER.test(verifier)) return { error: 'invalid_request', description: 'code_verifier is not 43-128 unreserved characters' };
    const grant = this.#grants.get(code);
    // Single use: gone on the first try, whatever its outcome.
    this.#grants.delete(code);
    if (!grant) return { error: 'invalid_grant', description: 'unknown or already used authorization code' };
    if (grant.expiresAt <= this.#options.clock.now()) return { error: 'invalid_grant', description: 'authorization code expired' };
    if (clientId !== grant.clientId) return { error: 'invalid_grant', description: 'the code was issued to another client' };
    if (redirectUri !== grant.redirectUri) return { error: 'invalid_grant', description: 'redirect_uri differs from the authorization request' };
    if (createHash('sha256').update(verifier).digest('base64url') !== grant.codeChallenge) return { error: 'invalid_grant', description: 'code_verifier does not match the code_challenge' };
    if (resource !== undefined && grant.resource !== undefined && resource !== grant.resource) return { error: 'invalid_target', description: 'resource differs from the authorization request' };
    return { clientId: grant.clientId, scope: grant.scope, resource: resource ?? grant.resource };
  }
}
