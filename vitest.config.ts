import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['common/**/*.test.ts', 'harness/**/*.test.ts', 'mocks/**/*.test.ts', 'test/**/*.test.ts', 'docker/**/*.test.ts'],
    // Every node in its own container: their own run, after this one (npm run test:containers).
    exclude: ['test/containers/**', 'node_modules/**'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
