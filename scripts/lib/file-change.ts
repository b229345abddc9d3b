/**
 * The one way the CLI changes a file on a machine: read → plan → diff → preflight → backup →
 * atomic write → report. `apiserver configure`/`rollback`, `key-sync` (keys, manifest, timer units),
 * `signer install` and the metrics textfile all go through here, so dry run, idempotence (same
 * content: nothing written, nothing backed up), backups and modes behave the same everywhere.
 *
 * Backups always go to the backup directory, never beside the file: kubelet runs every file in
 * /etc/kubernetes/manifests as a static pod (a `kube-apiserver.yaml.bak` there would start a second
 * kube-apiserver), and systemd reads every unit file in its directories.
 */
import { constants, promises as fs } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { type AtomicWriteOptions, atomicWriteFile } from '#adapters/local/atomic-file.ts';
import { IrsaError } from '#core/errors.ts';

/** Where backups go unless `--backup-dir` says otherwise. */
export const DEFAULT_BACKUP_DIR = '/var/lib/irsa-anywhere/backups';

function errnoOf(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}

/** Reads a file as text; `allowMissing` returns null instead of failing. */
export async function readConfig(path: string, allowMissing = false): Promise<string | null> {
  try {
    return await fs.readFile(path, 'utf8');
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') {
      if (allowMissing) return null;
      throw new IrsaError(
        'APISERVER_FILE_NOT_FOUND',
        `${path} does not exist.`,
        'Pass --file with the path of the config to edit.',
      );
    }
    if (errnoOf(error) === 'EISDIR') {
      throw new IrsaError(
        'FLAG_INVALID',
        `--file ${path} is a directory.`,
        'Pass --file with the config file itself (e.g. /etc/kubernetes/manifests/kube-apiserver.yaml).',
        { cause: error },
      );
    }
    throw new IrsaError(
      'APISERVER_FILE_UNREADABLE',
      `Cannot read ${path} (${errnoOf(error) ?? 'error'}).`,
      'Run as a user that can read it (usually root).',
      { cause: error },
    );
  }
}

/** Fails early, before any backup or temp file, when `path` (or its directory) cannot be written. */
export async function assertWritable(path: string): Promise<void> {
  let dir = dirname(resolve(path));
  // A directory that does not exist yet is created by the writer: check the nearest existing one.
  while (
    !(await fs.stat(dir).then(
      () => true,
      () => false,
    )) &&
    dirname(dir) !== dir
  ) {
    dir = dirname(dir);
  }
  try {
    await fs.access(dir, constants.W_OK);
    await fs.access(path, constants.W_OK).catch((error: unknown) => {
      if (errnoOf(error) !== 'ENOENT') throw error;
    });
  } catch (error) {
    throw new IrsaError(
      'APISERVER_FILE_NOT_WRITABLE',
      `Cannot write ${path} (${errnoOf(error) ?? 'error'}); nothing was changed.`,
      'Run as a user that can write it (usually root, e.g. with sudo), or pass --dry-run to only see the change.',
      { cause: error },
    );
  }
}

/** Writes atomically through the tree's one writer; a failure is `APISERVER_WRITE_FAILED`. */
export async function atomicWrite(
  path: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions,
): Promise<void> {
  try {
    await atomicWriteFile(path, data, options);
  } catch (error) {
    throw new IrsaError(
      'APISERVER_WRITE_FAILED',
      `Could not write ${resolve(path)} (${errnoOf(error) ?? (error instanceof Error ? error.message : 'error')}); the file is unchanged.`,
      'Check permissions and free space in that directory, then run again.',
      { cause: error },
    );
  }
}

/** Backup file name prefix for a path: its absolute path with "/" turned into "_". */
function backupPrefix(path: string): string {
  return `${resolve(path).replace(/^\/+/, '').replace(/\//g, '_')}.`;
}

/** `2026-11-22T15-12-00.123Z`: sorts by time, safe in file names. */
function stamp(now: Date): string {
  return now.toISOString().replace(/:/g, '-');
}

/** Copies the current file into the backup directory (0600) and returns the backup's path. */
export async function backupFile(path: string, backupDir: string, now: Date): Promise<string> {
  const current = await fs.readFile(path);
  const backup = join(backupDir, `${backupPrefix(path)}${stamp(now)}.bak`);
  await atomicWrite(backup, current, { mode: 0o600, dirMode: 0o700 });
  return backup;
}

/** One file a command wants on disk. */
export interface PlannedFile {
  path: string;
  content: string | Uint8Array;
  /** Mode and owner of the written file, always set explicitly. */
  write: AtomicWriteOptions;
  /** Key material: the diff says only that the content changes. */
  secret?: boolean;
  /** The file must already exist (an edit, not an install). */
  mustExist?: boolean;
  /** false: do not keep the previous version (key files, whose source is the state bucket). */
  backup?: boolean;
}

