/** `irsa-anywhere bench` (`npm run bench`): the benchmarks, as a table or as one JSON object. */
import { fileURLToPath } from 'node:url';
import { renderReport } from '../lib/bench/report.ts';
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
      'Measure bundle sizes and import times, verification, the signer, steady-state AWS calls and the planner against their baselines and targets (run from the repository).',
    )
    .addOption(jsonOption('print only the report as one JSON object on stdout (progress goes to stderr)'))
    .option('--rounds <n>', 'rounds per figure (each figure is the median)', String(DEFAULT_ROUNDS))
    .option('--round-ms <ms>', 'length of one timed throughput round', String(DEFAULT_ROUND_MS))
    .action(async (flags: BenchFlags) => {
      setExit(
        await runCommand(
          io,
          async () => {
            const report = await runBenchmarks({
              root: REPO_ROOT,
              rounds: parseIntFlag('--rounds', flags.rounds, 3, 51),
              roundMs: parseIntFlag('--round-ms', flags.roundMs, 50, 5_000),
              progress: (message) => io.err(`bench: ${message}`),
            });
            io.out(flags.json ? JSON.stringify(report, null, 2) : renderReport(report));
          },
          { json: flags.json },
        ),
      );
    });
};
