/**
 * Stands in for `scripts/commands/bench.ts` in the bundle: the benchmarks build the Lambda
 * packages with serverless and load test fakes, so they only run from a checkout.
 */

import { IrsaError } from '#core/errors.ts';
import type { Register } from '../lib/cli-support.ts';
import { runCommand } from '../lib/cli-support.ts';

export const register: Register = (program, io, setExit) => {
  program
    .command('bench')
    .description(
      'Measure the signer (warm CPU per call, KMS-shaped load), the kms backend, CLI start, Lambda bundles and steady-state AWS requests against their floors and targets (run from the repository; see docs/benchmarks.md).',
    )
    .allowUnknownOption()
    .allowExcessArguments()
    .action(async () => {
      setExit(
        await runCommand(io, async () => {
          throw new IrsaError(
            'BENCH_NEEDS_CHECKOUT',
            'bench is not part of the installed CLI: it builds the Lambda packages from the sources.',
            'Run it from a git checkout of irsa-anywhere: npm ci && npm run bench.',
          );
        }),
      );
    });
};
