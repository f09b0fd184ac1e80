import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import * as z from 'zod';
import { delayed, listen, ServiceLog, systemClock } from '../../common/index.ts';
import type { Clock, Fetch, Listening, LogSink, Started } from '../../common/index.ts';
import { AuthorizationCodes } from './authorization-code.ts';
import { adminApi } from './admin-api.ts';
import { AuthServerError } from './errors.ts';
import { DEFAULT_SLOW_MS, JwksFaultSchema } from './jwks-faults.ts';
import type { JwksFault } from './jwks-faults.ts';
import { KeyRing } from './key-ring.ts';
import type { KeySource } from './key-ring.ts';
import { oauthAuthorizationServerMetadata, openIdConfiguration } from './metadata.ts';
import type { AuthServerEndpoints } from './metadata.ts';
import { mintToken } from './mint.ts';
import type { Minted, MintOptions } from './mint.ts';
import { tokenEndpoint } from './token-endpoint.ts';
import type { OAuthClient } from './token-endpoint.ts';
import type { TokenKind } from './token-kinds.ts';

export interface AuthServerOptions {
  /** Defaults to 127.0.0.1. Both listeners use it. */
  host?: string;
  /** Main listener (metadata, token, admin, JWKS too); default 0 = any free port. */
  port?: number;
  /** Dedicated JWKS listener, the one `jwksUrl` and `jwks_uri` point at; default 0. */
  jwksPort?: number;
  /** `iss` of valid tokens and of the metadata; defaults to the server's own URL. */
  issuer?: string;
  /** Source of iat/nbf/exp and log times; defaults to the system clock. */
  clock?: Clock;
  /** Delay of the `slow` JWKS fault; default 3000 ms. */
  slowMs?: number;
  /** Where log entries go besides `log.entries` (e.g. jsonLinesSink in main.ts). */
  log?: LogSink;
  /** Lifetime of issued and minted tokens; default 3600 s. */
  tokenTtlSeconds?: number;
  /** When set, the token endpoint accepts only these clients; otherwise any client_id. */
  clients?: readonly OAuthClient[];
  /** Where the RS256 keys come from; default a new key each (see cachedKeys for many servers in one process). */
  keys?: KeySource;
  /**
   * Offer RFC 7591 dynamic client registration (`registration_endpoint` in the metadata, `POST
   * /oauth/register`): what lets an interactive client such as Claude Code show a server as
   * `needs-auth`. The metadata's endpoints are then announced under `issuer`. Default off, as in
   * the seed's auth server.
   */
  registration?: boolean;
  /**
   * Start in the middle of a key rotation: a second key signs every token from the start, and
   * shows in the JWKS only after this many JWKS answers (ROTATE_KEY_AFTER_JWKS). With 1, the
   * verifier's first fetch is the set from just before the rotation; its next fetch has the new key.
   */
  rotateKeyAfterJwks?: number;
  /** How Client ID Metadata Documents are fetched; default the global fetch. */
  fetch?: Fetch;
  /**
   * Accept Client ID Metadata Documents as client ids and say so in the metadata
   * (`client_id_metadata_document_supported`). Default true; off (AUTH_CLIENT_ID_METADATA_DOCUMENTS=0),
   * a public client has no way to register but dynamic registration, when that is on.
   */
  clientIdMetadataDocuments?: boolean;
}

const PortSchema = z.number().int().min(0).max(65535);
const AuthServerOptionsSchema = z.object({
  host: z.string().min(1).optional(),
  port: PortSchema.optional(),
  jwksPort: PortSchema.optional(),
  issuer: z.string().min(1).optional(),
  clock: z.custom<Clock>((value) => typeof (value as Clock | undefined)?.now === 'function', 'a Clock with now()').optional(),
  slowMs: z.number().int().min(0).max(600_000).optional(),
  log: z.custom<LogSink>((value) => typeof value === 'function', 'a function').optional(),
  tokenTtlSeconds: z.number().int().positive().optional(),
  clients: z.array(z.strictObject({ clientId: z.string().min(1), clientSecret: z.string() })).optional(),
  keys: z.custom<KeySource>((value) => typeof value === 'function', 'a function (keyNumber) => Promise<SigningKey>').optional(),
  registration: z.boolean().optional(),
  rotateKeyAfterJwks: z.number().int().positive().optional(),
  fetch: z.custom<Fetch>((value) => typeof value === 'function', 'a fetch function').optional(),
  clientIdMetadataDocuments: z.boolean().optional(),
});

