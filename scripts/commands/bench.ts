/** `irsa-anywhere bench` (`npm run bench`): the benchmarks, as a table or as one JSON object. */
import { fileURLToPath } from 'node:url';
import { renderReport } from '../lib/bench/render.ts';
import { DEFAULT_ROUND_MS, DEFAULT_ROUNDS, runBenchmarks } from '../lib/bench/run.ts';
import { jsonOption } from '../lib/cli-options.ts';
import { parseIntFlag, type Register, runCommand } from '../lib/cli-support.ts';

interface BenchFlags {
  json?: boolean;
  rounds: string;
  roundMs: string;
}

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export const register: Register = (program, io, setExit) => {
  program
    .command('bench')
    .description(
      'Measure the signer (warm CPU per call, KMS-shaped load), the kms backend, CLI start, Lambda bundles and steady-state AWS requests against their floors and targets (run from the repository; see docs/benchmarks.md).',
    )
    .addOption(jsonOption('print only the report as one JSON object on stdout (progress goes to stderr)'))
    .option(
      '--rounds <n>',
      'rounds of the server benchmarks (each figure is the median)',
      String(DEFAULT_ROUNDS),
    )
    .option(
      '--round-ms <ms>',
      'length of one server round (>= 2000 for the signer CPU figures)',
      String(DEFAULT_ROUND_MS),
    )
    .action(async (flags: BenchFlags) => {
      setExit(
        await runCommand(
          io,
          async () => {
            const report = await runBenchmarks({
              root: REPO_ROOT,
              rounds: parseIntFlag('--rounds', flags.rounds, 1, 51),
              roundMs: parseIntFlag('--round-ms', flags.roundMs, 100, 10_000),
              progress: (message) => io.err(`bench: ${message}`),
            });
            io.out(flags.json ? JSON.stringify(report, null, 2) : renderReport(report));
          },
          { json: flags.json },
        ),
      );
    });
};
