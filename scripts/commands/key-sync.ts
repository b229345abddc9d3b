/**
 * `irsa-anywhere key-sync` (file mode): installs the active KMS-wrapped signing key and the
 * verification bundle for kube-apiserver, and `key-sync install-timer` emits the systemd units
 * that run it. This file only wires flags and builds the AWS clients.
 */
import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { IrsaError } from '#core/errors.ts';
import { normalizeSettings } from '../lib/apiserver/settings.ts';
import { DEFAULT_FILES, DEFAULT_KEY_DIR } from '../lib/apiserver/types.ts';
import { backupDirOption, dryRunOption, jsonOption, regionOption } from '../lib/cli-options.ts';
import {
  ExitCode,
  type Io,
  parseIntFlag,
  type Register,
  runCommand,
  shutdownSignal,
} from '../lib/cli-support.ts';
import { changeFiles } from '../lib/file-change.ts';
import { renderUnits, validateTimerOptions } from '../lib/key-sync/timer.ts';
import { checkTextfilePath } from '../lib/metrics/key-sync-metrics.ts';
import { keySyncMetricsFor } from '../lib/metrics/key-sync-setup.ts';
import { defaultBin } from '../lib/signer/paths.ts';

// The AWS SDK and the manifest editor are loaded by the actions, not when the command is
// registered: `irsa-anywhere --help` registers every command (see COMMANDS in cli.ts).
const loadRun = () => import('../lib/key-sync/run.ts');

interface SyncFlags {
  state?: string;
  stackOutputs?: string;
  cluster?: string;
  keyDir: string;
  once?: boolean;
  interval: string;
  distro: string;
  manifest?: string;
  audiences?: string;
  backupDir: string;
  region?: string;
  json?: boolean;
  dryRun?: boolean;
  metricsAddress?: string;
  metricsAllowRemote?: boolean;
  metricsTextfile?: string;
}

interface TimerFlags extends SyncFlags {
  bin: string;
  every: string;
  unitName: string;
  write?: boolean;
  unitDir: string;
}

function sourceOptions(command: Command): Command {
  return command
    .option('--state <url>', 'keyset location, s3://<state bucket>/keyset.json')
    .option('--stack-outputs <file>', 'CloudFormation outputs JSON naming StateBucketName')
    .option('--cluster <name>', 'cluster name the stack was deployed with (the KMS encryption context)')
    .option('--key-dir <dir>', 'where signing.key and verification.pem go', DEFAULT_KEY_DIR)
    .option('--distro <distro>', 'kube-apiserver config to update: kubeadm, k3s, rke2 or none', 'kubeadm')
    .option('--manifest <path>', 'that config file (default: the distro default)')
    .option('--audiences <list>', 'extra audiences for --api-audiences')
    .addOption(backupDirOption('where config backups are kept'))
    .addOption(regionOption('AWS region of the stack (default: the SDK default chain)'))
    .addOption(dryRunOption('plan only: decrypt nothing, write nothing, print what would change'))
    .option(
      '--metrics-textfile <file.prom>',
      "write metrics for node_exporter's textfile collector after each pass",
    );
}

/** Validates the flags shared by key-sync and install-timer; returns the args for the timer. */
async function validatedArgs(flags: SyncFlags): Promise<string[]> {
  const { parseSyncTarget } = await loadRun();
  parseSyncTarget(flags.cluster, flags.distro);
  normalizeSettings({ issuer: 'https://validation.invalid', mode: 'file', keyDir: flags.keyDir });
  const args: string[] = [];
  const add = (name: string, value: string | undefined): void => {
    if (value !== undefined) args.push(name, value);
  };
  add('--state', flags.state);
  // systemd runs from /: relative paths would point elsewhere.
  add('--stack-outputs', flags.stackOutputs === undefined ? undefined : resolve(flags.stackOutputs));
  add('--cluster', flags.cluster);
  add('--key-dir', flags.keyDir);
  add('--distro', flags.distro);
  add('--manifest', flags.manifest === undefined ? undefined : resolve(flags.manifest));
  add('--audiences', flags.audiences);
  add('--backup-dir', flags.backupDir);
  add('--region', flags.region);
  add('--metrics-textfile', flags.metricsTextfile);
  return args;
}