export interface StartedAuthServer extends Started {
  /** `iss` of valid tokens. */
  readonly issuer: string;
  /** URL of the JWKS on the dedicated listener; the metadata's `jwks_uri`. */
  readonly jwksUrl: string;
  readonly tokenUrl: string;
  /** RFC 8414 metadata URL (`/.well-known/oauth-authorization-server`). */
  readonly metadataUrl: string;
  /** JWKS requests that reached either listener, faulted ones included (refused connections can't be). */
  readonly jwksRequests: number;
  readonly jwksFault: JwksFault | null;
  /** Events: token.issued, token.request_rejected, jwks.served, jwks.fault_answered, jwks.fault_set, key.added, key.retired, key.rotated. */
  readonly log: ServiceLog;
  /** A token of `kind` (see TOKEN_KINDS / describeTokenKind). */
  mint(kind: TokenKind, options?: MintOptions): Promise<string>;
  /** Generates a key, publishes it and makes it the signing key; returns its kid. */
  addKey(): Promise<string>;
  /** Removes a key from the JWKS (ERR_AUTH_SERVER_UNKNOWN_KID, ERR_AUTH_SERVER_LAST_KEY). */
  retireKey(kid: string): void;
  /** kids in the JWKS, oldest first; the last one signs (unless a rotation is under way: see rotateKeyAfterJwks). */
  kids(): string[];
  /** Sets (or with null clears) the JWKS fault; resolves once listeners match the mode. */
  setJwksFault(fault: JwksFault | null): Promise<void>;
}

const JWKS_PATH = '/.well-known/jwks.json';

