/** `irsa-anywhere rotate`: run the rotation plan now (local mode), with the emergency options. */
import { assertLocalDir } from '#adapters/local/local-config.ts';
import { IrsaError } from '#core/errors.ts';
import { activeKey } from '#core/planner.ts';
import type { RotationReport } from '#core/rotation-run.ts';
import { dryRunOption, jsonOption, regionOption, stackOption } from '../lib/cli-options.ts';
import { type Io, parseTimeFlag, printJson, type Register, runCommand } from '../lib/cli-support.ts';
import { confirmDestructive } from '../lib/confirm.ts';
import { drillLocal } from '../lib/local-drill.ts';
import { repairLocalClock, rotateLocal } from '../lib/local-issuer.ts';
import { checkLocalState } from '../lib/local-state.ts';

interface RotateOptions {
  dir: string;
  now?: boolean;
  revoke?: string;
  at?: string;
  json?: boolean;
  dryRun?: boolean;
  yes?: boolean;
  repairClock?: boolean;
  stack?: string;
  region?: string;
}

export const register: Register = (program, io, setExit) => {
  program
    .command('rotate')
    .description('Apply the rotation plan: create, promote, retire and delete keys as due, then publish.')
    .option('--dir <dir>', 'local issuer directory', '.irsa-anywhere')
    .option(
      '--now',
      'emergency rotation: a new key signs at once; the old one stays published until retention ends',
    )
    .option(
      '--revoke <kid>',
      'remove a compromised key from the JWKS at once (tokens it signed stop verifying)',
    )
    .option('--at <iso-time>', 'drill: plan and print the steps as if at this time; writes nothing')
    .option('--yes', 'confirm --revoke of the active key (every token it signed stops verifying)')
    .option('--repair-clock', 'set every time in keyset.json that lies in the future to now')
    .addOption(dryRunOption('local: plan only, print the steps that are due and write nothing'))
    .addOption(jsonOption('print the steps as JSON'))
    .addOption(stackOption('a deployed stack: invoke its rotate function instead of rotating locally'))
    .addOption(regionOption('AWS region of --stack (default: AWS_REGION)'))
    .action(async (opts: RotateOptions) => {
      setExit(
        await runCommand(
          io,
          async () => {
            if (opts.now && opts.revoke !== undefined) {
              throw new IrsaError(
                'USAGE_CONFLICT',
                '--now and --revoke cannot be combined.',
                'Run rotate --revoke <kid> alone: it makes a new key active when it revokes the active one.',
              );
            }
            if (opts.dryRun === true && (opts.stack !== undefined || opts.repairClock === true)) {
              throw new IrsaError(
                'USAGE_CONFLICT',
                `--dry-run plans a local rotation; it cannot be combined with ${opts.stack !== undefined ? '--stack' : '--repair-clock'}.`,
                'Run `irsa-anywhere status --stack <name>` to see what is due on a stack, or drop --dry-run.',
              );
            }
            if (opts.stack !== undefined) {
              if (opts.at !== undefined) {
                throw new IrsaError(
                  'USAGE_CONFLICT',
                  '--at cannot be used with --stack.',
                  'The deployed function runs at the current time; drop --at.',
                );
              }
              if (opts.revoke !== undefined) {
                await confirmDestructive(
                  `Revoking ${opts.revoke} on ${opts.stack}: if it is the active key, every token it signed fails at once.`,
                  opts.yes === true,
                );
              }
              // Loaded here: the AWS SDK is not needed for the local directory (or for --help).
              const [{ rotateStackCommand, stackClients }, { cliAws }] = await Promise.all([
                import('../lib/stack/commands.ts'),
                import('../lib/aws-clients.ts'),
              ]);
              const options = { stack: opts.stack, now: opts.now === true, json: opts.json === true };
              await rotateStackCommand(
                io,
                opts.revoke === undefined ? options : { ...options, revoke: opts.revoke },
                stackClients(cliAws(`stack "${opts.stack}"`, { flag: opts.region })),
              );
              return;
            }
            await assertLocalDir(opts.dir);
            const realNow = new Date();
            if (opts.repairClock) {
              const repaired = await repairLocalClock(opts.dir, realNow);
              io.out(
                repaired.length === 0
                  ? 'no changes: no time lies in the future'
                  : `set to now: ${repaired.join('; ')}`,
              );
              return;
            }
            const request = opts.now
              ? { rotateNow: true }
              : opts.revoke !== undefined
                ? { revoke: opts.revoke }
                : undefined;
            // A dry run is the drill at the real time: plan only, nothing written.
            if (opts.at !== undefined || opts.dryRun === true) {
              const at = opts.at === undefined ? realNow : parseTimeFlag('--at', opts.at);
              printReport(io, await drillLocal(opts.dir, at, realNow, request), at, opts.json === true, true);
              return;
            }
            // --now and --revoke are the repairs for a lost key file, so only a plain run needs them all.
            const { current } = await checkLocalState(opts.dir, realNow, { keyFiles: request === undefined });
            const active = activeKey(current?.keyset ?? null);
            if (opts.revoke !== undefined && active?.kid === opts.revoke) {
              await confirmDestructive(
                `${opts.revoke} is the ACTIVE key: revoking it makes every token it signed fail at once.`,
                opts.yes === true,
              );
            }
            printReport(
              io,
              await rotateLocal(opts.dir, realNow, request),
              realNow,
              opts.json === true,
              false,
            );
          },
          { json: opts.json },
        ),
      );
    });
};

/** Prints the steps of a run (or a drill), and the key that signs afterwards. */
function printReport(io: Io, report: RotationReport, at: Date, json: boolean, drill: boolean): void {
  const signing = activeKey(report.keyset)?.kid ?? null;
  if (json) {
    printJson(io, {
      at: at.toISOString(),
      drill,
      steps: report.steps,
      wrote: drill ? false : report.wrote,
      published: drill ? false : report.published,
      activeKid: signing,
    });
    return;
  }
  if (drill) io.out(`drill at ${at.toISOString()}: nothing is written`);
  if (report.steps.length === 0) io.out('no changes: nothing is due');
  for (const step of report.steps)
    io.out(`${step.action.type}${step.kid === undefined ? '' : ` ${step.kid}`}`);
  if (report.steps.length > 0) io.out(`active key${drill ? ' would be' : ''}: ${signing ?? 'none'}`);
}
