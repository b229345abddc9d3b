/**
 * The signer's listening address: a Unix socket path or an abstract socket (`@name`), and the
 * safe handling of its file. kube-apiserver reaches the signer only through this socket, and
 * anyone who can connect can mint service-account tokens, so the socket is 0600 in a 0700 dir.
 *
 * Permissions, and the race: the socket file is created by `bind()`. The process umask is set to
 * 0177 for the duration of the bind, so the file is born 0600 and there is no window in which it
 * is wider; it is then chmod'ed 0600 again (belt and braces) before the server starts serving.
 * The umask is process-wide, which is safe here because the signer binds at startup before it
 * does anything else. The parent directory (0700, systemd `RuntimeDirectoryMode=0700`) is the
 * second fence. Abstract sockets have no file and no permissions: any process in the same network
 * namespace can connect, so prefer a path unless the namespace is private to kube-apiserver.
 */
import { lstat, mkdir, stat, unlink } from 'node:fs/promises';
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

/**
 * Makes `path` ready to bind: creates the parent directory 0700 when missing (and reports the
 * mode of an existing one, so a group/world-accessible directory can be warned about), removes a
 * stale socket left by a crashed signer. Refuses (`SIGNER_SOCKET_IN_USE`) when a live server
 * answers on it, and (`SIGNER_SOCKET_NOT_A_SOCKET`) when the path is anything but a socket.
 */
export async function prepareSocketPath(path: string): Promise<{ replacedStale: boolean; dirMode: number }> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const dirMode = (await stat(dirname(path))).mode & 0o777;
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
