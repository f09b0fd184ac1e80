import * as z from 'zod';

/**
 * How the JWKS endpoint misbehaves, set at run time:
 * - `http-500`: 500 with a JSON error body;
 * - `slow`: the real key set, after `slowMs` on the server's clock (a deliberate wait, cleared on close);
 * - `invalid-json`: 200 with a truncated JSON body;
 * - `empty-keyset`: 200 `{"keys":[]}`;
 * - `connection-refused`: the dedicated JWKS listener (`jwksUrl`) is closed, so connecting fails
 *   with ECONNREFUSED; clearing the fault re-listens on the same port.
 */
export const JWKS_FAULTS = ['http-500', 'slow', 'invalid-json', 'empty-keyset', 'connection-refused'] as const;

export const JwksFaultSchema = z.enum(JWKS_FAULTS);
export type JwksFault = z.infer<typeof JwksFaultSchema>;

/** Default delay of the `slow` fault: beyond a typical 2 s JWKS client timeout, under PyJWKClient's 30 s. */
export const DEFAULT_SLOW_MS = 3000;
