import express from 'express';
import type { Request, Response, Router } from 'express';
import type { ServiceLog } from '../../common/index.ts';
import type { Minted, MintOptions } from './mint.ts';

/** A registered client; when the server has a client list, only these may get tokens. */
export interface OAuthClient {
  clientId: string;
  clientSecret: string;
}

export interface TokenEndpointOptions {
  /** Undefined: any client_id is accepted, with any (or no) secret. */
  clients: readonly OAuthClient[] | undefined;
  ttlSeconds: number;
  /** Mints the access token (a `valid` token) for the request. */
  issue(options: MintOptions): Promise<Minted>;
  log: ServiceLog;
}

/** An RFC 6749 §5.2 error response. */
interface OAuthErrorResponse {
  status: number;
  error: 'invalid_request' | 'invalid_client' | 'unsupported_grant_type' | 'invalid_scope' | 'invalid_target';
  description: string;
  /** Set when the client tried HTTP Basic: RFC 6749 §5.2 then requires 401 + WWW-Authenticate. */
  basicChallenge?: boolean;
}

function oauthError(error: OAuthErrorResponse['error'], description: string, basicChallenge = false): OAuthErrorResponse {
  return { status: error === 'invalid_client' ? 401 : 400, error, description, basicChallenge };
}

// RFC 6749 Appendix A.4: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), space-separated.
const SCOPE = /^[\x21\x23-\x5B\x5D-\x7E]+(?: [\x21\x23-\x5B\x5D-\x7E]+)*$/;

interface Credentials {
  clientId: string;
  clientSecret: string | undefined;
  basic: boolean;
}

function formDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, ' '));
}

/** RFC 6749 §2.3.1: Basic credentials are form-encoded before base64. */
function parseBasic(header: string): { clientId: string; clientSecret: string } | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 1) return undefined;
  try {
    return { clientId: formDecode(decoded.slice(0, colon)), clientSecret: formDecode(decoded.slice(colon + 1)) };
  } catch {
    return undefined;
  }
}

type Params = Record<string, string | string[] | undefined>;

function single(params: Params, name: string): string | OAuthErrorResponse | undefined {
  const value = params[name];
  // RFC 6749 §3.2: parameters MUST NOT be included more than once.
  if (Array.isArray(value)) return oauthError('invalid_request', `parameter "${name}" is repeated`);
  return value === '' ? undefined : value;
}

function isError(value: unknown): value is OAuthErrorResponse {
  return typeof value === 'object' && value !== null && 'error' in value;
}

function authenticate(req: Request, params: Params, clients: readonly OAuthClient[] | undefined): Credentials | OAuthErrorResponse {
  const formId = single(params, 'client_id');
  if (isError(formId)) return formId;
  const formSecret = single(params, 'client_secret');
  if (isError(formSecret)) return formSecret;

  let credentials: Credentials;
  const header = req.get('authorization');
  if (header && /^Basic\b/i.test(header)) {
    const basic = parseBasic(header);
    if (!basic) return oauthError('invalid_client', 'malformed HTTP Basic credentials', true);
    // RFC 6749 §2.3: one authentication method per request.
    if (formSecret !== undefined) return oauthError('invalid_request', 'client authenticated by both HTTP Basic and client_secret');
    if (formId !== undefined && formId !== basic.clientId) {
      return oauthError('invalid_request', 'client_id in the body differs from the HTTP Basic client');
    }
    credentials = { ...basic, basic: true };
  } else {
    if (formId === undefined) return oauthError('invalid_client', 'client authentication required (HTTP Basic or client_id/client_secret)');
    credentials = { clientId: formId, clientSecret: formSecret, basic: false };
  }

  if (clients) {
    const client = clients.find((candidate) => candidate.clientId === credentials.clientId);
    if (!client || client.clientSecret !== credentials.clientSecret) {
      return oauthError('invalid_client', `client "${credentials.clientId}" unknown or secret wrong`, credentials.basic);
    }
  }
  return credentials;
}

function resources(params: Params): string | string[] | OAuthErrorResponse | undefined {
  const raw = params.resource;
  if (raw === undefined) return undefined;
  const list = Array.isArray(raw) ? raw : [raw];
  for (const value of list) {
    // RFC 8707 §2: an absolute URI without a fragment.
    if (!URL.canParse(value) || value.includes('#')) {
      return oauthError('invalid_target', `resource ${JSON.stringify(value)} is not an absolute URI without fragment`);
    }
  }
  return list.length === 1 ? list[0] : list;
}

/**
 * `POST /oauth/token`: the client_credentials grant (RFC 6749 §4.4), with RFC 8707 `resource`
 * as the token's `aud` (no `resource`, no `aud`). Errors are RFC 6749 §5.2 bodies.
 *
 * @example
 * app.use(tokenEndpoint({ clients: undefined, ttlSeconds: 3600, issue, log }));
 */
export function tokenEndpoint(options: TokenEndpointOptions): Router {
  const router = express.Router();
  const parseForm = express.urlencoded({ extended: false, limit: '16kb' });

  const reject = (res: Response, failure: OAuthErrorResponse): void => {
    options.log.write('token.request_rejected', { error: failure.error, error_description: failure.description, status: failure.status });
    if (failure.basicChallenge) res.set('WWW-Authenticate', 'Basic realm="auth-server"');
    res.status(failure.status).set('Cache-Control', 'no-store').json({ error: failure.error, error_description: failure.description });
  };

  const handle = async (req: Request, res: Response): Promise<void> => {
    if (!req.is('application/x-www-form-urlencoded')) {
      return reject(res, oauthError('invalid_request', 'token requests are application/x-www-form-urlencoded (RFC 6749 §4.4.2)'));
    }
    const params = (req.body ?? {}) as Params;
    const grantType = single(params, 'grant_type');
    if (isError(grantType)) return reject(res, grantType);
    if (grantType === undefined) return reject(res, oauthError('invalid_request', 'missing grant_type'));
    if (grantType !== 'client_credentials') {
      return reject(res, oauthError('unsupported_grant_type', `grant_type "${grantType}" is not supported; only client_credentials`));
    }
    const client = authenticate(req, params, options.clients);
    if (isError(client)) return reject(res, client);
    const scope = single(params, 'scope');
    if (isError(scope)) return reject(res, scope);
    if (scope !== undefined && !SCOPE.test(scope)) return reject(res, oauthError('invalid_scope', `malformed scope ${JSON.stringify(scope)}`));
    const audience = resources(params);
    if (isError(audience)) return reject(res, audience);

    const minted = await options.issue({ audience, subject: client.clientId, clientId: client.clientId, scope });
    options.log.write('token.issued', { via: 'token_endpoint', kind: 'valid', kid: minted.kid, client_id: client.clientId, aud: audience ?? null, scope: scope ?? null });
    res
      .status(200)
      .set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' })
      .json({ access_token: minted.token, token_type: 'Bearer', expires_in: options.ttlSeconds, ...(scope === undefined ? {} : { scope }) });
  };

  router.post('/oauth/token', (req, res, next) => {
    parseForm(req, res, (error?: unknown) => {
      if (error) return reject(res, oauthError('invalid_request', `unreadable request body: ${error instanceof Error ? error.message : String(error)}`));
      handle(req, res).catch(next);
    });
  });
  return router;
}
