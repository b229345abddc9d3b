/**
 * `apiserver configure` and `apiserver rollback` without commander: read the file, plan, then
 * either show the diff (dry run) or back up and write atomically. Checks run before anything is
 * written, so a failure leaves the file on disk untouched.
 */
import { promises as fs } from 'node:fs';
import { IrsaError } from '#core/errors.ts';
import type { Io } from '../cli-support.ts';
import { changeFiles, readConfig, rollbackFile } from '../file-change.ts';
import { planApiserver } from './index.ts';
import { checkOldKeysServed, droppedKeyFiles, type OldKeysReport } from './old-keys.ts';
import { keyFilePaths } from './settings.ts';
import { type ApiserverSettings, type Change, DEFAULT_FILES, type Distro, describeChange } from './types.ts';

/** Distros whose file lives on the node and is read by a running service. */
const ON_NODE: ReadonlySet<Distro> = new Set(['kubeadm', 'k3s', 'rke2']);

/** Inputs of {@link runConfigure}, validated by the command. */
export interface ConfigureOptions {
  distro: Distro;
  settings: ApiserverSettings;
  file?: string;
  backupDir: string;
  dryRun: boolean;
  json: boolean;
  /** Skip the checks that the signer socket or the key files exist. */
  skipPreflight: boolean;
  /** kms mode: drop the old key files without asking the signer whether it serves them. */
  allowDroppingOldTokens?: boolean;
  now: () => Date;
}

/** What one configure run did, as printed with --json. */
export interface ConfigureReport {
  distro: Distro;
  file: string | null;
  dryRun: boolean;
  changed: boolean;
  changes: Change[];
  notes: string[];
  /** Things done on the operator's explicit say-so that break something (printed on stderr). */
  warnings: string[];
  backup?: string;
  diff?: string;
  text?: string;
}

/** The mode of a written config: kubeadm's static pod manifests are root-only, the others 0644. */
export function modeFor(distro: Distro): number {
  return distro === 'kubeadm' ? 0o600 : 0o644;
}

function fileFor(distro: Distro, file: string | undefined): string | null {
  return file ?? DEFAULT_FILES[distro] ?? null;
}

async function exists(path: string, socket = false): Promise<boolean> {
  try {
    const stat = await fs.stat(path);
    return socket ? stat.isSocket() : stat.isFile();
  } catch {
    return false;
  }
}

/**
 * Refuses to point a running kube-apiserver at a signer or key files that are not there: it would not
 * start again. key-sync writes the keys first, then calls the planner itself. Read-only, so it runs
 * in a dry run too.
 */
async function preflight(options: ConfigureOptions, changes: readonly Change[]): Promise<OldKeysReport> {
  const report: OldKeysReport = { notes: [], warnings: [] };
  if (!ON_NODE.has(options.distro)) return report;
  const { settings } = options;
  if (
    !options.skipPreflight &&
    settings.mode === 'kms' &&
    !settings.signerSocket.startsWith('@') &&
    !(await exists(settings.signerSocket, true))
  ) {
    throw new IrsaError(
      'APISERVER_SIGNER_NOT_RUNNING',
      `No signer is listening at ${settings.signerSocket}; kube-apiserver would not start without it.`,
      'Start `irsa-anywhere signer` on this node first (or pass --skip-preflight if it starts with kube-apiserver).',
    );
  }
  if (!options.skipPreflight && settings.mode === 'file') {
    const { signingKey, verification } = keyFilePaths(settings);
    const missing = [];
    for (const path of [signingKey, verification]) if (!(await exists(path))) missing.push(path);
    if (missing.length > 0) {
      throw new IrsaError(
        'APISERVER_KEY_FILES_MISSING',
        `${missing.join(' and ')} not found; kube-apiserver would not start with flags pointing at them.`,
        'Run `irsa-anywhere key-sync --once` first: it writes the keys, then configures kube-apiserver itself.',
      );
    }
  }
  if (settings.mode !== 'kms') return report;
  return checkOldKeysServed({
    socket: settings.signerSocket,
    files: droppedKeyFiles(changes),
    allowDropping: options.allowDroppingOldTokens === true,
  });
}

