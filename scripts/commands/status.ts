/** `irsa-anywhere status`: the keys, their states and ages, and the next transition (local mode). */

import { composeLocal } from '#adapters/local/compose-local.ts';
import { assertLocalDir, readLocalConfig } from '#adapters/local/local-config.ts';
import { formatError, IrsaError } from '#core/errors.ts';
import type { Keyset } from '#core/keyset.ts';
import { assertNoFutureTimes } from '#core/keyset-clock.ts';
import { jsonOption, regionOption, stackOption } from '../lib/cli-options.ts';
import { EXIT, ExitCode, parseTimeFlag, printJson, type Register, runCommand } from '../lib/cli-support.ts';
import { formatAge, keysetStatus } from '../lib/key-status.ts';
import { missingKeyProblems, repairClockCommand } from '../lib/local-state.ts';

/** What is wrong with a local keyset that would stop it from signing or rotating. */
async function localProblems(dir: string, keyset: Keyset, now: Date): Promise<IrsaError[]> {
  const problems = await missingKeyProblems(dir, keyset);
  try {
    assertNoFutureTimes(keyset, now, repairClockCommand(dir));
  } catch (error) {
    if (!(error instanceof IrsaError)) throw error;
    problems.push(error);
  }
  return problems;
}

/** The flags of `status`. */
type StatusFlags = {
  dir: string;
  at?: string;
  json?: boolean;
  stack?: string;
  fleet?: string;
  region?: string;
};

export const register: Register = (program, io, setExit) => {
  program
    .command('status')
    .description('Show the keys, their states and ages, and the next transition.')
    .option('--dir <dir>', 'local issuer directory', '.irsa-anywhere')
    .option('--at <iso-time>', 'as if at this time')
    .addOption(jsonOption('print as JSON'))
    .addOption(stackOption('a deployed stack instead of the local directory (reads its outputs)'))
    .option('--fleet <name>', 'a fleet stack: its member clusters, active keys, last publish, alarms')
    .addOption(regionOption('AWS region of --stack or --fleet (default: AWS_REGION)'))
    .action(async (opts: StatusFlags) => {
      setExit(
        await runCommand(
          io,
          async () => {
            if (opts.fleet !== undefined) {
              const [stack, { cliAws }] = await Promise.all([
                import('../lib/stack/commands.ts'),
                import('../lib/aws-clients.ts'),
              ]);
              const at = opts.at === undefined ? new Date() : parseTimeFlag('--at', opts.at);
              const aws = cliAws(`fleet "${opts.fleet}"`, { flag: opts.region });
              const clients = stack.fleetClients(aws);
              await stack.statusFleetCommand(
                io,
                { fleet: opts.fleet, json: opts.json === true, now: at },
                clients,
              );
              return;
            }
            if (opts.stack !== undefined) {
              // Loaded here: the AWS SDK is not needed for the local directory (or for --help).
              const [{ stackClients, statusStackCommand }, { cliAws }] = await Promise.all([
                import('../lib/stack/commands.ts'),
                import('../lib/aws-clients.ts'),
              ]);
              const at = opts.at === undefined ? new Date() : parseTimeFlag('--at', opts.at);
              const options = { stack: opts.stack, json: opts.json === true, now: at };
              const aws = cliAws(`stack "${opts.stack}"`, { flag: opts.region });
              await statusStackCommand(io, options, stackClients(aws));
              return;
            }
            await assertLocalDir(opts.dir);
            const { policy } = await readLocalConfig(opts.dir);
            const current = await composeLocal(opts.dir).store.read();
            const now = opts.at === undefined ? new Date() : parseTimeFlag('--at', opts.at);
            if (current === null) return;
            // Problems are judged on the real clock even when --at asks "what will it look like then".
            const problems = await localProblems(opts.dir, current.keyset, new Date());
            const status = keysetStatus(current.keyset, policy, now);
            if (opts.json) {
              printJson(io, {
                ...status,
                problems: problems.map((p) => ({ code: p.code, message: p.message, fix: p.fix })),
              });
              if (problems.length > 0) throw new ExitCode(EXIT.failed);
              return;
            }
            io.out(`issuer: ${status.issuer}`);
            io.out(`${'KID'.padEnd(44)}  ${'ALG'.padEnd(5)}  ${'STATE'.padEnd(8)}  AGE`);
            for (const key of status.keys) {
              io.out(
                `${key.kid.padEnd(44)}  ${key.alg.padEnd(5)}  ${(key.state + (key.revoked ? '!' : '')).padEnd(8)}  ${formatAge(key.ageSeconds)}`,
              );
            }
            io.out(`last publish: ${status.lastPublish?.at ?? 'never'}`);
            io.out(
              `next: ${status.nextTransition === null ? 'nothing scheduled' : `${status.nextTransition.description} at ${status.nextTransition.at}`}`,
            );
            for (const problem of problems) io.err(`error ${formatError(problem)}`);
            if (problems.length > 0) throw new ExitCode(EXIT.failed);
          },
          { json: opts.json },
        ),
      );
    });
};