/** What happened (or would happen, in a dry run) to one planned file. */
export interface FileChangeResult {
  path: string;
  changed: boolean;
  created: boolean;
  /** Unified diff from the current content; empty when unchanged. */
  diff: string;
  /** Where the previous version was saved, when it was. */
  backup?: string;
  written: boolean;
}

/** How {@link changeFiles} runs. */
export interface FileChangeOptions {
  dryRun: boolean;
  backupDir: string;
  now: Date;
  /** Checks that only matter when something will be written (run after the plan, before any write). */
  preflight?: () => Promise<void>;
}

function sameContent(current: Buffer | null, content: string | Uint8Array): boolean {
  return current?.equals(typeof content === 'string' ? Buffer.from(content) : content) === true;
}

async function readBytes(path: string, mustExist: boolean): Promise<Buffer | null> {
  const text = await readConfig(path, !mustExist);
  return text === null ? null : fs.readFile(path);
}

/**
 * Applies planned files in order. Unchanged files are left alone (no backup, no write); in a dry
 * run nothing is written at all. Otherwise `preflight` runs and every changed file is checked
 * writable before the first backup, so a refusal leaves the disk as it was.
 */
export async function changeFiles(
  files: readonly PlannedFile[],
  options: FileChangeOptions,
): Promise<FileChangeResult[]> {
  const results: FileChangeResult[] = [];
  const currents: Array<Buffer | null> = [];
  for (const file of files) {
    const current = await readBytes(file.path, file.mustExist === true);
    currents.push(current);
    const changed = !sameContent(current, file.content);
    const diff = !changed
      ? ''
      : file.secret === true
        ? `${file.path}: content changes (key material, not shown)\n`
        : createTwoFilesPatch(
            file.path,
            file.path,
            current?.toString('utf8') ?? '',
            typeof file.content === 'string' ? file.content : Buffer.from(file.content).toString('utf8'),
            current === null ? '(new file)' : 'current',
            'planned',
          );
    results.push({ path: file.path, changed, created: changed && current === null, diff, written: false });
  }
  if (options.dryRun || results.every((r) => !r.changed)) return results;
  await options.preflight?.();
  for (const result of results) if (result.changed) await assertWritable(result.path);
  for (const [i, file] of files.entries()) {
    const result = results[i] as FileChangeResult;
    if (!result.changed) continue;
    if (currents[i] !== null && file.backup !== false) {
      result.backup = await backupFile(file.path, options.backupDir, options.now);
    }
    await atomicWrite(file.path, file.content, file.write);
    result.written = true;
  }
  return results;
}

/** The newest backup of `path`, or null. */
export async function latestBackup(path: string, backupDir: string): Promise<string | null> {
  let names: string[];
  try {
    names = await fs.readdir(backupDir);
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return null;
    throw error;
  }
  const prefix = backupPrefix(path);
  const ours = names.filter((name) => name.startsWith(prefix) && name.endsWith('.bak')).sort();
  const last = ours.at(-1);
  return last === undefined ? null : join(backupDir, last);
}

/**
 * Restores the newest backup of `path` atomically (mode `write.mode`). The file being replaced is
 * kept as a `.rolled-back` copy, and the restored backup is renamed `.restored`, so a second
 * rollback goes one step further back instead of toggling. With `dryRun`, only says what it would do.
 */
export async function rollbackFile(
  path: string,
  options: { backupDir: string; now: Date; dryRun: boolean; write: AtomicWriteOptions },
): Promise<{ restored: string; saved: string | null; diff: string; written: boolean }> {
  const backup = await latestBackup(path, options.backupDir);
  if (backup === null) {
    throw new IrsaError(
      'APISERVER_NO_BACKUP',
      `No backup of ${resolve(path)} in ${options.backupDir}.`,
      'Pass the --backup-dir that configure used, or restore the file by hand.',
    );
  }
  const current = await readConfig(path, true);
  const restoredText = await fs.readFile(backup, 'utf8');
  const diff = createTwoFilesPatch(path, path, current ?? '', restoredText, 'current', 'backup');
  if (options.dryRun) return { restored: backup, saved: null, diff, written: false };
  await assertWritable(path);
  let saved: string | null = null;
  if (current !== null) {
    saved = join(options.backupDir, `${backupPrefix(path)}${stamp(options.now)}.rolled-back`);
    await atomicWrite(saved, current, { mode: 0o600, dirMode: 0o700 });
  }
  await atomicWrite(path, restoredText, options.write);
  await fs.rename(backup, backup.replace(/\.bak$/, '.restored'));
  return { restored: backup, saved, diff, written: true };
}
