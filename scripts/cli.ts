/**
 * `irsa-anywhere`: the operator CLI. This file only wires commands; each lives in
 * `scripts/commands/<name>.ts` and exports `register(program, io)`.
 */
import { Command, CommanderError } from 'commander';
import packageJson from '../package.json' with { type: 'json' };
import { type Io, printJson, processIo, type Register } from './lib/cli-support.ts';

export type { Register } from './lib/cli-support.ts';

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
    .version(packageJson.version, '-V, --version', 'print the version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
  const selected =
    only !== undefined && Object.hasOwn(COMMANDS, only)
      ? [COMMANDS[only]]
      : only === '--version' || only === '-V'
        ? []
        : Object.values(COMMANDS);
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
    if (!(error instanceof CommanderError)) throw error;
    if (error.exitCode === 0) return 0;
    // Commander already printed its usage line on stderr; --json still gets its JSON on stdout.
    if (argv.includes('--json')) {
      printJson(io, {
        ok: false,
        code: error.code === 'commander.missingMandatoryOptionValue' ? 'FLAG_MISSING' : 'FLAG_INVALID',
        message: error.message.replace(/^error: /, ''),
        fix: 'Run the command with --help for its usage.',
      });
    }
    return 2;
  }
}
