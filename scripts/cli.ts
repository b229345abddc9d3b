/**
 * `irsa-anywhere`: the operator CLI. This file only wires commands; each lives in
 * `scripts/commands/<name>.ts` and exports `register(program, io)`.
 */
import { Command, CommanderError, Help } from 'commander';
import packageJson from '../package.json' with { type: 'json' };
import { type Io, printJson, processIo, type Register } from './lib/cli-support.ts';

export type { Register } from './lib/cli-support.ts';

/** A command as the top-level `--help` lists it, and the loader of its module. */
interface CommandEntry {
  /** The help line's left column, as commander prints it for the registered command. */
  readonly term: string;
  /** The registered command's description (a test checks both against the real registration). */
  readonly summary: string;
  readonly load: () => Promise<{ register: Register }>;
}

/**
 * Every command, by the name a user types, in `--help` order. Only the module of the command being
 * run is loaded, so `irsa-anywhere verify` does not pay for the gRPC or AWS SDK imports of others,
 * and the top-level `--help` loads none: it lists the terms and summaries kept here.
 */
export const COMMANDS: Readonly<Record<string, CommandEntry>> = {
  local: {
    term: 'local [options]',
    summary:
      'Run the local issuer: software keys in --dir, documents served on loopback. `npm start` runs this.',
    load: () => import('./commands/local.ts'),
  },
  token: {
    term: 'token',
    summary: 'Tokens from the local issuer.',
    load: () => import('./commands/token.ts'),
  },
  verify: {
    term: 'verify [options]',
    summary:
      "Fetch the issuer's discovery document and JWKS and verify a token the way STS does. Exit 0 when accepted.",
    load: () => import('./commands/verify.ts'),
  },
  'trust-policy': {
    term: 'trust-policy [options]',
    summary:
      'Print the IAM role trust policy that lets these service accounts assume a role through this issuer.',
    load: () => import('./commands/trust-policy.ts'),
  },
  rotate: {
    term: 'rotate [options]',
    summary: 'Apply the rotation plan: create, promote, retire and delete keys as due, then publish.',
    load: () => import('./commands/rotate.ts'),
  },
  status: {
    term: 'status [options]',
    summary: 'Show the keys, their states and ages, and the next transition.',
    load: () => import('./commands/status.ts'),
  },
  webhook: {
    term: 'webhook',
    summary: 'Install amazon-eks-pod-identity-webhook (needs cert-manager).',
    load: () => import('./commands/webhook.ts'),
  },
  doctor: {
    term: 'doctor [options]',
    summary: 'Check the IRSA chain end to end and say how to fix what is broken.',
    load: () => import('./commands/doctor.ts'),
  },
  signer: {
    term: 'signer',
    summary: "kube-apiserver's external token signer (ExternalJWTSigner, KEP-740) on a Unix socket.",
    load: () => import('./commands/signer.ts'),
  },
  apiserver: {
    term: 'apiserver',
    summary: 'Configure kube-apiserver for the issuer and the signer or key files.',
    load: () => import('./commands/apiserver.ts'),
  },
  'key-sync': {
    term: 'key-sync [options]',
    summary: 'file mode: install the active signing key and verification keys for kube-apiserver.',
    load: () => import('./commands/key-sync.ts'),
  },
  simulate: {
    term: 'simulate [options]',
    summary:
      'Simulate years of key rotation with a virtual clock: tokens issued, verified through JWKS caches, and the figures.',
    load: () => import('./commands/simulate.ts'),
  },
  bench: {
    term: 'bench [options]',
    summary:
      'Measure the signer (warm CPU per call, KMS-shaped load), the kms backend, CLI start, Lambda bundles and steady-state AWS requests against their floors and targets (run from the repository; see docs/benchmarks.md).',
    load: () => import('./commands/bench.ts'),
  },
  audit: {
    term: 'audit [options]',
    summary:
      'List IRSA service accounts and their pods, and every pod the pod identity webhook did not mutate, with the reason.',
    load: () => import('./commands/audit.ts'),
  },
};

/**
 * The command a command line runs (`irsa-anywhere <name> ...` or `irsa-anywhere help <name>`), or
 * undefined for the top level (`--help`, `--version`, nothing, or an unknown name).
 */
export function selectedCommand(argv: readonly string[]): string | undefined {
  const name = argv[2] === 'help' ? argv[3] : argv[2];
  return name !== undefined && Object.hasOwn(COMMANDS, name) ? name : undefined;
}

/**
 * Builds the program. With `only`, that command is registered for real; without, every command
 * is a stand-in that only lists itself (the top-level help, or commander's "unknown command"
 * with its suggestion), and no command module is loaded. `all` registers every command for real
 * (tests).
 */
export async function buildProgram(
  io: Io,
  setExit: (code: number) => void,
  only?: string | 'all',
): Promise<Command> {
  const program = new Command('irsa-anywhere')
    .description('IAM Roles for Service Accounts for any Kubernetes cluster.')
    .version(packageJson.version, '-V, --version', 'print the version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
  const standIns = new Map<Command, string>();
  for (const [name, entry] of Object.entries(COMMANDS)) {
    if (only === 'all' || only === name) {
      const { register } = await entry.load();
      register(program, io, setExit);
    } else if (only === undefined) {
      standIns.set(program.command(name).description(entry.summary), entry.term);
    }
  }
  if (standIns.size > 0) {
    const help = new Help();
    program.configureHelp({ subcommandTerm: (cmd) => standIns.get(cmd) ?? help.subcommandTerm(cmd) });
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
    selectedCommand(argv),
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
