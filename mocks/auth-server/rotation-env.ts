import { AuthServerError } from './errors.ts';

/** The auth server's environment variable for a rotation under way (see `rotateKeyAfterJwks`). */
export const ROTATE_KEY_AFTER_JWKS_ENV = 'ROTATE_KEY_AFTER_JWKS';

/**
 * ROTATE_KEY_AFTER_JWKS as `startAuthServer`'s `rotateKeyAfterJwks`: unset or empty is no rotation;
 * anything but a positive integer is ERR_AUTH_SERVER_OPTIONS naming the variable. Shared by main.ts
 * and the in-process runtime, so both read a scenario's env alike.
 *
 * @example
 * rotateKeyAfterJwksFromEnv({ ROTATE_KEY_AFTER_JWKS: '1' }); // 1
 */
export function rotateKeyAfterJwksFromEnv(env: Record<string, string | undefined>): number | undefined {
  const raw = env[ROTATE_KEY_AFTER_JWKS_ENV];
  if (raw === undefined || raw.trim() === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    throw new AuthServerError(
      'ERR_AUTH_SERVER_OPTIONS',
      `${ROTATE_KEY_AFTER_JWKS_ENV} must be a positive integer (JWKS answers before the new signing key is published), got ${JSON.stringify(raw)}`,
    );
  }
  return value;
}
