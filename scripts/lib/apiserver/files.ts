/**
 * The file side of `apiserver configure` and `key-sync`: atomic writes that keep the file's mode and
 * owner, timestamped backups outside the watched directory, and rollback. No planning here.
 */
import { randomBytes } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { IrsaError } from '#core/errors.ts';

/**
 * Backups go here, not beside the file: kubelet runs every file in /etc/kubernetes/manifests as a
 * static pod, so a `kube-apiserver.yaml.bak` there would start a second kube-apiserver.
 */
export const DEFAULT_BACKUP_DIR = '/var/lib/irsa-anywhere/backups';

function errnoOf(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}

/** Reads a config file; `allowMissing` returns null instead of failing. */
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
  const dir = dirname(resolve(path));
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

/** The temp file `atomicWrite` writes beside `name` before renaming it into place. */
function tempFileName(name: string): string {
  return `.${name}.irsa-anywhere-${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
}

/**
 * The target and writer of a temp file `atomicWrite` left behind (a run killed between write and
 * rename), or null for any other name.
 */
export function parseTempFileName(name: string): { target: string; pid: number } | null {
  const match = /^\.(.+)\.irsa-anywhere-(\d+)-[0-9a-f]{8}\.tmp$/.exec(name);
  return match === null ? null : { target: match[1] as string, pid: Number(match[2]) };
}

/**
 * Writes `data` to `path` atomically: a hidden temp file in the same directory (kubelet ignores
 * dot-files), fsync, rename over the target, fsync the directory. Keeps the existing file's mode and
 * owner; a new file gets `mode` (and so does an existing one with `forceMode`, e.g. a private key).
 * With `keepOwner: false` the file belongs to this process's user and group whoever owned it before.
 */
export async function atomicWrite(
  path: string,
  data: string | Uint8Array,
  mode = 0o644,
  options: { forceMode?: boolean; keepOwner?: boolean } = {},
): Promise<void> {
  const target = resolve(path);
  const dir = dirname(target);
  let finalMode = mode;
  let owner: { uid: number; gid: number } | undefined;
  try {
    const stat = await fs.stat(target);
    if (options.forceMode !== true) finalMode = stat.mode & 0o7777;
    owner = { uid: stat.uid, gid: stat.gid };
  } catch (error) {
    if (errnoOf(error) !== 'ENOENT') throw error;
  }
  const temp = join(dir, tempFileName(basename(target)));
  try {
    const handle = await fs.open(temp, 'wx', finalMode);
    try {
      await handle.writeFile(data);
      await handle.chmod(finalMode);
      const uid = process.geteuid?.();
      const gid = process.getegid?.();
      if (options.keepOwner === false) {
        // Ours, explicitly: not a previous file's owner, not a setgid directory's group.
        if (uid !== undefined && gid !== undefined) await handle.chown(uid, gid);
      } else if (owner !== undefined && (owner.uid !== uid || owner.gid !== gid)) {
        await handle.chown(owner.uid, owner.gid);
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temp, target);
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw new IrsaError(
      'APISERVER_WRITE_FAILED',
      `Could not write ${target} (${errnoOf(error) ?? (error instanceof Error ? error.message : 'error')}); the file is unchanged.`,
      'Check permissions and free space in that directory, then run again.',
      { cause: error },
    );
  }
  const dirHandle = await fs.open(dir, 'r');
  try {
    await dirHandle.sync();
  } finally {
    await dirHandle.close();
  }
}

/** Backup file name prefix for a config path: its absolute path with "/" turned into "_". */
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
  await fs.mkdir(backupDir, { recursive: true, mode: 0o700 });
  const backup = join(backupDir, `${backupPrefix(path)}${stamp(now)}.bak`);
  await atomicWrite(backup, current, 0o600);
  return backup;
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
 * Restores the newest backup of `path` atomically. The file being replaced is kept as a
 * `.rolled-back` copy, and the restored backup is renamed `.restored`, so a second rollback goes one
 * step further back instead of toggling.
 */
export async function rollbackFile(
  path: string,
  backupDir: string,
  now: Date,
): Promise<{ restored: string; saved: string | null }> {
  const backup = await latestBackup(path, backupDir);
  if (backup === null) {
    throw new IrsaError(
      'APISERVER_NO_BACKUP',
      `No backup of ${resolve(path)} in ${backupDir}.`,
      'Pass the --backup-dir that configure used, or restore the file by hand.',
    );
  }
  await assertWritable(path);
  let saved: string | null = null;
  const current = await readConfig(path, true);
  if (current !== null) {
    saved = join(backupDir, `${backupPrefix(path)}${stamp(now)}.rolled-back`);
    await atomicWrite(saved, current, 0o600);
  }
  await atomicWrite(path, await fs.readFile(backup));
  await fs.rename(backup, backup.replace(/\.bak$/, '.restored'));
  return { restored: backup, saved };
}
