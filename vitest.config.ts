import { statfsSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

/**
 * Temporary files on tmpfs when the machine has room there. The local adapters fsync every
 * atomic write (file and directory), as they must on a node; the simulations and fault suites make
 * thousands of them, and on a CI disk where fsync is slow one simulation test ran past 300 s that
 * takes 6 s here. On tmpfs the same code runs with fsync nearly free. Falls back to the OS default.
 */
function scratchDir(): string | undefined {
  try {
    const fs = statfsSync('/dev/shm');
    return fs.bavail * fs.bsize > 1024 ** 3 ? '/dev/shm' : undefined;
  } catch {
    return undefined;
  }
}

const tmp = process.env.IRSA_TEST_TMPDIR ?? scratchDir();

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
    env: tmp === undefined ? {} : { TMPDIR: tmp },
  },
});
