/** Socket handling: permissions, stale sockets, live sockets, non-sockets, abstract names, cleanup. */
import { spawnSync } from 'node:child_process';
import { chmod, lstat, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localBackend } from '#scripts/lib/signer/backends.ts';
import { connectSigner } from '#scripts/lib/signer/client.ts';
import { memoryLog } from '#scripts/lib/signer/log.ts';
import { startSigner } from '#scripts/lib/signer/run.ts';
import { parseSocket, prepareSocketPath } from '#scripts/lib/signer/socket.ts';
import { writeLocalKeyset } from '#scripts/lib/signer/temp-signer.ts';

let dir: string;
let issuerDir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'irsa-signer-socket-'));
  issuerDir = join(dir, 'issuer');
  await writeLocalKeyset(issuerDir, [{ spec: 'ECC_NIST_P256', state: 'active' }]);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const start = (socket: string, log = memoryLog()) =>
  startSigner({ socket, backend: localBackend(issuerDir), log, refresh: false });

/** Leaves a socket file with no server behind it, as a SIGKILLed signer does. */
function staleSocket(path: string): void {
  const script = `require('net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`;
  spawnSync(process.execPath, ['-e', script]);
}

describe('parseSocket', () => {
  it('accepts absolute paths, unix:// URLs and @abstract names', () => {
    expect(parseSocket('/run/irsa-anywhere/signer.sock')).toEqual({
      kind: 'path',
      path: '/run/irsa-anywhere/signer.sock',
      grpcTarget: 'unix:///run/irsa-anywhere/signer.sock',
    });
    expect(parseSocket('unix:///run/x.sock')).toMatchObject({ kind: 'path', path: '/run/x.sock' });
    expect(parseSocket('@irsa-signer')).toEqual({
      kind: 'abstract',
      name: 'irsa-signer',
      grpcTarget: 'unix:\0irsa-signer',
    });
  });

  it.each(['relative/signer.sock', '@', `/${'x'.repeat(120)}`, ''])('refuses "%s"', (value) => {
    expect(() => parseSocket(value)).toThrow(expect.objectContaining({ code: 'CONFIG_SOCKET_INVALID' }));
  });
});

describe('socket file', () => {
  it('creates a missing parent directory 0700 and the socket 0600, and restores the umask', async () => {
    const socket = join(dir, 'new', 'deeper', 'signer.sock');
    const umask = process.umask();
    const signer = await start(socket);
    try {
      expect(process.umask()).toBe(umask);
      expect((await stat(join(dir, 'new', 'deeper'))).mode & 0o777).toBe(0o700);
      expect((await lstat(socket)).mode & 0o777).toBe(0o600);
    } finally {
      await signer.close();
    }
  });

  it('warns when an existing socket directory is open to other users, and still makes the socket 0600', async () => {
    const open = join(dir, 'open');
    await mkdir(open, { recursive: true, mode: 0o755 });
    await chmod(open, 0o755);
    const log = memoryLog();
    const signer = await start(join(open, 'signer.sock'), log);
    try {
      expect(log.events.find((e) => e.fields.code === 'SIGNER_SOCKET_DIR_OPEN')?.fields.dirMode).toBe('0755');
      expect((await lstat(join(open, 'signer.sock'))).mode & 0o777).toBe(0o600);
    } finally {
      await signer.close();
    }
  });

  it('refuses a socket directory that group or others can write, or that is a symlink', async () => {
    const shared = join(dir, 'shared');
    await mkdir(shared, { recursive: true });
    await chmod(shared, 0o770);
    await expect(start(join(shared, 'signer.sock'))).rejects.toMatchObject({
      code: 'SIGNER_SOCKET_DIR_UNSAFE',
    });
    await chmod(shared, 0o1777);
    await expect(start(join(shared, 'signer.sock'))).rejects.toMatchObject({
      code: 'SIGNER_SOCKET_DIR_UNSAFE',
    });
    const linked = join(dir, 'linked');
    await symlink(join(dir, 'new'), linked);
    await expect(start(join(linked, 'signer.sock'))).rejects.toMatchObject({
      code: 'SIGNER_SOCKET_DIR_UNSAFE',
    });
  });

  it('removes the socket on shutdown', async () => {
    const socket = join(dir, 'close', 'signer.sock');
    const signer = await start(socket);
    expect((await lstat(socket)).isSocket()).toBe(true);
    await signer.close();
    await expect(lstat(socket)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('replaces a stale socket that nothing answers on', async () => {
    await mkdir(join(dir, 'stale'), { recursive: true });
    const socket = join(dir, 'stale', 'signer.sock');
    staleSocket(socket);
    expect((await lstat(socket)).isSocket()).toBe(true);
    const log = memoryLog();
    const signer = await start(socket, log);
    const client = connectSigner(socket);
    try {
      expect(await client.metadata()).toEqual({ max_token_expiration_seconds: 86_400 });
      expect(log.events.some((e) => e.msg === 'replaced a stale socket')).toBe(true);
    } finally {
      client.close();
      await signer.close();
    }
  });

  it('refuses to take over a socket a live server answers on', async () => {
    await mkdir(join(dir, 'live'), { recursive: true });
    const socket = join(dir, 'live', 'signer.sock');
    const other = createServer();
    await new Promise<void>((resolve) => other.listen(socket, resolve));
    try {
      await expect(start(socket)).rejects.toMatchObject({ code: 'SIGNER_SOCKET_IN_USE' });
      expect((await lstat(socket)).isSocket()).toBe(true);
    } finally {
      await new Promise((resolve) => other.close(resolve));
    }
  });

  it('refuses to replace a path that is not a socket', async () => {
    await mkdir(join(dir, 'file'), { recursive: true });
    const path = join(dir, 'file', 'signer.sock');
    await writeFile(path, 'precious');
    await expect(prepareSocketPath(path)).rejects.toMatchObject({ code: 'SIGNER_SOCKET_NOT_A_SOCKET' });
    await expect(start(path)).rejects.toMatchObject({ code: 'SIGNER_SOCKET_NOT_A_SOCKET' });
    expect(await readFile(path, 'utf8')).toBe('precious');
  });

  it('a socket directory it cannot create is one coded line naming --socket, not UNEXPECTED', async () => {
    // A non-root user following the defaults hit "UNEXPECTED: EACCES ... mkdir '/run/irsa-anywhere'";
    // root cannot be refused a mkdir, so a parent that is a file stands in for it (ENOTDIR).
    await writeFile(join(dir, 'plain-file'), '');
    const path = join(dir, 'plain-file', 'run', 'signer.sock');
    await expect(prepareSocketPath(path)).rejects.toMatchObject({
      code: 'SIGNER_SOCKET_BIND_FAILED',
      message: expect.stringContaining(
        `Cannot create the socket directory ${join(dir, 'plain-file', 'run')}`,
      ),
      fix: expect.stringContaining('--socket'),
    });
  });
});

describe.skipIf(process.platform !== 'linux')('abstract socket', () => {
  it('serves on an abstract socket @name, in the v1alpha1 package too', async () => {
    const name = `@irsa-anywhere-test-${process.pid}-${Date.now()}`;
    const signer = await start(name);
    const client = connectSigner(name, 'v1alpha1');
    try {
      expect((await client.fetchKeys()).keys).toHaveLength(1);
    } finally {
      client.close();
      await signer.close();
    }
  });
});
