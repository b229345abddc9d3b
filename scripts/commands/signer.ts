/**
 * `irsa-anywhere signer`: kube-apiserver's external service-account token signer (KEP-740
 * ExternalJWTSigner) on a Unix socket, backed by KMS (`--backend kms`) or the local issuer's
 * keys (`--backend local`), and `signer install` to run it on a control-plane node.
 */
import type { Command } from 'commander';
import { IrsaError } from '#core/errors.ts';
import { backupDirOption, dryRunOption, regionOption } from '../lib/cli-options.ts';
import { type Io, parseIntFlag, type Register, runCommand, shutdownSignal } from '../lib/cli-support.ts';
import { checkLocalState } from '../lib/local-state.ts';
import { parseMetricsAddress } from '../lib/metrics/address.ts';
import type { SignerBackend } from '../lib/signer/backends.ts';
import { resolveSettings, type SignerSettings } from '../lib/signer/config.ts';
import { loadExtraKeys } from '../lib/signer/extra-keys.ts';
import type { ServeFlags } from '../lib/signer/install.ts';
import type { InstallFlags } from '../lib/signer/install-run.ts';
import { jsonLog, type LogLevel } from '../lib/signer/log.ts';
import { defaultBin, STATIC_POD_PATH, SYSTEMD_UNIT_PATH } from '../lib/signer/paths.ts';
import type { Signer } from '../lib/signer/run.ts';
import { DEFAULT_SOCKET, parseSocket } from '../lib/signer/socket.ts';
import { parseStateUrl } from '../lib/state-url.ts';
import { startProgress, terminalFor } from '../lib/terminal.ts';

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

interface ServeOptions {
  backend: string;
  state?: string;
  region?: string;
  dir?: string;
  socket: string;
  extraPublicKey?: string[];
  maxTokenExpirationSeconds?: string;
  maxTokenLifetimeSeconds?: string;
  refreshSeconds?: string;
  signTimeoutMs?: string;
  logLevel: string;
  metricsAddress?: string;
  metricsAllowRemote?: boolean;
}

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

function addServeOptions(command: Command): Command {
  return command
    .option('--backend <kms|local>', 'kms: keyset in S3, keys in KMS; local: a local issuer directory', 'kms')
    .option('--state <s3-url>', 'kms backend: the keyset, s3://<state bucket>/keyset.json')
    .addOption(regionOption('kms backend: AWS region of the stack (default: from the environment)'))
    .option('--dir <dir>', 'local backend: the local issuer directory')
    .option('--socket <path|@name>', 'Unix socket path, or @name for an abstract socket', DEFAULT_SOCKET)
    .option(
      '--extra-public-key <file>',
      'PEM public key kube-apiserver should keep accepting (repeatable)',
      collect,
    )
    .option(
      '--max-token-expiration-seconds <n>',
      'Metadata max_token_expiration_seconds (default 86400, >= 600)',
    )
    .option('--max-token-lifetime-seconds <n>', "the stack's MAX_TOKEN_LIFETIME (default 86400)")
    .option('--refresh-seconds <n>', 'keyset re-read interval and FetchKeys refresh hint (default 60)');
}

/** Checks the serve flags (without touching the network) and returns them normalised. */
export function parseServeFlags(opts: ServeOptions): { flags: ServeFlags; settings: SignerSettings } {
  const int = (flag: string, value: string | undefined, min: number, max: number) =>
    value === undefined ? undefined : parseIntFlag(flag, value, min, max);
  const settingsInput = {
    maxTokenExpirationSeconds: int('--max-token-expiration-seconds', opts.maxTokenExpirationSeconds, 1, 1e9),
    maxTokenLifetimeSeconds: int('--max-token-lifetime-seconds', opts.maxTokenLifetimeSeconds, 1, 1e9),
    refreshHintSeconds: int('--refresh-seconds', opts.refreshSeconds, 1, 86_400),
    signTimeoutMs: int('--sign-timeout-ms', opts.signTimeoutMs, 50, 60_000),
  };
  const settings = resolveSettings(
    Object.fromEntries(Object.entries(settingsInput).filter(([, v]) => v !== undefined)),
  );
  parseSocket(opts.socket);
  const backend = opts.backend;
  if (backend !== 'kms' && backend !== 'local') {
    throw new IrsaError(
      'FLAG_INVALID',
      `--backend must be kms or local, got "${backend}".`,
      'Pass --backend kms or --backend local.',
    );
  }
  let target: { backend: 'kms'; state: string } | { backend: 'local'; dir: string };
  if (backend === 'kms') {
    if (opts.state === undefined) {
      throw new IrsaError(
        'FLAG_MISSING',
        '--backend kms needs --state s3://<bucket>/keyset.json.',
        "Pass --state with the stack's state bucket (see `irsa-anywhere status`).",
      );
    }
    parseStateUrl(opts.state);
    target = { backend, state: opts.state };
  } else {
    if (opts.dir === undefined) {
      throw new IrsaError(
        'FLAG_MISSING',
        '--backend local needs --dir <local issuer directory>.',
        'Pass --dir, e.g. --dir .irsa-anywhere.',
      );
    }
    target = { backend, dir: opts.dir };
  }
  const flags: ServeFlags = {
    ...target,
    socket: opts.socket,
    extraPublicKeys: opts.extraPublicKey ?? [],
    ...(opts.region === undefined ? {} : { region: opts.region }),
    ...(settingsInput.maxTokenExpirationSeconds === undefined
      ? {}
      : { maxTokenExpirationSeconds: settings.maxTokenExpirationSeconds }),
    ...(settingsInput.maxTokenLifetimeSeconds === undefined
      ? {}
      : { maxTokenLifetimeSeconds: settingsInput.maxTokenLifetimeSeconds }),
    ...(settingsInput.refreshHintSeconds === undefined
      ? {}
      : { refreshSeconds: settings.refreshHintSeconds }),
  };
  return { flags, settings };
}

