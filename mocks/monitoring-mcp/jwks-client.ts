import { importJWK } from 'jose';
import type { CryptoKey, JWK } from 'jose';
import { systemClock, timeoutSignal } from '../../common/index.ts';
import type { Clock, Fetch, ServiceLog } from '../../common/index.ts';
import { describeNetworkError, networkErrorCode } from '../shared/index.ts';
import { MonitoringMcpError } from './errors.ts';
import { DEFAULT_PYJWT_VERSION, describePyJwtBehaviour, pyJwtBehaviour } from './pyjwt-versions.ts';
import type { PyJwtBehaviour, PyJwtVersion } from './pyjwt-versions.ts';

export interface JwksClientOptions {
  /** The JWKS endpoint (MCP_JWKS_URL). */
  url: string;
  /** Outbound fetch; in the harness it goes through the node's network shim. */
  fetch?: Fetch;
  /** Time source of the cache lifespan, the unknown-kid cooldown and the request timeout. */
  clock?: Clock;
  /** The PyJWT release to behave as (see pyjwt-versions.ts); default the current one. */
  pyjwtVersion?: PyJwtVersion;
  /** PyJWKClient `lifespan`: seconds a fetched JWK set is served from cache. Default the version's (300); must be > 0. */
  lifespanSeconds?: number;
  /** Whole-request timeout in ms (PyJWKClient's `timeout`). Default the version's (30 s). */
  timeoutMs?: number;
  /** Where `jwks.fetched` / `jwks.fetch_failed` entries go. */
  log?: ServiceLog;
}

/** A usable signing key of the JWK set (PyJWK with `use` sig or absent, and a `kid`). */
export interface JwksSigningKey {
  readonly kid: string;
  readonly jwk: JWK;
  readonly key: CryptoKey | Uint8Array;
}

/** Why a fetch happened, for the log: nothing cached, cache past its lifespan, or the unknown-kid refetch. */
type FetchReason = 'cold' | 'expired' | 'refresh';

interface UsableKey {
  readonly kid: string | undefined;
  readonly use: unknown;
  readonly jwk: JWK;
  readonly key: CryptoKey | Uint8Array;
}


// PyJWK infers the algorithm from kty (and crv) when the JWK has no `alg`.
function inferAlgorithm(jwk: Record<string, unknown>): string | undefined {
  switch (jwk.kty) {
    case 'RSA':
      return 'RS256';
    case 'EC':
      return jwk.crv === 'P-384' ? 'ES384' : jwk.crv === 'P-521' ? 'ES512' : jwk.crv === 'secp256k1' ? 'ES256K' : 'ES256';
    case 'oct':
      return 'HS256';
    case 'OKP':
      return 'EdDSA';
    default:
      return undefined;
  }
}

// Python truthiness of a JSON value, for `if not keys`.
function pyFalsy(value: unknown): boolean {
  if (value === undefined || value === null || value === false || value === 0 || value === '') return true;
  if (Array.isArray(value)) return value.length === 0;
  return typeof value === 'object' && Object.keys(value).length === 0;
}

function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}


/**
 * PyJWT's `PyJWKClient` (jwt/jwks_client.py, with `JWKSetCache`), call for call, as the release
 * `pyjwtVersion` has it (the behaviours are rows of pyjwt-versions.ts, not branches here):
 * - the fetched JSON is cached as is for `lifespanSeconds` (expired when now > fetched + lifespan);
 * - `getSigningKey(kid)` looks in the cached set; on no match it refetches once (2.12, 2.13: every
 *   miss; from 2.14: only when `cooldown_duration` has passed since the last fetch, else it fails
 *   at once) and then fails with ERR_JWKS_NO_MATCHING_KEY;
 * - a fetch that fails (connection, HTTP error status, timeout, body not JSON) clears the cache in
 *   2.12 (`finally: put(None)`) and keeps it from 2.13 on (an expired set is still never served);
 *   a body that is JSON but not a usable key set (e.g. `{"keys":[]}`) IS cached, so it keeps
 *   failing from cache until the lifespan ends;
 * - a 3xx answer is followed up to 2.13 and is a fetch failure from 2.14 on.
 *
 * @example
 * const jwks = new JwksClient({ url: auth.jwksUrl, clock, pyjwtVersion: '2.12', timeoutMs: 200 });
 * const { key } = await jwks.getSigningKey(kid);
 */
export class JwksClient {
  readonly url: string;
  readonly #fetch: Fetch;
  readonly #clock: Clock;
  readonly #lifespanMs: number;
  readonly #timeoutMs: number;
  readonly #log: ServiceLog | undefined;
  readonly #behaviour: PyJwtBehaviour;
  #cache: { data: unknown; fetchedAt: number } | undefined;
  /** When the last fetch started (success or not): the reference of the unknown-kid cooldown. */
  #lastFetchAt: number | undefined;
  readonly #parsed = new WeakMap<object, Promise<UsableKey[]>>();

