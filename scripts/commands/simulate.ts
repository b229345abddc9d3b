/** `irsa-anywhere simulate`: years of rotation in seconds, with the figures that prove it safe. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jsonOption } from '../lib/cli-options.ts';
import { EXIT, ExitCode, parseIntFlag, printJson, type Register, runCommand } from '../lib/cli-support.ts';
import { runSimulation, type SimulationReport, violations } from '../lib/simulate/simulation.ts';

interface SimulateOptions {
  years: string;
  seed: string;
  json?: boolean;
  revoke?: boolean;
  fullRuns?: boolean;
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
    .addOption(jsonOption('print the report as JSON'))
    .action(async (opts: SimulateOptions) => {
      setExit(
        await runCommand(
          io,
          async () => {
            const years = parseIntFlag('--years', opts.years, 1, 50);
            const seed = parseIntFlag('--seed', opts.seed, 0, 4_294_967_295);
            const dir = await mkdtemp(join(tmpdir(), 'irsa-anywhere-simulate-'));
            let report: SimulationReport;
            try {
              report = await runSimulation({
                dir,
                seed,
                years,
                revoke: opts.revoke === true,
                fullRuns: opts.fullRuns === true,
              });
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