/** Adds `key-sync` and `key-sync install-timer` to the program. */
export const register: Register = (program: Command, io: Io, setExit) => {
  const keySync = sourceOptions(
    program
      .command('key-sync')
      .description('file mode: install the active signing key and verification keys for kube-apiserver.'),
  )
    .option('--once', 'run one pass and exit (the systemd timer uses this)')
    .option('--interval <seconds>', 'seconds between passes when not --once', '300')
    .addOption(jsonOption('print each pass as JSON'))
    .option(
      '--metrics-address <host:port|path>',
      'loop mode: serve Prometheus metrics (loopback or a Unix socket)',
    )
    .option('--metrics-allow-remote', 'allow --metrics-address on a non-loopback address')
    .action(async (flags: SyncFlags) => {
      setExit(
        await runCommand(
          io,
          async () => {
            const { parseSyncTarget, printSyncReport, resolveState, runSyncLoop } = await loadRun();
            const [{ syncOnce }, { S3Client }, { KMSClient }, { cliAws }] = await Promise.all([
              import('../lib/key-sync/sync.ts'),
              import('@aws-sdk/client-s3'),
              import('@aws-sdk/client-kms'),
              import('../lib/aws-clients.ts'),
            ]);
            const { cluster, distro } = parseSyncTarget(flags.cluster, flags.distro);
            const metrics = await keySyncMetricsFor(flags);
            const intervalMs = parseIntFlag('--interval', flags.interval, 10, 86_400) * 1000;
            const state = await resolveState(flags);
            const aws = cliAws('key-sync (S3 and KMS)', { flag: flags.region });
            // Fail before the first pass (and before the loop) rather than once per pass.
            await aws.region();
            const options = {
              // The state bucket may live in another region than the KMS key.
              s3: aws.client(S3Client, { followRegionRedirects: true }),
              kms: aws.client(KMSClient),
              state,
              cluster,
              keyDir: flags.keyDir,
              manifest:
                distro === null
                  ? null
                  : {
                      distro,
                      ...(flags.manifest !== undefined ? { file: flags.manifest } : {}),
                      audiences: flags.audiences?.split(',') ?? [],
                      backupDir: flags.backupDir,
                    },
              now: () => new Date(),
              dryRun: flags.dryRun === true,
            };
            // A dry run is one pass that writes nothing, not even the metrics textfile.
            if (flags.dryRun === true) {
              printSyncReport(io, await syncOnce(options), flags.json === true);
              return;
            }
            const pass = metrics.wrap(syncOnce);
            if (flags.once === true) {
              printSyncReport(io, await pass(options), flags.json === true);
              return;
            }
            const stop = new AbortController();
            void shutdownSignal().then(() => stop.abort());
            try {
              const server = await metrics.listen();
              if (server !== undefined) io.err(`metrics listening on ${server}`);
              const failures = await runSyncLoop(
                io,
                options,
                { intervalMs, json: flags.json === true, signal: stop.signal },
                pass,
              );
              if (failures > 0) throw new ExitCode(1);
            } finally {
              await metrics.close();
            }
          },
          { json: flags.json },
        ),
      );
    });

  // The source options are key-sync's own; commander hands them to the parent wherever they appear.
  keySync
    .command('install-timer')
    .description(
      'Print (or --write) a systemd service and timer running key-sync --once with the same options.',
    )
    .option('--bin <path>', 'absolute path of irsa-anywhere', defaultBin())
    .option('--every <span>', 'systemd time span between runs', '5min')
    .option('--unit-name <name>', 'unit name (without .service/.timer)', 'irsa-anywhere-key-sync')
    .option('--write', 'write the units into --unit-dir instead of printing them')
    .option('--unit-dir <dir>', 'systemd unit directory', '/etc/systemd/system')
    .action(async (own: Omit<TimerFlags, keyof SyncFlags>) => {
      setExit(
        await runCommand(io, async () => {
          const flags = { ...keySync.opts<SyncFlags>(), ...own } as TimerFlags;
          const manifest = flags.manifest ?? DEFAULT_FILES[flags.distro as keyof typeof DEFAULT_FILES];
          const options = validateTimerOptions({
            bin: flags.bin,
            args: await validatedArgs(flags),
            dirs: [resolve(flags.keyDir), resolve(flags.backupDir)],
            writable: [
              ...(manifest === undefined ? [] : [dirname(resolve(manifest))]),
              // node_exporter's textfile directory, written by --metrics-textfile.
              ...(flags.metricsTextfile === undefined
                ? []
                : [dirname(checkTextfilePath(flags.metricsTextfile))]),
            ],
            interval: flags.every,
            unitName: flags.unitName,
          });
          const { service, timer } = renderUnits(options);
          if (flags.write !== true) {
            io.out(`# ${options.unitName}.service\n${service}\n# ${options.unitName}.timer\n${timer}`);
            return;
          }
          // Checked first: a missing directory is a wrong flag, not a failed write of some other command.
          if (statSync(flags.unitDir, { throwIfNoEntry: false })?.isDirectory() !== true) {
            throw new IrsaError(
              'FLAG_INVALID',
              `--unit-dir ${flags.unitDir} is not a directory.`,
              'Pass --unit-dir with the systemd unit directory (default /etc/systemd/system).',
            );
          }
          const results = await changeFiles(
            [
              {
                path: `${flags.unitDir}/${options.unitName}.service`,
                content: service,
                write: { mode: 0o644 },
              },
              { path: `${flags.unitDir}/${options.unitName}.timer`, content: timer, write: { mode: 0o644 } },
            ],
            { dryRun: flags.dryRun === true, backupDir: flags.backupDir, now: new Date() },
          );
          for (const result of results) {
            if (!result.changed) io.out(`${result.path}: unchanged`);
            else if (flags.dryRun === true)
              io.out(`${result.diff}${result.path}: would change (dry run, nothing written)`);
            else
              io.out(
                `wrote ${result.path}${result.backup === undefined ? '' : ` (previous version kept in ${result.backup})`}`,
              );
          }
          if (flags.dryRun === true) return;
          io.out(`enable with: systemctl daemon-reload && systemctl enable --now ${options.unitName}.timer`);
        }),
      );
    });
};