function printReport(io: Io, report: ConfigureReport, json: boolean): void {
  if (json) {
    io.out(JSON.stringify(report, null, 2));
    return;
  }
  for (const warning of report.warnings) io.err(`warning: ${warning}`);
  if (report.file === null && report.text !== undefined) {
    // Printed config: the YAML alone on stdout, so it can be redirected to a file.
    io.out(report.text);
    for (const note of report.notes) io.err(`note: ${note}`);
    return;
  }
  if (!report.changed) {
    io.out(`no changes: ${report.file} is already configured`);
    return;
  }
  if (report.dryRun && report.diff !== undefined) io.out(report.diff);
  const verb = report.dryRun ? 'would change' : 'changed';
  io.out(`${verb} ${report.file}:`);
  for (const change of report.changes) io.out(`  ${describeChange(change)}`);
  if (report.backup !== undefined)
    io.out(`backup: ${report.backup} (undo with: irsa-anywhere apiserver rollback --file ${report.file})`);
  if (report.dryRun) io.out('dry run: nothing was written');
  for (const note of report.notes) io.out(`note: ${note}`);
}

/** Runs `apiserver configure`. Returns the report it printed. */
export async function runConfigure(io: Io, options: ConfigureOptions): Promise<ConfigureReport> {
  const file = fileFor(options.distro, options.file);
  const base = { distro: options.distro, file, dryRun: options.dryRun };
  if (file === null) {
    const plan = planApiserver(options.distro, '', options.settings);
    const report: ConfigureReport = {
      ...base,
      changed: true,
      changes: plan.changes,
      notes: plan.notes,
      warnings: [],
      text: plan.text,
    };
    printReport(io, report, options.json);
    return report;
  }
  const current = await readConfig(file, options.distro !== 'kubeadm');
  const plan = planApiserver(options.distro, current ?? '', options.settings);
  const checked =
    plan.text === current ? { notes: [], warnings: [] } : await preflight(options, plan.changes);
  const [result] = await changeFiles(
    [{ path: file, content: plan.text, write: { mode: modeFor(options.distro) } }],
    { dryRun: options.dryRun, backupDir: options.backupDir, now: options.now() },
  );
  const changed = result?.changed === true;
  const report: ConfigureReport = {
    ...base,
    changed,
    changes: plan.changes,
    notes: [...plan.notes, ...checked.notes],
    warnings: checked.warnings,
  };
  if (changed && options.dryRun) report.diff = result?.diff ?? '';
  if (result?.backup !== undefined) report.backup = result.backup;
  printReport(io, report, options.json);
  return report;
}

/** Runs `apiserver rollback`: restores the newest backup of the file (with `dryRun`: shows it). */
export async function runRollback(
  io: Io,
  options: {
    distro: Distro;
    file?: string;
    backupDir: string;
    json: boolean;
    dryRun: boolean;
    now: () => Date;
  },
): Promise<void> {
  const file = fileFor(options.distro, options.file);
  if (file === null) {
    throw new IrsaError(
      'FLAG_MISSING',
      `--distro ${options.distro} has no default file.`,
      'Pass --file with the file to restore.',
    );
  }
  const { restored, saved, diff } = await rollbackFile(file, {
    backupDir: options.backupDir,
    now: options.now(),
    dryRun: options.dryRun,
    write: { mode: modeFor(options.distro) },
  });
  if (options.json) {
    io.out(
      JSON.stringify(
        { file, restored, saved, dryRun: options.dryRun, ...(options.dryRun ? { diff } : {}) },
        null,
        2,
      ),
    );
    return;
  }
  if (options.dryRun) {
    io.out(diff);
    io.out(`would restore ${file} from ${restored} (dry run, nothing written)`);
    return;
  }
  io.out(`restored ${file} from ${restored}`);
  if (saved !== null) io.out(`the replaced version is kept as ${saved}`);
}
