import { defineConfig } from 'vitest/config';

// The container suites (npm run test:containers), run by .ci/run after `npm test`: every node in
// its own container, so one file at a time (each brings several topologies up at once already).
export default defineConfig({
  test: {
    include: ['test/containers/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 120_000,
  },
});