function listenError(what: string, error: unknown): AuthServerError {
  return new AuthServerError('ERR_AUTH_SERVER_LISTEN', `cannot listen for ${what}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
}

function notFound(req: Request, res: Response): void {
  res.status(404).json({ error: 'not_found', error_description: `no route for ${req.method} ${req.path}` });
}

class AuthServer implements StartedAuthServer {
  readonly log: ServiceLog;
  readonly #keys: KeyRing;
  readonly #clock: Clock;
  readonly #host: string;
  readonly #port: number;
  readonly #ttlSeconds: number;
  readonly #slowMs: number;
  readonly #configuredIssuer: string | undefined;
  readonly #clients: readonly OAuthClient[] | undefined;
  readonly #codes: AuthorizationCodes;
  readonly #registration: boolean;
  readonly #clientIdMetadataDocuments: boolean;
  #registered = 0;
  #main: Listening | undefined;
  #jwks: Listening | undefined;
  #jwksPort: number;
  #endpoints: AuthServerEndpoints = { issuer: '', url: '', tokenUrl: '', jwksUrl: '', clientIdMetadataDocuments: true };
  #fault: JwksFault | null = null;
  #jwksRequests = 0;
  #jwksAnswers = 0;
  readonly #rotateAfter: number | undefined;
  readonly #slowTimers = new Set<() => void>();
  #faultChange: Promise<void> = Promise.resolve();
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(options: z.infer<typeof AuthServerOptionsSchema>, keys: KeyRing) {
    this.#keys = keys;
    this.#clock = options.clock ?? systemClock;
    this.#host = options.host ?? '127.0.0.1';
    this.#port = options.port ?? 0;
    this.#jwksPort = options.jwksPort ?? 0;
    this.#ttlSeconds = options.tokenTtlSeconds ?? 3600;
    this.#slowMs = options.slowMs ?? DEFAULT_SLOW_MS;
    this.#configuredIssuer = options.issuer;
    this.#clients = options.clients;
    this.#registration = options.registration ?? false;
    this.#rotateAfter = options.rotateKeyAfterJwks;
    this.log = new ServiceLog('auth-server', this.#clock, options.log);
    this.#clientIdMetadataDocuments = options.clientIdMetadataDocuments ?? true;
    this.#codes = new AuthorizationCodes({
      issuer: () => this.issuer,
      clock: this.#clock,
      log: this.log,
      fetch: options.fetch ?? globalThis.fetch,
      clientIdMetadataDocuments: this.#clientIdMetadataDocuments,
    });
  }

  get url(): string {
    return this.#endpoints.url;
  }
  get issuer(): string {
    return this.#endpoints.issuer;
  }
  get jwksUrl(): string {
    return this.#endpoints.jwksUrl;
  }
  get tokenUrl(): string {
    return this.#endpoints.tokenUrl;
  }
  get metadataUrl(): string {
    return `${this.#endpoints.url}/.well-known/oauth-authorization-server`;
  }
  get jwksRequests(): number {
    return this.#jwksRequests;
  }
  get jwksFault(): JwksFault | null {
    return this.#fault;
  }

  async start(): Promise<void> {
    try {
      this.#main = await listen(this.#mainApp(), { host: this.#host, port: this.#port });
    } catch (error) {
      throw listenError('the auth server', error);
    }
    try {
      this.#jwks = await listen(this.#jwksApp(), { host: this.#host, port: this.#jwksPort });
    } catch (error) {
      await this.#main.close();
      throw listenError('the JWKS', error);
    }
    this.#jwksPort = this.#jwks.port;
    const url = this.#main.url;
    this.#endpoints = {
      url,
      issuer: this.#configuredIssuer ?? url,
      tokenUrl: `${url}/oauth/token`,
      jwksUrl: `${this.#jwks.url}${JWKS_PATH}`,
      clientIdMetadataDocuments: this.#clientIdMetadataDocuments,
      ...(this.#registration ? { registrationBase: (this.#configuredIssuer ?? url).replace(/\/+$/, '') } : {}),
    };
  }

  async mint(kind: TokenKind, options?: MintOptions): Promise<string> {
    const minted = await this.#mint(kind, options);
    this.log.write('token.issued', { via: 'mint', kind, kid: minted.kid ?? null, aud: minted.claims?.aud ?? null });
    return minted.token;
  }

  async addKey(): Promise<string> {
    const { kid } = await this.#keys.add();
    this.log.write('key.added', { kid, kids: this.#keys.kids() });
    return kid;
  }

  retireKey(kid: string): void {
    this.#keys.retire(kid);
    this.log.write('key.retired', { kid, kids: this.#keys.kids() });
  }

  kids(): string[] {
    return this.#keys.kids();
  }

  setJwksFault(fault: JwksFault | null): Promise<void> {
    const parsed = JwksFaultSchema.nullable().safeParse(fault);
    if (!parsed.success) {
      return Promise.reject(
        new AuthServerError('ERR_AUTH_SERVER_JWKS_FAULT', `unknown JWKS fault ${JSON.stringify(fault)}; one of: null, ${JwksFaultSchema.options.join(', ')}`),
      );
    }
    // Serialized: a fault set while the JWKS listener is re-opening must see the new listener.
    const change = () => this.#applyFault(parsed.data);
    this.#faultChange = this.#faultChange.then(change, change);
    return this.#faultChange;
  }

  state(): Record<string, unknown> {
    return {
      issuer: this.issuer,
      url: this.url,
      jwksUrl: this.jwksUrl,
      tokenUrl: this.tokenUrl,
      kids: this.kids(),
      jwksFault: this.#fault,
      jwksRequests: this.#jwksRequests,
    };
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#closed = true;
      await this.#faultChange.catch(() => undefined);
      for (const cancel of this.#slowTimers) cancel();
      this.#slowTimers.clear();
      await Promise.all([this.#main?.close(), this.#jwks?.close()]);
    })();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #mint(kind: TokenKind, options: MintOptions | undefined): Promise<Minted> {
    return mintToken(kind, options, { issuer: this.issuer, clock: this.#clock, ttlSeconds: this.#ttlSeconds, keys: this.#keys });
  }

  async #applyFault(fault: JwksFault | null): Promise<void> {
    if (this.#closed) throw new AuthServerError('ERR_AUTH_SERVER_CLOSED', 'the auth server is closed');
    const previous = this.#fault;
    if (fault === 'connection-refused') {
      this.#fault = fault;
      const jwks = this.#jwks;
      this.#jwks = undefined;
      await jwks?.close();
    } else {
      if (!this.#jwks) {
        try {
          this.#jwks = await listen(this.#jwksApp(), { host: this.#host, port: this.#jwksPort });
        } catch (error) {
          throw listenError(`the JWKS again on port ${this.#jwksPort}`, error);
        }
      }
      this.#fault = fault;
    }
    this.log.write('jwks.fault_set', { fault, previous });
  }

  #serveJwks(listener: 'main' | 'jwks', req: Request, res: Response): void {
    this.#jwksRequests += 1;
    const fault = this.#fault;
    if (fault === null) {
      this.#sendKeys(listener, res);
      return;
    }
    this.log.write('jwks.fault_answered', { listener, fault });
    switch (fault) {
      case 'http-500':
        res.status(500).json({ error: 'server_error', error_description: 'JWKS fault http-500 (auth-server mock)' });
        return;
      case 'invalid-json':
        res.status(200).type('application/json').send('{"keys": [{"kty": "RSA", "kid": ');
        return;
      case 'empty-keyset':
        res.status(200).json({ keys: [] });
        return;
      case 'connection-refused':
        // Only the main listener's copy of the JWKS gets here (the dedicated one is closed):
        // a connection can't be refused once accepted, so it is dropped instead.
        req.socket.destroy();
        return;
      case 'slow': {
        const cancel = delayed(this.#clock, this.#slowMs, () => {
          this.#slowTimers.delete(cancel);
          this.#sendKeys(listener, res, this.#slowMs);
        });
        this.#slowTimers.add(cancel);
        res.once('close', () => {
          cancel();
          this.#slowTimers.delete(cancel);
        });
        return;
      }
    }
  }

  #sendKeys(listener: 'main' | 'jwks', res: Response, delayedMs?: number): void {
    const jwks = this.#keys.jwks();
    this.log.write('jwks.served', { listener, kids: jwks.keys.map((key) => key.kid), ...(delayedMs === undefined ? {} : { delayed_ms: delayedMs }) });
    res.status(200).json(jwks);
    this.#jwksAnswers += 1;
    if (this.#jwksAnswers === this.#rotateAfter) {
      const published = this.#keys.publish();
      if (published) this.log.write('key.rotated', { kid: published.kid, kids: this.#keys.kids(), after_jwks_answers: this.#jwksAnswers });
    }
  }

  #errorHandler = (error: unknown, _req: Request, res: Response, _next: NextFunction): void => {
    const message = error instanceof Error ? error.message : String(error);
    this.log.write('server.error', { message });
    if (!res.headersSent) res.status(500).json({ error: 'server_error', error_description: message });
  };

  #jwksApp(): express.Express {
    const app = express();
    app.disable('x-powered-by');
    // No keep-alive here: a client must not reuse a socket across a connection-refused
    // fault (it would see "other side closed", not ECONNREFUSED), so each fetch connects anew.
    app.use((_req, res, next) => {
      res.set('Connection', 'close');
      next();
    });
    app.get(JWKS_PATH, (req, res) => this.#serveJwks('jwks', req, res));
    app.use(notFound);
    app.use(this.#errorHandler);
    return app;
  }

  /** RFC 7591 section 3.2.1: echo the client's metadata with a fresh client_id (a public client: no secret). */
  #register(req: Request, res: Response): void {
    const body: unknown = req.body;
    const metadata = body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined;
    const redirects = metadata?.redirect_uris;
    if (!metadata || (redirects !== undefined && (!Array.isArray(redirects) || !redirects.every((uri) => typeof uri === 'string')))) {
      res.status(400).json({ error: 'invalid_client_metadata', error_description: 'expected a JSON object whose redirect_uris is a list of URIs' });
      return;
    }
    const clientId = `registered-${++this.#registered}`;
    this.log.write('client.registered', { clientId, clientName: typeof metadata.client_name === 'string' ? metadata.client_name : null });
    res.status(201).json({
      ...metadata,
      client_id: clientId,
      client_id_issued_at: Math.floor(this.#clock.now() / 1000),
      token_endpoint_auth_method: 'none',
    });
  }

  #mainApp(): express.Express {
    const app = express();
    app.disable('x-powered-by');
    app.get('/.well-known/oauth-authorization-server', (_req, res) => {
      res.json(oauthAuthorizationServerMetadata(this.#endpoints));
    });
    app.get('/.well-known/openid-configuration', (_req, res) => {
      res.json(openIdConfiguration(this.#endpoints));
    });
    app.get(JWKS_PATH, (req, res) => this.#serveJwks('main', req, res));
    app.use(this.#codes.router());
    if (this.#registration) app.post('/oauth/register', express.json(), (req, res) => this.#register(req, res));
    app.use(
      tokenEndpoint({
        authorizationCodes: this.#codes,
        clients: this.#clients,
        ttlSeconds: this.#ttlSeconds,
        issue: (options) => this.#mint('valid', options),
        log: this.log,
      }),
    );
    app.use('/admin', adminApi(this));
    app.use(notFound);
    app.use(this.#errorHandler);
    return app;
  }
}

/**
 * Starts the mock OAuth authorization server: two loopback listeners (main + dedicated JWKS).
 *
 * @example
 * await using auth = await startAuthServer({ clock });
 * const token = await auth.mint('valid');
 * await auth.setJwksFault('connection-refused');
 */
export async function startAuthServer(options: AuthServerOptions = {}): Promise<StartedAuthServer> {
  const parsed = AuthServerOptionsSchema.safeParse(options);
  if (!parsed.success) throw new AuthServerError('ERR_AUTH_SERVER_OPTIONS', `bad auth server options: ${z.prettifyError(parsed.error)}`);
  const keys = await KeyRing.create(parsed.data.keys);
  if (parsed.data.rotateKeyAfterJwks !== undefined) await keys.addUnpublished();
  const server = new AuthServer(parsed.data, keys);
  await server.start();
  return server;
}
