import * as z from 'zod';
import { MonitoringMcpError } from './errors.ts';

/**
 * The PyJWT releases whose `PyJWKClient` the JWKS client can behave as. Every release from 2.12 to
 * the current one is here because each of 2.13 and 2.14 changed a behaviour that decides verdicts.
 */
export const PYJWT_VERSIONS = ['2.12', '2.13', '2.14', '2.15'] as const;
export const PyJwtVersionSchema = z.enum(PYJWT_VERSIONS);
export type PyJwtVersion = z.infer<typeof PyJwtVersionSchema>;

/** The current release (2.15.1, September 2026): what monitoring-mcp gets from `pip install pyjwt` today. */
export const DEFAULT_PYJWT_VERSION: PyJwtVersion = '2.15';

/** The environment variable of monitoring-mcp that picks the version. */
export const PYJWT_VERSION_ENV = 'PYJWT_VERSION';

/** What a `kid` missing from a cached JWK set does: refetch the set every time, or only once the cooldown has passed. */
export type UnknownKidRefetch = { readonly kind: 'always' } | { readonly kind: 'after-cooldown'; readonly cooldownSeconds: number };

/** One release's `PyJWKClient` defaults and behaviours, as data; `JwksClient` reads nothing else. */
export interface PyJwtBehaviour {
  readonly version: PyJwtVersion;
  /** `lifespan` default: seconds a fetched set is served from cache (expired when now > fetched + lifespan). */
  readonly lifespanSeconds: number;
  /** `timeout` default: seconds one JWKS request may take. */
  readonly timeoutSeconds: number;
  /** `get_signing_key` on a kid the cached set lacks. */
  readonly unknownKidRefetch: UnknownKidRefetch;
  /** `fetch_data` on failure: clear the cached set (`finally: put(None)`) or keep it (an expired one is still never served). */
  readonly onFetchFailure: 'clear-cache' | 'keep-cache';
  /** Whether a 3xx answer of the JWKS URL is followed (urllib's default) or is a fetch failure. */
  readonly followsRedirects: boolean;
}

const LIFESPAN_SECONDS = 300;
const TIMEOUT_SECONDS = 30;
const COOLDOWN_SECONDS = 30;

// Each row cites its source in README.md ("PyJWT version of monitoring-mcp"). In short:
// 2.12.1 jwt/jwks_client.py: lifespan=300, timeout=30 (since 2.7.0, #875), one refresh per
// unknown kid (get_signing_key), `finally: put(jwk_set)` clears on failure, urlopen follows redirects.
// 2.13.0 CHANGELOG (GHSA-fhv5-28vv-h8m8): the cached set survives a failed fetch.
// 2.14.0 (GHSA-9v7f-9g4p-ffgj, CVE-2026-102267): redirects refused; `cooldown_duration` (30) added.
// 2.15.x: same PyJWKClient behaviours as 2.14 (2.15.0 caches the parsed PyJWKSet: internal).
const TABLE: Record<PyJwtVersion, Omit<PyJwtBehaviour, 'version'>> = {
  '2.12': {
    lifespanSeconds: LIFESPAN_SECONDS,
    timeoutSeconds: TIMEOUT_SECONDS,
    unknownKidRefetch: { kind: 'always' },
    onFetchFailure: 'clear-cache',
    followsRedirects: true,
  },
  '2.13': {
    lifespanSeconds: LIFESPAN_SECONDS,
    timeoutSeconds: TIMEOUT_SECONDS,
    unknownKidRefetch: { kind: 'always' },
    onFetchFailure: 'keep-cache',
    followsRedirects: true,
  },
  '2.14': {
    lifespanSeconds: LIFESPAN_SECONDS,
    timeoutSeconds: TIMEOUT_SECONDS,
    unknownKidRefetch: { kind: 'after-cooldown', cooldownSeconds: COOLDOWN_SECONDS },
    onFetchFailure: 'keep-cache',
    followsRedirects: false,
  },
  '2.15': {
    lifespanSeconds: LIFESPAN_SECONDS,
    timeoutSeconds: TIMEOUT_SECONDS,
    unknownKidRefetch: { kind: 'after-cooldown', cooldownSeconds: COOLDOWN_SECONDS },
    onFetchFailure: 'keep-cache',
    followsRedirects: false,
  },
};

/**
 * The behaviours of one PyJWT release's `PyJWKClient`.
 *
 * @example
 * pyJwtBehaviour('2.12').unknownKidRefetch; // { kind: 'always' }
 * pyJwtBehaviour('2.15').followsRedirects;  // false
 */
export function pyJwtBehaviour(version: PyJwtVersion = DEFAULT_PYJWT_VERSION): PyJwtBehaviour {
  const row = TABLE[version];
  if (!row) throw unknownVersion(version, 'pyjwtVersion');
  return { version, ...row };
}

/**
 * Reads a version as a scenario or the environment writes it (`"2.15"`, or the number 2.15 from
 * YAML); an unknown one is ERR_MONITORING_MCP_OPTIONS naming `field` and the known versions.
 *
 * @example
 * parsePyJwtVersion(process.env.PYJWT_VERSION, 'PYJWT_VERSION'); // '2.15' when unset
 */
export function parsePyJwtVersion(raw: unknown, field: string = PYJWT_VERSION_ENV): PyJwtVersion {
  if (raw === undefined || raw === '') return DEFAULT_PYJWT_VERSION;
  const parsed = PyJwtVersionSchema.safeParse(String(raw).trim());
  if (!parsed.success) throw unknownVersion(raw, field);
  return parsed.data;
}

/** The message of an unknown version, shared by the service and the scenario loader. */
export function unknownPyJwtVersionMessage(raw: unknown, field: string): string {
  return `${field} must be one of ${PYJWT_VERSIONS.join(', ')} (the PyJWT release monitoring-mcp runs; default ${DEFAULT_PYJWT_VERSION}), got ${JSON.stringify(raw)}`;
}

function unknownVersion(raw: unknown, field: string): MonitoringMcpError {
  return new MonitoringMcpError('ERR_MONITORING_MCP_OPTIONS', unknownPyJwtVersionMessage(raw, field));
}

/**
 * One line naming what `behaviour` does about `what`, for logs and `harness explain`.
 *
 * @example
 * describePyJwtBehaviour(pyJwtBehaviour('2.15'), 'unknown-kid');
 * // 'PyJWT 2.15: an unknown kid refetches the JWKS only when cooldown_duration (30 s) has passed since the last fetch'
 */
export function describePyJwtBehaviour(behaviour: PyJwtBehaviour, what: 'unknown-kid' | 'fetch-failure' | 'redirect'): string {
  const name = `PyJWT ${behaviour.version}`;
  switch (what) {
    case 'unknown-kid':
      return behaviour.unknownKidRefetch.kind === 'always'
        ? `${name}: every unknown kid refetches the JWKS once`
        : `${name}: an unknown kid refetches the JWKS only when cooldown_duration (${behaviour.unknownKidRefetch.cooldownSeconds} s) has passed since the last fetch`;
    case 'fetch-failure':
      return behaviour.onFetchFailure === 'clear-cache'
        ? `${name}: a failed JWKS fetch clears the cached set`
        : `${name}: a failed JWKS fetch keeps the cached set (never served once expired)`;
    case 'redirect':
      return behaviour.followsRedirects ? `${name}: the JWKS request follows redirects` : `${name}: the JWKS request does not follow redirects (a 3xx is a fetch failure)`;
  }
}
