import { defineConfig } from 'vitest/config';

// End-to-end tests: the real expt binary, filled by the Python SDK, driven in
// Debian's Chromium by playwright-core. One file at a time, since they share
// one server started in globalSetup.
export default defineConfig({
  test: {
    include: ['e2e/**/*.e2e.ts'],
    environment: 'node',
    globalSetup: ['e2e/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
