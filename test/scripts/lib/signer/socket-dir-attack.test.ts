/**
 * Attacks on the signer's socket directory by a local unprivileged user (run as `nobody` through
 * runuser; skipped loudly where that is not possible). Anyone who can connect to the signer's
 * socket can mint service-account tokens, and a root client (kube-apiserver) that connects to an
 * attacker's socket in its place hands over every token request.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmod, chown, lstat, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localBackend } from '#scripts/lib/signer/backends.ts';
import { connectSigner } from '#scripts/lib/signer/client.ts';
import { memoryLog } from '#scripts/lib/signer/log.ts';
import { startSigner } from '#scripts/lib/signer/run.ts';
import { writeLocalKeyset } from '#scripts/lib/signer/temp-signer.ts';

const NOBODY = 65534;
const canRunAsNobody =
  process.getuid?.() === 0 && spawnSync('runuser', ['-u', 'nobody', '--', 'true']).status === 0;
if (!canRunAsNobody) {
  console.warn('SKIPPED: not root or no runuser; the socket-directory attacks as another user did not run.');
}

let base: string;
let issuerDir: string;

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'irsa-socket-attack-'));
  await chmod(base, 0o755); // the attacker must be able to reach the directories below
  issuerDir = join(base, 'issuer');
  await writeLocalKeyset(issuerDir, [{ spec: 'ECC_NIST_P256', state: 'active' }]);
});
afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

const start = (socket: string) =>
  startSigner({ socket, backend: localBackend(issuerDir), log: memoryLog(), refresh: false });

/**
 * As nobody: removes the socket at `path` and listens there instead, answering every connection
 * with "hijacked". Resolves with what a root client then reads from `path` (or the attacker's
 * error when the swap failed).
 */
async function hijack(path: string): Promise<{ replaced: boolean; output: string }> {
  const script = `
    const fs = require('fs'), net = require('net');
    try { fs.unlinkSync(${JSON.stringify(path)}); } catch (e) { console.log('unlink: ' + e.code); process.exit(0); }
    const server = net.createServer((c) => c.end('hijacked'));
    server.listen(${JSON.stringify(path)}, () => console.log('listening'));
    setTimeout(() => process.exit(0), 5000);
  `;
  const child = spawn('runuser', ['-u', 'nobody', '--', process.execPath, '-e', script]);
  try {
    const first = await new Promise<string>((resolve) => {
      child.stdout.once('data', (data: Buffer) => resolve(data.toString().trim()));
      child.once('exit', () => resolve('exited'));
    });
    if (first !== 'listening') return { replaced: false, output: first };
    const read = await new Promise<string>((resolve) => {
      const socket = createConnection({ path });
      let text = '';
      socket.on('data', (data) => {
        text += data.toString();
      });
      socket.on('end', () => resolve(text));
      socket.on('error', (error) => resolve(String(error)));
    });
    return { replaced: true, output: `the root client connected to ${path} and read "${read}"` };
  } finally {
    child.kill();
  }
}

describe.skipIf(!canRunAsNobody)('socket directory attacks (as nobody)', () => {
  it('a socket directory others can write is refused, so no one can swap the socket', async () => {
    const open = join(base, 'open');
    await mkdir(open);
    await chmod(open, 0o777);
    const socket = join(open, 'signer.sock');
    // Before the fix the signer started here (with a warning) and the attack got through:
    // "the root client connected to .../open/signer.sock and read "hijacked"".
    const outcome = await start(socket).then(
      async (signer) => {
        const attack = await hijack(socket);
        await signer.close();
        return attack.output;
      },
      (error: unknown) => error,
    );
    expect(outcome).toMatchObject({ code: 'SIGNER_SOCKET_DIR_UNSAFE' });
  });

  it('a 0700 directory owned by another user is refused', async () => {
    const theirs = join(base, 'theirs');
    await mkdir(theirs, { mode: 0o700 });
    await chown(theirs, NOBODY, NOBODY);
    await expect(start(join(theirs, 'signer.sock'))).rejects.toMatchObject({
      code: 'SIGNER_SOCKET_DIR_UNSAFE',
    });
  });

  it('in its own 0700 directory the socket cannot be replaced, and the client reaches the signer', async () => {
    const own = join(base, 'own');
    const socket = join(own, 'signer.sock');
    const signer = await start(socket);
    try {
      expect((await lstat(own)).mode & 0o777).toBe(0o700);
      expect(await hijack(socket)).toMatchObject({ replaced: false });
      const client = connectSigner(socket);
      expect((await client.fetchKeys()).keys).toHaveLength(1);
      client.close();
    } finally {
      await signer.close();
    }
  });

  it('never follows a symlink at the socket path', async () => {
    const dir = join(base, 'link');
    await mkdir(dir, { mode: 0o700 });
    const target = join(base, 'target');
    await mkdir(target, { mode: 0o755 });
    const { symlink } = await import('node:fs/promises');
    await symlink(join(target, 'elsewhere.sock'), join(dir, 'signer.sock'));
    await expect(start(join(dir, 'signer.sock'))).rejects.toMatchObject({
      code: 'SIGNER_SOCKET_NOT_A_SOCKET',
    });
    expect((await lstat(join(dir, 'signer.sock'))).isSymbolicLink()).toBe(true);
  });
});
