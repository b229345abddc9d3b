/**
 * `irsa-anywhere`: the operator CLI. This file only wires commands; each lives in
 * `scripts/commands/<name>.ts` and exports `register(program, io)`.
 */
import { Command, CommanderError } from 'commander';
import { type Io, processIo } from './lib/cli-support.ts';

/** A command module: adds its subcommand to the program. */
export type Register = (program: Command, io: Io, setExit: (code: number) => void) => void;

/**
 * Every command, by the name a user types, in `--help` order. Only the module of the command being
 * run is loaded, so `irsa-anywhere verify` does not pay for the gRPC or AWS SDK imports of others.
 */
const COMMANDS: Record<string, () => Promise<{ register: Register }>> = {
  local: () => import('./commands/local.ts'),
  token: () => import('./commands/token.ts'),
  verify: () => import('./commands/verify.ts'),
  'trust-policy': () => import('./commands/trust-policy.ts'),
  rotate: () => import('./commands/rotate.ts'),
  status: () => import('./commands/status.ts'),
  webhook: () => import('./commands/webhook.ts'),
  doctor: () => import('./commands/doctor.ts'),
  signer: () => import('./commands/signer.ts'),
  apiserver: () => import('./commands/apiserver.ts'),
  'key-sync': () => import('./commands/key-sync.ts'),
  simulate: () => import('./commands/simulate.ts'),
  bench: () => import('./commands/bench.ts'),
  audit: () => import('./commands/audit.ts'),
};

/** Builds the program with every command registered. Exported for tests. */
export async function buildProgram(io: Io, setExit: (code: number) => void, only?: string): Promise<Command> {
  const program = new Command('irsa-anywhere')
    .description('IAM Roles for Service Accounts for any Kubernetes cluster.')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
  const selected =
    only !== undefined && Object.hasOwn(COMMANDS, only) ? [COMMANDS[only]] : Object.values(COMMANDS);
  for (const load of selected) {
    if (load === undefined) continue;
    const { register } = await load();
    register(program, io, setExit);
  }
  return program;
}

/** Runs the CLI with `argv` (as in `process.argv`) and returns the exit code. */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  let exitCode = 0;
  const program = await buildProgram(
    io,
    (code) => {
      exitCode = code;
    },
    argv[2],
  );
  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    throw error;
  }
}
