/**
 * Issue 13: `rotate` (local), `key-sync install-timer` and `apiserver rollback` accept --dry-run and
 * write nothing with it (key-sync's own pass is covered in test/scripts/lib/key-sync/sync.test.ts,
 * `signer install` in test/scripts/commands/signer-install-files.test.ts).
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startLocalIssuer } from '#scripts/lib/local-issuer.ts';
import { runCli } from '../support/run-cli.ts';

/** Every file under `dir` with a digest of its content and its mtime: any write changes it. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of await readdir(dir, { recursive: true })) {
    const path = join(dir, name);
    const info = await stat(path);
    if (!info.isFile()) continue;
    out[name] = `${createHash('sha256')
      .update(await readFile(path))
      .digest('hex')} ${info.mtimeMs}`;
  }
  return out;
}

describe('--dry-run writes nothing', () => {
  it('rotate --now --dry-run (local) prints the plan and leaves the directory as it was', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'irsa-dry-'));
    await (await startLocalIssuer({ dir, host: '127.0.0.1', port: 0 })).close();
    const before = await snapshot(dir);
    const result = await runCli('rotate', '--dir', dir, '--now', '--dry-run');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/create/);
    expect(await snapshot(dir)).toEqual(before);
  });

  it('rotate --dry-run --stack is refused (the stack would really rotate)', async () => {
    const result = await runCli('rotate', '--stack', 'prod', '--dry-run');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error USAGE_CONFLICT: /);
  });

  it('key-sync install-timer --write --dry-run', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'irsa-dry-units-'));
    const args = ['key-sync', 'install-timer', '--state', 's3://b/keyset.json', '--cluster', 'prod'];
    const result = await runCli(
      ...args,
      '--write',
      '--unit-dir',
      dir,
      '--backup-dir',
      join(dir, 'b'),
      '--dry-run',
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('+[Timer]');
    expect(await readdir(dir)).toEqual([]);
    const real = await runCli(...args, '--write', '--unit-dir', dir, '--backup-dir', join(dir, 'b'));
    expect(real.code).toBe(0);
    expect((await readdir(dir)).sort()).toEqual([
      'irsa-anywhere-key-sync.service',
      'irsa-anywhere-key-sync.timer',
    ]);
    const again = await runCli(...args, '--write', '--unit-dir', dir, '--backup-dir', join(dir, 'b'));
    expect(again.stdout).toContain('unchanged');
  });

  it('apiserver rollback --dry-run', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'irsa-dry-rollback-'));
    const file = join(dir, 'kube-apiserver.yaml');
    const backups = join(dir, 'backups');
    await writeFile(file, 'v1\n');
    const { backupFile } = await import('#scripts/lib/file-change.ts');
    await backupFile(file, backups, new Date('2026-11-22T10:00:00Z'));
    await writeFile(file, 'v2\n');
    const before = await snapshot(dir);
    const result = await runCli(
      'apiserver',
      'rollback',
      '--file',
      file,
      '--backup-dir',
      backups,
      '--dry-run',
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('+v1');
    expect(await snapshot(dir)).toEqual(before);
  });
});
