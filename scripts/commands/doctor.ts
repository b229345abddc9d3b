/**
 * `irsa-anywhere doctor`: checks the whole IRSA chain (issuer documents, JWKS, IAM provider, token,
 * trust policy, cluster, and optionally a real STS call) and prints a PASS/WARN/FAIL/SKIP checklist
 * with a fix for each problem. Exit code 1 when any check FAILs.
 */
import { statSync } from 'node:fs';
import type { Command } from 'commander';
import { IrsaError } from '#core/errors.ts';
import { DEFAULT_AUDIENCE } from '#core/token-claims.ts';
import { jsonOption, regionOption, stackOption } from '../lib/cli-options.ts';
import { ExitCode, type Io, printJson, type Register, runCommand } from '../lib/cli-support.ts';
import { type DoctorDeps, type DoctorOptions, KUBECONFIG_FIX } from '../lib/doctor/types.ts';
import { colourEnabled, type Terminal, terminalFor, withProgress } from '../lib/terminal.ts';

/** The one-line usage printed when doctor is run with nothing to check. */
export const DOCTOR_USAGE =
  'Usage: irsa-anywhere doctor (--stack NAME | --issuer URL | --token FILE | --kubeconfig FILE) [--namespace NS --service-account SA] [--role-arn ARN [--assume]] [--json]';

interface DoctorFlags {
  stack?: string;
  issuer?: string;
  token?: string;
  roleArn?: string;
  namespace?: string;
  serviceAccount?: string;
  kubeconfig?: string;
  assume?: boolean;
  audience?: string;
  region?: string;
  json?: boolean;
}

/**
 * Checks that doctor was given something to check and that the files it names exist, before any
 * check runs (a missing file is bad input, exit 2, not a FAIL line with unrelated advice).
 */
export function checkDoctorInputs(flags: DoctorFlags): void {
  if (
    [flags.stack, flags.issuer, flags.token, flags.kubeconfig, flags.roleArn].every((f) => f === undefined)
  ) {
    throw new IrsaError(
      'FLAG_MISSING',
      `doctor needs something to check. ${DOCTOR_USAGE}`,
      'Run irsa-anywhere doctor --stack <name> (a deployed stack) or --issuer <url>; see irsa-anywhere doctor --help.',
    );
  }
  for (const [flag, file] of [
    ['--token', flags.token],
    ['--kubeconfig', flags.kubeconfig],
  ] as const) {
    if (file === undefined || file === '-') continue;
    const info = statSync(file, { throwIfNoEntry: false });
    if (info === undefined || !info.isFile()) {
      throw new IrsaError(
        'INPUT_MISSING',
        `${flag} ${file}: ${info === undefined ? 'no such file' : 'not a regular file'}.`,
        flag === '--kubeconfig' ? KUBECONFIG_FIX : `Pass ${flag} with the path of an existing file.`,
      );
    }
  }
}

/** Checks flag combinations and turns flags into options. Throws `FLAG_CONFLICT` / `FLAG_MISSING`. */
export function doctorOptions(flags: DoctorFlags): DoctorOptions & { region?: string } {
  if (flags.stack !== undefined && flags.issuer !== undefined) {
    throw new IrsaError(
      'FLAG_CONFLICT',
      '--stack and --issuer cannot be combined.',
      'Pass --stack (the issuer comes from its outputs) or --issuer, not both.',
    );
  }
  if ((flags.namespace === undefined) !== (flags.serviceAccount === undefined)) {
    throw new IrsaError(
      'FLAG_MISSING',
      '--namespace and --service-account go together.',
      'Pass both --namespace <ns> and --service-account <sa>.',
    );
  }
  if (flags.assume === true && flags.roleArn === undefined) {
    throw new IrsaError(
      'FLAG_MISSING',
      '--assume needs --role-arn.',
      'Pass --role-arn arn:aws:iam::<account>:role/<name>.',
    );
  }
  const options: DoctorOptions & { region?: string } = {};
  if (flags.stack !== undefined) options.stack = flags.stack;
  if (flags.issuer !== undefined) options.issuer = flags.issuer;
  if (flags.token !== undefined) options.tokenFile = flags.token;
  if (flags.roleArn !== undefined) options.roleArn = flags.roleArn;
  if (flags.namespace !== undefined) options.namespace = flags.namespace;
  if (flags.serviceAccount !== undefined) options.serviceAccount = flags.serviceAccount;
  if (flags.kubeconfig !== undefined) options.kubeconfig = flags.kubeconfig;
  if (flags.assume === true) options.assume = true;
  if (flags.audience !== undefined) options.audience = flags.audience;
  if (flags.region !== undefined) options.region = flags.region;
  return options;
}

/**
 * Builds the command; `makeDeps` is injected by tests, and `terminal` (the TTY behind the output,
 * for colour and the progress line) is the process's only when `io` is.
 */
export function registerDoctor(
  makeDeps: (options: DoctorOptions & { region?: string }) => DoctorDeps | Promise<DoctorDeps>,
  terminal?: Terminal,
): Register {
  return (program: Command, io: Io, setExit) => {
    const tty = terminal ?? terminalFor(io);
    program
      .command('doctor')
      .description('Check the IRSA chain end to end and say how to fix what is broken.')
      .addOption(stackOption('deployed stack: the issuer and OIDC provider come from its outputs'))
      .option('--issuer <url>', 'issuer URL to check (instead of --stack)')
      .option('--token <file>', 'a service-account token to verify (e.g. copied from a pod)')
      .option('--role-arn <arn>', 'IAM role whose trust policy to evaluate')
      .option('--namespace <ns>', 'service account namespace (TokenRequest and annotation checks)')
      .option('--service-account <sa>', 'service account name')
      .option('--kubeconfig <file>', 'check the cluster too, and request a token with the TokenRequest API')
      .option('--audience <aud>', 'token audience', DEFAULT_AUDIENCE)
      .addOption(regionOption('AWS region of the stack (default: AWS_REGION)'))
      .option('--assume', 'call STS AssumeRoleWithWebIdentity for real')
      .addOption(jsonOption('print the checklist as JSON'))
      .action(async (flags: DoctorFlags) => {
        setExit(
          await runCommand(
            io,
            async () => {
              checkDoctorInputs(flags);
              const options = doctorOptions(flags);
              // Loaded here, not at registration: the checks pull in the AWS SDK and YAML, and
              // `irsa-anywhere --help` registers every command (see COMMANDS in cli.ts).
              const { doctorExitCode, formatChecklist, runDoctor, summarize } = await import(
                '../lib/doctor/runner.ts'
              );
              const deps = await makeDeps(options);
              const json = flags.json === true;
              const results = await withProgress(
                tty.stderr,
                'checking',
                (progress) => runDoctor(options, { ...deps, progress: progress.step }),
                { quiet: json },
              );
              if (json)
                printJson(io, {
                  ok: doctorExitCode(results) === 0,
                  summary: summarize(results),
                  checks: results,
                });
              else io.out(formatChecklist(results, colourEnabled(tty.stdout, tty.env)));
              const code = doctorExitCode(results);
              if (code !== 0) throw new ExitCode(code);
            },
            { json: flags.json },
          ),
        );
      });
  };
}

/** `irsa-anywhere doctor` with the real network, AWS and files. */
export const register: Register = registerDoctor(async (options) =>
  (await import('../lib/doctor/deps.ts')).realDoctorDeps(options),
);
