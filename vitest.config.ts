import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup/no-network.ts', 'test/setup/aws-matchers.ts', 'test/setup/sdk-banner.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Most of the suite waits on child processes (the CLI, serverless package, moto, cfn-lint):
    // two workers overlap those waits even on a 2-core machine, where vitest's default is one.
    maxWorkers: 2,
  },
});
