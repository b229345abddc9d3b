/**
 * The signer's listening address: a Unix socket path or an abstract socket (`@name`), and the
 * safe handling of its file. kube-apiserver reaches the signer only through this socket, and
 * anyone who can connect can mint service-account tokens, so the socket is 0600 in a 0700 dir.
 *
 * The directory is the fence: whoever can write it can unlink the socket and bind their own in its
 * place, and kube-apiserver (root) then sends every token request there. So the signer refuses to
 * start unless the directory is a real directory (not a symlink), owned by the signer's user or
 * root, and not writable by group or others (systemd's `RuntimeDirectoryMode=0700` makes it so).
 *
 * The socket file is created by `bind()`. The process umask is 0177 for the duration of the bind,
 * so the file is born 0600 with no window in which it is wider. It is never chmod'ed afterwards: a
 * socket cannot be opened to chmod it through a file descriptor, and chmod by path follows
 * symlinks. Instead `lstat` confirms that the path is our socket, 0600. The umask is process-wide,
 * which is safe here because the signer binds at startup before it does anything else. Abstract sockets have no file and no permissions: any process in the same network
 * namespace can connect, so prefer a path unless the namespace is private to kube-apiserver.
 */
import { lstat, mkdir, unlink } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { dirname, isAbsolute } from 'node:path';
import { IrsaError } from '#core/errors.ts';

/** Default socket path, as kube-apiserver is configured by `apiserver configure`. */
export const DEFAULT_SOCKET = '/run/irsa-anywhere/signer.sock';

/** A parsed `--socket` value. */
export type SocketAddress =
  | { kind: 'path'; path: string; grpcTarget: string }
  | { kind: 'abstract'; name: string; grpcTarget: string };

/**
 * Parses `--socket`: an absolute path, `unix:///path`, or `@name` (abstract, Linux). Throws
 * `CONFIG_SOCKET_INVALID` otherwise.
 */
export function parseSocket(value: string): SocketAddress {
  if (value.startsWith('@')) {
    const name = value.slice(1);
    if (name.length === 0 || name.length > 100) {
      throw new IrsaError(
        'CONFIG_SOCKET_INVALID',
        `Abstract socket name "${value}" must be 1-100 characters after "@".`,
        'Pass --socket @irsa-anywhere-signer, or a path.',
      );
    }
    // grpc-js 1.x has no `unix-abstract:` scheme; a `unix:` path starting with NUL is Linux's
    // abstract namespace to Node's net module, on both the server and the client side.
    return { kind: 'abstract', name, grpcTarget: `unix:\0${name}` };
  }
  const path = value.startsWith('unix://') ? value.slice('unix://'.length) : value;
  if (!isAbsolute(path) || Buffer.byteLength(path) > 107) {
    throw new IrsaError(
      'CONFIG_SOCKET_INVALID',
      `Socket path "${value}" must be absolute and at most 107 bytes.`,
      `Pass --socket ${DEFAULT_SOCKET} (or @name for an abstract socket).`,
    );
  }
  return { kind: 'path', path, grpcTarget: `unix://${path}` };
}

/** True when something accepts connections on the Unix socket at `path`. */
export function socketAnswers(path: string, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ path });
    const done = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(timeoutMs, () => done(true)); // accepted but silent: treat as live
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** The user the signer runs as (effective uid); injectable for tests. */
const effectiveUid = (): number => process.geteuid?.() ?? 0;

/**
 * Refuses (`SIGNER_SOCKET_DIR_UNSAFE`) a socket directory another user could write: a symlink,
 * owned by anyone but the signer's user or root, or writable by group or others. Returns its mode.
 */
