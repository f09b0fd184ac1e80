import { listenOptionsFromEnv, runMain } from '../shared/index.ts';
import { startPrometheus } from './server.ts';

// The mock Prometheus as a process (and a container's command): PORT, HOST, PROMETHEUS_FIXTURE.
await runMain('prometheus', (log) =>
  startPrometheus({
    ...listenOptionsFromEnv(),
    fixture: process.env.PROMETHEUS_FIXTURE || undefined,
    log,
  }),
);
