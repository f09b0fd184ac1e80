/**
 * The auth-server mock as a process (a container's command). Environment: PORT, HOST,
 * ISSUER (optional; default the server's own URL), JWKS_PORT (optional; default any free port),
 * ROTATE_KEY_AFTER_JWKS (optional; see rotateKeyAfterJwksFromEnv), AUTH_REGISTRATION=1 (optional; offer
 * dynamic client registration).
 */
import { jsonLinesSink } from '../../common/index.ts';
import { listenOptionsFromEnv, runMain } from '../shared/index.ts';
import { rotateKeyAfterJwksFromEnv, startAuthServer } from './index.ts';

await runMain('auth-server', () =>
  startAuthServer({
    ...listenOptionsFromEnv(),
    issuer: process.env.ISSUER || undefined,
    jwksPort: process.env.JWKS_PORT ? Number(process.env.JWKS_PORT) : undefined,
    registration: process.env.AUTH_REGISTRATION === '1',
    rotateKeyAfterJwks: rotateKeyAfterJwksFromEnv(process.env),
    log: jsonLinesSink,
  }),
);