export async function checkSocketDir(dir: string, uid: number = effectiveUid()): Promise<number> {
  const info = await lstat(dir);
  const mode = info.mode & 0o7777;
  const problem = info.isSymbolicLink()
    ? 'a symlink'
    : !info.isDirectory()
      ? 'not a directory'
      : info.uid !== uid && info.uid !== 0
        ? `owned by uid ${info.uid}, not the signer's uid ${uid} or root`
        : (mode & 0o022) !== 0
          ? `writable by group or others (mode 0${mode.toString(8)})`
          : undefined;
  if (problem !== undefined) {
    throw new IrsaError(
      'SIGNER_SOCKET_DIR_UNSAFE',
      `The socket directory ${dir} is ${problem}; another local user could replace the socket.`,
      "Use a directory owned by the signer's user (or root) with mode 0700, e.g. the default /run/irsa-anywhere (systemd RuntimeDirectory).",
    );
  }
  return mode & 0o777;
}

/**
 * Confirms after `bind()` that `path` is the socket this process made, 0600, without following a
 * symlink. Returns its inode (to remove only our own socket at shutdown).
 */
export async function checkBoundSocket(path: string, uid: number = effectiveUid()): Promise<number> {
  const info = await lstat(path);
  if (!info.isSocket() || info.uid !== uid || (info.mode & 0o777) !== 0o600) {
    throw new IrsaError(
      'SIGNER_SOCKET_BIND_FAILED',
      `${path} is not the 0600 socket the signer just bound (mode 0${(info.mode & 0o7777).toString(8)}, uid ${info.uid}).`,
      'Check that no other process writes the socket directory, then start the signer again.',
    );
  }
  return info.ino;
}

/** Creates the socket directory 0700; a user who may not (e.g. /run as non-root) gets the way out. */
async function makeSocketDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new IrsaError(
      'SIGNER_SOCKET_BIND_FAILED',
      `Cannot create the socket directory ${dir} (${code}).`,
      'Run the signer as root, as its systemd unit does, or pass --socket in a directory you own, e.g. --socket /tmp/irsa-kind/signer.sock (docs/signer.md, kind).',
      { cause: error },
    );
  }
}

/**
 * Makes `path` ready to bind: creates the parent directory 0700 when missing, refuses one that
 * another user could write (`checkSocketDir`; returns its mode, so a directory others can read
 * can be warned about), removes a
 * stale socket left by a crashed signer. Refuses (`SIGNER_SOCKET_IN_USE`) when a live server
 * answers on it, and (`SIGNER_SOCKET_NOT_A_SOCKET`) when the path is anything but a socket.
 */
export async function prepareSocketPath(path: string): Promise<{ replacedStale: boolean; dirMode: number }> {
  await makeSocketDir(dirname(path));
  const dirMode = await checkSocketDir(dirname(path));
  let existing: Awaited<ReturnType<typeof lstat>>;
  try {
    existing = await lstat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { replacedStale: false, dirMode };
    throw error;
  }
  if (!existing.isSocket()) {
    throw new IrsaError(
      'SIGNER_SOCKET_NOT_A_SOCKET',
      `${path} exists and is not a socket; refusing to replace it.`,
      'Remove or move that file yourself, or pass another --socket path.',
    );
  }
  if (await socketAnswers(path)) {
    throw new IrsaError(
      'SIGNER_SOCKET_IN_USE',
      `Another server is listening on ${path}.`,
      'Stop the other signer (systemctl stop irsa-anywhere-signer) or pass another --socket path.',
    );
  }
  await unlink(path);
  return { replacedStale: true, dirMode };
}

/**
 * Removes the socket file at shutdown if it is still the socket this process bound (same inode).
 * libuv normally unlinks it already when the server closes; this covers a forced shutdown. Never
 * throws. (libuv unlinks by path, so two signers must never share a path: `prepareSocketPath`
 * refuses to start beside a live one.)
 */
export async function removeSocket(path: string, inode?: number): Promise<void> {
  try {
    const stat = await lstat(path);
    if (stat.isSocket() && (inode === undefined || stat.ino === inode)) await unlink(path);
  } catch {
    // Already gone (grpc-js/libuv unlinks on close) or not ours to remove.
  }
}
