/**
 * `irsa-anywhere`: the operator CLI. This file only wires commands; each lives in
 * `scripts/commands/<name>.ts` and exports `register(program, io)`.
 */
import { Command, CommanderError } from 'commander';
import { type Io, processIo } from './lib/cli-support.ts';

/** A command module: adds its subcommand to the program. */
export type Register = (program: Command, io: Io, setExit: (code: number) => void) => void;

const COMMANDS: Array<() => Promise<{ register: Register }>> = [
  // Each line is one command module; keep them in this order in `--help`.
  () => import('./commands/local.ts'),
  () => import('./commands/token.ts'),
  () => import('./commands/verify.ts'),
  () => import('./commands/trust-policy.ts'),
  () => import('./commands/rotate.ts'),
  () => import('./commands/status.ts'),
  () => import('./commands/webhook.ts'),
  () => import('./commands/doctor.ts'),
  () => import('./commands/signer.ts'),
  () => import('./commands/apiserver.ts'),
  () => import('./commands/key-sync.ts'),
  () => import('./commands/simulate.ts'),
  () => import('./commands/bench.ts'),
];

/** Builds the program with every command registered. Exported for tests. */
export async function buildProgram(io: Io, setExit: (code: number) => void): Promise<Command> {
  const program = new Command('irsa-anywhere')
    .description('IAM Roles for Service Accounts for any Kubernetes cluster.')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
  for (const load of COMMANDS) {
    const { register } = await load();
    register(program, io, setExit);
  }
  return program;
}

/** Runs the CLI with `argv` (as in `process.argv`) and returns the exit code. */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  let exitCode = 0;
  const program = await buildProgram(io, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    throw error;
  }
}
