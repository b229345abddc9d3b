/** `irsa-anywhere simulate`: years of rotation in seconds, with the figures that prove it safe. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jsonOption } from '../lib/cli-options.ts';
import { EXIT, ExitCode, parseIntFlag, printJson, type Register, runCommand } from '../lib/cli-support.ts';
import { faultSuite, overlapOverSeeds } from '../lib/simulate/modes.ts';
import { runSimulation, type SimulationReport, violations } from '../lib/simulate/simulation.ts';
import { terminalFor, withProgress } from '../lib/terminal.ts';

interface SimulateOptions {
  years: string;
  seed: string;
  json?: boolean;
  revoke?: boolean;
  fullRuns?: boolean;
  overlap?: boolean;
  faults?: boolean;
  seeds: string;
  days: string;
}

/** `--seeds 1-20` (or one number). */
function parseSeeds(value: string): { from: number; to: number } {
  const [first = '', last = first] = value.split('-');
  const from = parseIntFlag('--seeds', first, 0, 4_294_967_295);
  const to = parseIntFlag('--seeds', last, from, from + 1000);
  return { from, to };
}

type Out = Parameters<Register>[1];

/** `--overlap`: overlapping runs over seeds; exit 1 when a stale or dropped key was published. */
async function overlap(io: Out, opts: SimulateOptions): Promise<void> {
  const { from, to } = parseSeeds(opts.seeds);
  const days = parseIntFlag('--days', opts.days, 1, 365);
  const summary = await withProgress(
    terminalFor(io).stderr,
    `simulating overlapping runs, seeds ${from}-${to}, ${days} days each`,
    () => overlapOverSeeds(from, to, days),
    { quiet: opts.json === true },
  );
  if (opts.json) printJson(io, summary);
  else {
    io.out(
      `seeds ${from}-${to}, ${days} days each: ${summary.runs} runs (${summary.overlappingRuns} overlapping, ${summary.slowRuns} slow, ${summary.diedRuns} died), ${summary.revokes} revokes, ${summary.rotateNows} rotate-now, ${summary.publishes} publishes (${summary.publishConflicts} refused as stale)`,
    );
    io.out(
      `stale revoked keys published ${summary.staleRevokedPublished}, pending or active keys dropped ${summary.pendingDropped}, final JWKS inconsistent ${summary.finalInconsistent}`,
    );
    for (const line of summary.examples) io.out(line);
  }
  if (summary.staleRevokedPublished + summary.pendingDropped + summary.finalInconsistent > 0)
    throw new ExitCode(EXIT.failed);
}

/** `--faults`: the fault injection suite; exit 1 on any violation or leftover. */
async function faults(io: Out, opts: SimulateOptions): Promise<void> {
  const { examples, ...summary } = await withProgress(
    terminalFor(io).stderr,
    'running the fault injection suite',
    () => faultSuite(),
    { quiet: opts.json === true },
  );
  if (opts.json) printJson(io, summary);
  else {
    io.out(
      `${summary.cases} fault cases: ${summary.violations} violations, ${summary.leftoverKeys} KMS keys and ${summary.leftoverObjects} wrapped objects left after one repair run; ${summary.persistentFailureKeysCreated} key(s) created over 48 hourly runs with every keyset write failing`,
    );
    for (const line of examples) io.out(line);
  }
  if (
    summary.violations + summary.leftoverKeys + summary.leftoverObjects > 0 ||
    summary.persistentFailureKeysCreated > 1
  )
    throw new ExitCode(EXIT.failed);
}

function summary(report: SimulationReport): string[] {
  const failed = Object.entries(violations(report)).filter(([, count]) => count > 0);
  return [
    `seed ${report.seed}, ${report.years} years: ${report.scheduledRuns} scheduled runs (${report.missedRuns} missed), ${report.keysCreated} keys created, ${report.publishes} publishes`,
    `tokens issued ${report.tokensIssued}, verifications ${report.verifications}, accepted ${report.accepted}`,
    `rejected valid ${report.rejectedValid}, accepted revoked ${report.acceptedRevoked}, rejected revoked ${report.rejectedRevoked}`,
    `most keys published ${report.maxKeysPublished}, oldest active key ${report.maxActiveKeyAgeHours.toFixed(1)} h`,
    ...(report.revoked === undefined
      ? []
      : [`revoked ${report.revoked.kid} at ${report.revoked.at} (${report.revoked.replacedBy})`]),
    failed.length === 0
      ? 'ok: every invariant held'
      : `FAILED: ${failed.map(([name, count]) => `${name} ${count}`).join(', ')}`,
    ...report.examples,
  ];
}

export const register: Register = (program, io, setExit) => {
  program
    .command('simulate')
    .description(
      'Simulate years of key rotation with a virtual clock: tokens issued, verified through JWKS caches, and the figures.',
    )
    .option('--years <n>', 'virtual years to simulate', '5')
    .option('--seed <n>', 'random seed (same seed, same run)', '1')
    .option('--revoke', 'revoke the active key once, at a random time')
    .option(
      '--full-runs',
      'call the rotation runner on every scheduled run, even when nothing is due (slower)',
    )
    .option(
      '--overlap',
      'overlapping runs instead: slow runs, deaths, operator revoke / rotate-now in between (docs/reliability.md)',
    )
    .option('--seeds <from-to>', 'seeds for --overlap', '1-20')
    .option('--days <n>', 'virtual days per seed for --overlap', '7')
    .option('--faults', 'the crash and fault injection suite instead (from a repository checkout)')
    .addOption(jsonOption('print the report as JSON'))
    .action(async (opts: SimulateOptions) => {
      setExit(
        await runCommand(
          io,
          async () => {
            // Checked in every mode: a bad value is an error even where the flag does not apply.
            parseIntFlag('--days', opts.days, 1, 365);
            parseSeeds(opts.seeds);
            if (opts.overlap === true) return overlap(io, opts);
            if (opts.faults === true) return faults(io, opts);
            const years = parseIntFlag('--years', opts.years, 1, 50);
            const seed = parseIntFlag('--seed', opts.seed, 0, 4_294_967_295);
            const dir = await mkdtemp(join(tmpdir(), 'irsa-anywhere-simulate-'));
            let report: SimulationReport;
            try {
              report = await withProgress(
                terminalFor(io).stderr,
                `simulating ${years} years of rotation (seed ${seed})`,
                () =>
                  runSimulation({
                    dir,
                    seed,
                    years,
                    revoke: opts.revoke === true,
                    fullRuns: opts.fullRuns === true,
                  }),
                { quiet: opts.json === true },
              );
            } finally {
              await rm(dir, { recursive: true, force: true });
            }
            if (opts.json) printJson(io, report);
            else for (const line of summary(report)) io.out(line);
            if (Object.values(violations(report)).some((count) => count > 0)) throw new ExitCode(EXIT.failed);
          },
          { json: opts.json },
        ),
      );
    });
};
