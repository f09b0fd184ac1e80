import { defineConfig } from 'vitest/config';

// The container suites (npm run test:containers), run by .ci/run after `npm test`: every node in
// its own container, so one file at a time (each brings several topologies up at once already).
// Every process's session is under one id of this run; the run fails if any of their containers
// or networks is left at the end (test/containers/leftovers.ts).
export default defineConfig({
  test: {
    include: ['test/containers/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 120_000,
    globalSetup: ['test/containers/leftovers.ts'],
    setupFiles: ['test/containers/process-session.ts'],
  },
});
