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

/**
 * The auth server's environment as `startAuthServer` options: ISSUER, JWKS_PORT,
 * AUTH_REGISTRATION=1 (offer dynamic client registration), AUTH_CLIENT_ID_METADATA_DOCUMENTS=0
 * (accept no Client ID Metadata Documents), ROTATE_KEY_AFTER_JWKS. Shared by main.ts and the
 * in-process runtime, so both read a scenario's env alike; listening options are apart.
 *
 * @example
 * authServerOptionsFromEnv({ AUTH_REGISTRATION: '1' }); // { registration: true, clientIdMetadataDocuments: true }
 */
export function authServerOptionsFromEnv(env: Record<string, string | undefined>): {
  issuer?: string;
  jwksPort?: number;
  registration: boolean;
  clientIdMetadataDocuments: boolean;
  rotateKeyAfterJwks?: number;
} {
  const rotateKeyAfterJwks = rotateKeyAfterJwksFromEnv(env);
  return {
    ...(env.ISSUER ? { issuer: env.ISSUER } : {}),
    ...(env.JWKS_PORT ? { jwksPort: Number(env.JWKS_PORT) } : {}),
    registration: env.AUTH_REGISTRATION === '1',
    clientIdMetadataDocuments: env.AUTH_CLIENT_ID_METADATA_DOCUMENTS !== '0',
    ...(rotateKeyAfterJwks === undefined ? {} : { rotateKeyAfterJwks }),
  };
}
