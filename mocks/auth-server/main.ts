/**
 * The auth-server mock as a process (a container's command). Environment: PORT, HOST,
 * ISSUER (optional; default the server's own URL), JWKS_PORT (optional; default any free port),
 * AUTH_REGISTRATION=1 (optional; offer dynamic client registration).
 */
import { jsonLinesSink, listenOptionsFromEnv, runMain } from '../shared/index.ts';
import { startAuthServer } from './index.ts';

await runMain('auth-server', () =>
  startAuthServer({
    ...listenOptionsFromEnv(),
    issuer: process.env.ISSUER || undefined,
    jwksPort: process.env.JWKS_PORT ? Number(process.env.JWKS_PORT) : undefined,
    registration: process.env.AUTH_REGISTRATION === '1',
    log: jsonLinesSink,
  }),
);
