import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['harness/**/*.test.ts', 'mocks/**/*.test.ts', 'test/**/*.test.ts', 'docker/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
