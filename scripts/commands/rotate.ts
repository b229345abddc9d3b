/** `irsa-anywhere rotate`: run the rotation plan now (local mode), with the emergency options. */
import { assertLocalDir } from '#adapters/local/local-config.ts';
import { IrsaError } from '#core/errors.ts';
import { jsonOption, regionOption, stackOption } from '../lib/cli-options.ts';
import { parseTimeFlag, printJson, type Register, runCommand } from '../lib/cli-support.ts';
import { rotateLocal } from '../lib/local-issuer.ts';
import { rotateStackCommand, stackClients } from '../lib/stack/commands.ts';

interface RotateOptions {
  dir: string;
  now?: boolean;
  revoke?: string;
  at?: string;
  json?: boolean;
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
    .option('--at <iso-time>', 'run as if at this time (testing and drills)')
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
            if (opts.stack !== undefined) {
              if (opts.at !== undefined) {
                throw new IrsaError(
                  'USAGE_CONFLICT',
                  '--at cannot be used with --stack.',
                  'The deployed function runs at the current time; drop --at.',
                );
              }
              const options = { stack: opts.stack, now: opts.now === true, json: opts.json === true };
              await rotateStackCommand(
                io,
                opts.revoke === undefined ? options : { ...options, revoke: opts.revoke },
                stackClients(opts.region),
              );
              return;
            }
            await assertLocalDir(opts.dir);
            const now = opts.at === undefined ? new Date() : parseTimeFlag('--at', opts.at);
            const request = opts.now
              ? { rotateNow: true }
              : opts.revoke !== undefined
                ? { revoke: opts.revoke }
                : undefined;
            const report = await rotateLocal(opts.dir, now, request);
            if (opts.json) {
              printJson(io, {
                at: now.toISOString(),
                steps: report.steps,
                wrote: report.wrote,
                published: report.published,
              });
              return;
            }
            if (report.steps.length === 0) io.out('no changes: nothing is due');
            for (const step of report.steps)
              io.out(`${step.action.type}${step.kid === undefined ? '' : ` ${step.kid}`}`);
          },
          { json: opts.json },
        ),
      );
    });
};
