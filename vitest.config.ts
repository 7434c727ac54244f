import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Server, store and browser suites each own temp dirs and databases, so files may run in parallel.
    pool: 'forks',
    globalSetup: ['test/buildAddinOnce.ts'],
  },
});
