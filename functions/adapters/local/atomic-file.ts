/**
 * The one atomic file writer of the tree, for everything this project puts on a disk (local-mode
 * state, node files written by the CLI): write a hidden temporary file beside the target, set its
 * mode (and owner, when given) explicitly, fsync, rename it over the target, fsync the directory.
 * A crash leaves the old file or the new one, never half of either. Mode and owner are never
 * inherited from a file being replaced: what the caller asks for is what lands on disk.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

/** How a file is written. */
export interface AtomicWriteOptions {
  /** File mode, applied exactly (not filtered by the umask): 0600 for key material. */
  mode: number;
  /** Owner to set; absent means the running user (a root service writes root-owned files). */
  owner?: { uid: number; gid: number };
  /** Mode of a parent directory that has to be created. */
  dirMode?: number;
}

/**
 * The target and writer's pid of a temp file `atomicWriteFile` left behind (a process killed
 * between write and rename), or null for any other name; callers remove their own stale ones.
 */
export function parseTempFileName(name: string): { target: string; pid: number } | null {
  const match = /^\.(.+)\.(\d+)-[0-9a-f]{12}\.tmp$/.exec(name);
  return match === null ? null : { target: match[1] as string, pid: Number(match[2]) };
}

/**
 * Writes `data` to `path` atomically. Creates the parent directory (with `dirMode`, default 0755)
 * when it is missing. The temp file is a dot-file, which kubelet and systemd ignore.
 */
export async function atomicWriteFile(
  path: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions,
): Promise<void> {
  const target = resolve(path);
  const dir = dirname(target);
  await mkdir(dir, { recursive: true, mode: options.dirMode ?? 0o755 });
  const temp = join(dir, `.${basename(target)}.${process.pid}-${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(temp, 'wx', options.mode);
    try {
      await handle.writeFile(data);
      // The mode given to open() is filtered by the umask; set it exactly.
      await handle.chmod(options.mode);
      if (options.owner !== undefined) await handle.chown(options.owner.uid, options.owner.gid);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  // The rename itself is durable only once the directory entry is flushed.
  const dirHandle = await open(dir, 'r');
  try {
    await dirHandle.sync();
  } finally {
    await dirHandle.close();
  }
}