  constructor(options: JwksClientOptions) {
    const behaviour = pyJwtBehaviour(options.pyjwtVersion ?? DEFAULT_PYJWT_VERSION);
    const lifespan = options.lifespanSeconds ?? behaviour.lifespanSeconds;
    if (!(lifespan > 0)) {
      throw new MonitoringMcpError('ERR_MONITORING_MCP_OPTIONS', `Lifespan must be greater than 0, the input is "${lifespan}"`);
    }
    const timeoutMs = options.timeoutMs ?? behaviour.timeoutSeconds * 1000;
    if (!(timeoutMs > 0)) throw new MonitoringMcpError('ERR_MONITORING_MCP_OPTIONS', `JWKS timeout must be greater than 0 ms, got ${timeoutMs}`);
    try {
      new URL(options.url);
    } catch {
      throw new MonitoringMcpError('ERR_MONITORING_MCP_OPTIONS', `JWKS URL is not a URL: ${JSON.stringify(options.url)}`);
    }
    this.url = options.url;
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#clock = options.clock ?? systemClock;
    this.#lifespanMs = lifespan * 1000;
    this.#timeoutMs = timeoutMs;
    this.#log = options.log;
    this.#behaviour = behaviour;
  }

  /** The JWKS request timeout in ms. */
  get timeoutMs(): number {
    return this.#timeoutMs;
  }

  /** The PyJWT release this client behaves as, and what that release does. */
  get behaviour(): PyJwtBehaviour {
    return this.#behaviour;
  }

  /** The cached JWKS document while it is within its lifespan, else undefined (JWKSetCache.get). */
  get cachedJwkSet(): unknown {
    if (!this.#cache || this.#expired()) return undefined;
    return this.#cache.data;
  }

  #expired(): boolean {
    return this.#cache !== undefined && this.#clock.now() > this.#cache.fetchedAt + this.#lifespanMs;
  }