// The AWS SDK, gRPC and YAML are loaded by the action that needs them, not when the command is
// registered: `irsa-anywhere --help` registers every command (see COMMANDS in cli.ts).
async function backendFor(flags: ServeFlags): Promise<SignerBackend> {
  const { kmsBackend, localBackend } = await import('../lib/signer/backends.ts');
  if (flags.backend === 'local') return localBackend(flags.dir);
  return await kmsBackend({
    state: flags.state,
    ...(flags.region === undefined ? {} : { region: flags.region }),
  });
}

async function serve(opts: ServeOptions, io: Io): Promise<void> {
  if (!(LOG_LEVELS as readonly string[]).includes(opts.logLevel)) {
    throw new IrsaError(
      'FLAG_INVALID',
      `--log-level must be one of ${LOG_LEVELS.join(', ')}.`,
      'Pass --log-level info.',
    );
  }
  const { flags, settings } = parseServeFlags(opts);
  const metrics =
    opts.metricsAddress === undefined
      ? undefined
      : parseMetricsAddress(opts.metricsAddress, opts.metricsAllowRemote === true);
  // On a TTY, a progress line while the keys load (KMS, S3); erased before the first log line.
  const progress = startProgress(
    terminalFor(io).stderr,
    `starting the signer (${flags.backend} backend: loading keys)`,
  );
  const log = jsonLog({
    minLevel: opts.logLevel as LogLevel,
    write: (line) => {
      progress.done();
      io.err(line);
    },
  });
  let stopping: Promise<NodeJS.Signals>;
  let signer: Signer;
  try {
    const extraKeys = await loadExtraKeys(flags.extraPublicKeys);
    // A local directory whose active key file is gone would answer "listening" and fail every Sign.
    if (flags.backend === 'local') await checkLocalState(flags.dir, new Date(), { config: false });
    const { startSigner } = await import('../lib/signer/run.ts');
    stopping = shutdownSignal();
    signer = await startSigner({
      socket: flags.socket,
      backend: await backendFor(flags),
      settings,
      extraKeys,
      log,
      ...(metrics === undefined ? {} : { metrics }),
    });
  } finally {
    progress.done();
  }
  const signal = await stopping;
  log.log('info', 'stopping', { signal });
  await signer.close();
}

interface InstallOptions extends ServeOptions, InstallFlags {
  distro: string;
}

async function install(opts: InstallOptions, io: Io): Promise<void> {
  if (opts.distro !== 'kubeadm') {
    throw new IrsaError(
      'FLAG_INVALID',
      `--distro ${opts.distro} is not supported by signer install; only kubeadm is.`,
      'Pass --distro kubeadm; on other distributions run `irsa-anywhere signer serve` under their service manager (see docs/signer.md).',
    );
  }
  const { flags } = parseServeFlags(opts);
  const { runInstall } = await import('../lib/signer/install-run.ts');
  await runInstall(io, flags, opts);
}

export const register: Register = (program, io, setExit) => {
  const signer = program
    .command('signer')
    .description("kube-apiserver's external token signer (ExternalJWTSigner, KEP-740) on a Unix socket.");
  addServeOptions(
    signer
      .command('serve', { isDefault: true })
      .description('Serve Sign, FetchKeys and Metadata (proto packages v1 and v1alpha1) until SIGTERM.'),
  )
    .option('--sign-timeout-ms <n>', 'deadline for one Sign including retries (default 5000)')
    .option('--log-level <level>', 'debug, info, warn or error', 'info')
    .option(
      '--metrics-address <host:port|path>',
      'serve Prometheus metrics on a loopback host:port or a Unix socket path (off by default)',
    )
    .option('--metrics-allow-remote', 'allow --metrics-address on a non-loopback address')
    .action(async (opts: ServeOptions) => {
      setExit(await runCommand(io, () => serve(opts, io)));
    });
  addServeOptions(
    signer
      .command('install')
      .description(
        'Print or write a systemd unit (or static pod) that runs the signer before kube-apiserver.',
      ),
  )
    .requiredOption('--distro <name>', 'kubeadm')
    .option(
      '--write [path]',
      `write the file (default ${SYSTEMD_UNIT_PATH}, or ${STATIC_POD_PATH} with --static-pod)`,
    )
    .option(
      '--apiserver-manifest <path>',
      `kube-apiserver static pod whose --service-account-key-file files become --extra-public-key (default /etc/kubernetes/manifests/kube-apiserver.yaml)`,
    )
    .option('--no-extra-public-keys', 'do not add the key files of the kube-apiserver manifest')
    .option('--static-pod', 'a static pod manifest instead of a systemd unit')
    .option('--image <image>', 'with --static-pod: a container image that has irsa-anywhere')
    .option('--bin <path>', 'path of irsa-anywhere on the node', defaultBin())
    .option(
      '--user <name>',
      'user and group the signer runs as (kube-apiserver must reach the socket)',
      'root',
    )
    .addOption(dryRunOption('with --write: print the diff, write nothing'))
    .addOption(backupDirOption('with --write: where the previous version is kept (never beside it)'))
    .action(async (opts: InstallOptions) => {
      setExit(await runCommand(io, () => install(opts, io)));
    });
};
