/**
 * The key directory of key-sync: 0700, a real directory of its own user (or root), and clear of the
 * temp files a killed run leaves behind. The private key in it is what signs every service-account
 * token, so nothing here follows a symlink or trusts a file another user put there.
 */
import { constants, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { parseTempFileName } from '#adapters/local/atomic-file.ts';
import { IrsaError } from '#core/errors.ts';

function unsafe(dir: string, problem: string): IrsaError {
  return new IrsaError(
    'KEY_SYNC_DIR_UNSAFE',
    `The key directory ${dir} is ${problem}; key-sync writes private keys only into a directory of its own user or root.`,
    `Remove the symlink or fix the owner (chown root:root ${dir}), or pass another --key-dir.`,
  );
}

/**
 * Creates `dir` 0700 if missing; otherwise opens it without following a symlink, refuses one owned
 * by another user (`KEY_SYNC_DIR_UNSAFE`) and sets it to exactly 0700 through the descriptor.
 */
export async function prepareKeyDir(dir: string, uid: number = process.geteuid?.() ?? 0): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw unsafe(dir, 'a symlink');
    if (code === 'ENOTDIR') throw unsafe(dir, 'not a directory');
    throw error;
  }
  try {
    const info = await handle.stat();
    if (info.uid !== uid && info.uid !== 0) throw unsafe(dir, `owned by uid ${info.uid}`);
    if ((info.mode & 0o7777) !== 0o700) await handle.chmod(0o700);
  } finally {
    await handle.close();
  }
}

/** True while a process with this pid exists (EPERM: it exists, owned by someone else). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the temp files of `targets` (file names in `dir`) that a killed run left: only names
 * atomicWrite makes, and only when their writer is gone, so a run in progress keeps its own.
 */
export async function removeStaleTemps(dir: string, targets: readonly string[]): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await fs.readdir(dir)) {
    const temp = parseTempFileName(name);
    if (temp === null || !targets.includes(temp.target) || alive(temp.pid)) continue;
    await fs.rm(join(dir, name), { force: true });
    removed.push(name);
  }
  return removed;
}
