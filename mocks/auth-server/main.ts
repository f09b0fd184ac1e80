/**
 * The auth-server mock as a process (a container's command). Environment: PORT, HOST,
 * ISSUER (optional; default the server's own URL), JWKS_PORT (optional; default any free port),
 * AUTH_REGISTRATION, AUTH_CLIENT_ID_METADATA_DOCUMENTS, ROTATE_KEY_AFTER_JWKS (see authServerOptionsFromEnv).
 */
import { listenOptionsFromEnv, runMain } from '../shared/index.ts';
import { authServerOptionsFromEnv, startAuthServer } from './index.ts';

await runMain('auth-server', (log) =>
  startAuthServer({
    ...listenOptionsFromEnv(),
    ...authServerOptionsFromEnv(process.env),
    log,
  }),
);
