/**
 * key-sync's command body, without commander: resolve where the state is, then run one pass or a
 * loop. The S3 and KMS clients are passed in; only the command file builds them.
 */
import { readFile } from 'node:fs/promises';
import { CLUSTER_NAME_RULE, isClusterName } from '#core/cluster-name.ts';
import { formatError, IrsaError } from '#core/errors.ts';
import { describeChange } from '../apiserver/types.ts';
import type { Io } from '../cli-support.ts';
import { parseStateUrl, type StateLocation } from '../state-url.ts';
import { stateFromStackOutputs } from './source.ts';
import { type SyncDistro, type SyncOptions, type SyncReport, syncOnce } from './sync.ts';

/** `--state` or `--stack-outputs`, exactly one. */
export async function resolveState(flags: { state?: string; stackOutputs?: string }): Promise<StateLocation> {
  if ((flags.state === undefined) === (flags.stackOutputs === undefined)) {
    throw new IrsaError(
      'FLAG_MISSING',
      'key-sync needs exactly one of --state and --stack-outputs.',
      'Pass --state s3://<state bucket>/keyset.json, or --stack-outputs outputs.json.',
    );
  }
  if (flags.state !== undefined) return parseStateUrl(flags.state);
  const path = flags.stackOutputs ?? '';
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new IrsaError(
      'FLAG_INVALID',
      `--stack-outputs ${path} cannot be read.`,
      'Pass the path of the saved stack outputs JSON.',
      { cause: error },
    );
  }
  return stateFromStackOutputs(text);
}

/** Checks `--cluster` and `--distro` for key-sync. */
export function parseSyncTarget(
  cluster: string | undefined,
  distro: string,
): { cluster: string; distro: SyncDistro | null } {
  if (cluster === undefined || !isClusterName(cluster)) {
    throw new IrsaError(
      'FLAG_INVALID',
      `--cluster must be the cluster name the stack was deployed with (${CLUSTER_NAME_RULE}), got "${cluster ?? ''}".`,
      'Pass --cluster <name>.',
    );
  }
  if (distro === 'none') return { cluster, distro: null };
  if (distro !== 'kubeadm' && distro !== 'k3s' && distro !== 'rke2') {
    throw new IrsaError(
      'FLAG_INVALID',
      `key-sync --distro must be kubeadm, k3s, rke2 or none, got "${distro}".`,
      'Pass --distro kubeadm (or none to install only the key files).',
    );
  }
  return { cluster, distro };
}

/** Prints one pass. Only kids and paths: never key material. */
export function printSyncReport(io: Io, report: SyncReport, json: boolean): void {
  if (json) {
    io.out(JSON.stringify(report, null, 2));
    return;
  }
  if (report.dryRun !== undefined) {
    if (report.dryRun.diff !== '') io.out(report.dryRun.diff);
    io.out(
      `active kid ${report.kid}; ` +
        (report.dryRun.wouldWrite.length > 0
          ? `would write ${report.dryRun.wouldWrite.join(', ')}`
          : 'no changes: key files and config up to date'),
    );
    io.out('dry run: nothing was written');
    return;
  }
  const wrote = [
    report.wroteSigningKey ? 'signing.key' : '',
    report.wroteBundle ? 'verification.pem' : '',
  ].filter((s) => s !== '');
  io.out(
    `active kid ${report.kid}; verification keys: ${report.verificationKids.join(', ')}; ` +
      (wrote.length > 0 ? `wrote ${wrote.join(' and ')}` : 'key files up to date'),
  );
  const manifest = report.manifest;
  if (manifest === null) return;
  if (manifest.changes.length === 0) {
    io.out(`no changes: ${manifest.file} is already configured`);
    return;
  }
  io.out(`changed ${manifest.file}:`);
  for (const change of manifest.changes) io.out(`  ${describeChange(change)}`);
  if (manifest.backup !== undefined) io.out(`backup: ${manifest.backup}`);
  for (const note of manifest.notes) io.out(`note: ${note}`);
}

/**
 * Runs passes every `intervalMs` until `signal` aborts. A failed pass is reported and retried at the
 * next interval: a transient S3/KMS error must not stop the node from picking up the next key.
 */
export async function runSyncLoop(
  io: Io,
  options: SyncOptions,
  settings: { intervalMs: number; json: boolean; signal: AbortSignal },
  pass: (options: SyncOptions) => Promise<SyncReport> = syncOnce,
): Promise<number> {
  let failures = 0;
  while (!settings.signal.aborted) {
    try {
      printSyncReport(io, await pass(options), settings.json);
    } catch (error) {
      failures += 1;
      io.err(`error ${formatError(error)}`);
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, settings.intervalMs);
      settings.signal.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          resolve();
        },
        { once: true },
      );
    });
  }
  return failures;
}