  // JWKSetCache.put: None clears.
  #put(data: unknown): void {
    this.#cache = data === null || data === undefined ? undefined : { data, fetchedAt: this.#clock.now() };
  }

  /** PyJWKClient.fetch_data: GET the JWKS, cache what came back (on failure, clear the cache or keep it, by version). */
  async fetchData(reason: FetchReason = 'refresh'): Promise<unknown> {
    let data: unknown = null;
    this.#lastFetchAt = this.#clock.now();
    try {
      let response: Response;
      let body: string;
      try {
        response = await this.#fetch(this.url, {
          headers: { accept: 'application/json' },
          // From 2.14 PyJWT's opener refuses redirects: the 3xx itself is the answer, an HTTP error below.
          redirect: this.#behaviour.followsRedirects ? 'follow' : 'manual',
          signal: timeoutSignal(this.#clock, this.#timeoutMs),
        });
        if (!response.ok) {
          await response.body?.cancel();
          throw new MonitoringMcpError(
            'ERR_JWKS_UNREACHABLE',
            `Fail to fetch data from the url, err: "HTTP Error ${response.status}: ${response.statusText}"`,
            { url: this.url, networkCode: `HTTP_${response.status}` },
          );
        }
        body = await response.text();
      } catch (error) {
        if (error instanceof MonitoringMcpError) throw error;
        throw new MonitoringMcpError('ERR_JWKS_UNREACHABLE', `Fail to fetch data from the url, err: "${describeNetworkError(error)}"`, {
          url: this.url,
          networkCode: networkErrorCode(error),
          cause: error,
        });
      }
      try {
        data = JSON.parse(body);
      } catch (error) {
        throw new MonitoringMcpError('ERR_JWKS_INVALID_JSON', `JWKS body is not JSON: ${(error as Error).message}`, { url: this.url, cause: error });
      }
      this.#log?.write('jwks.fetched', { url: this.url, reason, status: response.status, kids: this.#kidsOf(data) });
      return data;
    } catch (error) {
      const failure = error as MonitoringMcpError;
      this.#log?.write('jwks.fetch_failed', {
        url: this.url,
        reason,
        code: failure.code,
        errorCode: failure.networkCode,
        detail: failure.message,
        cache: this.#behaviour.onFetchFailure === 'clear-cache' ? 'cleared' : 'kept',
        pyjwt: this.#behaviour.version,
      });
      throw error;
    } finally {
      if (data !== null || this.#behaviour.onFetchFailure === 'clear-cache') this.#put(data);
    }
  }

  #kidsOf(data: unknown): unknown[] {
    return isJsonObject(data) && Array.isArray(data.keys) ? data.keys.map((k: unknown) => (isJsonObject(k) ? k.kid : undefined)) : [];
  }

  /** PyJWKClient.get_jwk_set: the usable keys of the (cached unless `refresh`) JWK set. */
  async getJwkSet(refresh = false): Promise<UsableKey[]> {
    let data: unknown;
    let reason: FetchReason = 'refresh';
    if (!refresh) {
      reason = this.#cache === undefined ? 'cold' : 'expired';
      data = this.cachedJwkSet;
    }
    if (data === undefined) data = await this.fetchData(reason);
    if (!isJsonObject(data)) {
      throw new MonitoringMcpError('ERR_JWKS_NOT_AN_OBJECT', 'The JWKS endpoint did not return a JSON object', { url: this.url });
    }
    let parsed = this.#parsed.get(data);
    if (!parsed) {
      parsed = this.#parseSet(data);
      this.#parsed.set(data, parsed);
    }
    return parsed;
  }

  // PyJWKSet.from_dict: unusable keys are skipped; none left is an error.
  async #parseSet(data: Record<string, unknown>): Promise<UsableKey[]> {
    const keys = data.keys;
    if (pyFalsy(keys)) throw new MonitoringMcpError('ERR_JWKS_NO_KEYS', 'The JWK Set did not contain any keys', { url: this.url });
    if (!Array.isArray(keys)) throw new MonitoringMcpError('ERR_JWKS_NO_KEYS', 'Invalid JWK Set value', { url: this.url });
    const usable: UsableKey[] = [];
    for (const jwk of keys) {
      if (!isJsonObject(jwk) || pyFalsy(jwk.kty)) continue;
      const alg = typeof jwk.alg === 'string' ? jwk.alg : inferAlgorithm(jwk);
      if (!alg) continue;
      try {
        const key = await importJWK(jwk as JWK, alg);
        usable.push({ kid: typeof jwk.kid === 'string' ? jwk.kid : undefined, use: jwk.use ?? null, jwk: jwk as JWK, key });
      } catch {
        // skip unusable keys, as PyJWKSet does
      }
    }
    if (usable.length === 0) throw new MonitoringMcpError('ERR_JWKS_NO_KEYS', 'The JWK Set did not contain any usable keys', { url: this.url });
    return usable;
  }

  /** PyJWKClient.get_signing_keys: keys with `use` sig (or none) and a kid. */
  async getSigningKeys(refresh = false): Promise<JwksSigningKey[]> {
    const keys = await this.getJwkSet(refresh);
    const signing = keys
      .filter((k): k is UsableKey & { kid: string } => (k.use === 'sig' || k.use === null) && Boolean(k.kid))
      .map(({ kid, jwk, key }) => ({ kid, jwk, key }));
    if (signing.length === 0) {
      throw new MonitoringMcpError('ERR_JWKS_NO_SIGNING_KEYS', 'The JWKS endpoint did not contain any signing keys', { url: this.url });
    }
    return signing;
  }

  /**
   * PyJWKClient.get_signing_key: the key with this kid, refetching the set once when the cached
   * one has none and the version allows a refetch now.
   */
  async getSigningKey(kid: string | undefined): Promise<JwksSigningKey> {
    let key = (await this.getSigningKeys()).find((k) => k.kid === kid);
    if (!key) {
      const notMatched = `Unable to find a signing key that matches: "${kid ?? 'None'}"`;
      const held = this.#cooldownLeftMs();
      if (held !== undefined) {
        const since = this.#clock.now() - (this.#lastFetchAt ?? 0);
        this.#log?.write('jwks.refetch_skipped', { url: this.url, kid: kid ?? null, pyjwt: this.#behaviour.version, since_last_fetch_ms: since, cooldown_left_ms: held });
        throw new MonitoringMcpError(
          'ERR_JWKS_NO_MATCHING_KEY',
          `${notMatched} (not refetched: ${describePyJwtBehaviour(this.#behaviour, 'unknown-kid')}; the last was ${(since / 1000).toFixed(1)} s ago)`,
          { url: this.url },
        );
      }
      key = (await this.getSigningKeys(true)).find((k) => k.kid === kid);
      if (!key) throw new MonitoringMcpError('ERR_JWKS_NO_MATCHING_KEY', notMatched, { url: this.url });
    }
    return key;
  }

  // ms until the unknown-kid refetch is allowed again; undefined when it is allowed now.
  #cooldownLeftMs(): number | undefined {
    const rule = this.#behaviour.unknownKidRefetch;
    if (rule.kind === 'always' || this.#lastFetchAt === undefined) return undefined;
    const left = this.#lastFetchAt + rule.cooldownSeconds * 1000 - this.#clock.now();
    return left > 0 ? left : undefined;
  }
}
