/** The file-change module on a real file system: atomic writes, backups, rollback, dry run, idempotence. */
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isIrsaError } from '#core/errors.ts';
import {
  atomicWrite,
  backupFile,
  changeFiles,
  latestBackup,
  rollbackFile,
} from '#scripts/lib/file-change.ts';

const roll = (backupDir: string, at: string, dryRun = false) => ({
  backupDir,
  now: new Date(at),
  dryRun,
  write: { mode: 0o600 },
});

function dir(): string {
  return mkdtempSync(join(tmpdir(), 'files-'));
}

describe('atomicWrite', () => {
  it('sets the mode it is given, never the one of the file it replaces', async () => {
    const d = dir();
    const file = join(d, 'a.yaml');
    writeFileSync(file, 'old');
    chmodSync(file, 0o666);
    await atomicWrite(file, 'new', { mode: 0o644 });
    expect(readFileSync(file, 'utf8')).toBe('new');
    expect(statSync(file).mode & 0o777).toBe(0o644);
    await atomicWrite(file, 'key', { mode: 0o600 });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(d)).toEqual(['a.yaml']);
  });

  it('leaves no temp file behind and reports APISERVER_WRITE_FAILED when the rename fails', async () => {
    const d = dir();
    const target = join(d, 'is-a-directory');
    mkdirSync(target);
    writeFileSync(join(target, 'inside'), 'x');
    await expect(atomicWrite(target, 'data', { mode: 0o644 })).rejects.toSatisfy((e: unknown) =>
      isIrsaError(e, 'APISERVER_WRITE_FAILED'),
    );
    expect(readdirSync(d)).toEqual(['is-a-directory']);
  });
});

describe('backups and rollback', () => {
  it('rolls back one step at a time, newest backup first', async () => {
    const d = dir();
    const file = join(d, 'kube-apiserver.yaml');
    const backups = join(d, 'backups');
    writeFileSync(file, 'v1');
    await backupFile(file, backups, new Date('2026-11-22T10:00:00.000Z'));
    writeFileSync(file, 'v2');
    await backupFile(file, backups, new Date('2026-11-22T11:00:00.000Z'));
    writeFileSync(file, 'v3');
    expect(await latestBackup(file, backups)).toMatch(/2026-11-22T11-00-00\.000Z\.bak$/);
    await rollbackFile(file, roll(backups, '2026-11-22T12:00:00.000Z'));
    expect(readFileSync(file, 'utf8')).toBe('v2');
    await rollbackFile(file, roll(backups, '2026-11-22T12:01:00.000Z'));
    expect(readFileSync(file, 'utf8')).toBe('v1');
    await expect(rollbackFile(file, roll(backups, '2026-11-22T12:02:00.000Z'))).rejects.toSatisfy(
      (e: unknown) => isIrsaError(e, 'APISERVER_NO_BACKUP'),
    );
    expect(statSync(backups).mode & 0o777).toBe(0o700);
  });
});

describe('changeFiles', () => {
  const now = new Date('2026-11-22T10:00:00.000Z');

  it('dry run: a diff, and nothing written or backed up', async () => {
    const d = dir();
    const file = join(d, 'unit.service');
    writeFileSync(file, 'old\n');
    const [result] = await changeFiles([{ path: file, content: 'new\n', write: { mode: 0o644 } }], {
      dryRun: true,
      backupDir: join(d, 'backups'),
      now,
    });
    expect(result).toMatchObject({ changed: true, written: false });
    expect(result?.diff).toContain('-old');
    expect(result?.diff).toContain('+new');
    expect(readFileSync(file, 'utf8')).toBe('old\n');
    expect(readdirSync(d)).toEqual(['unit.service']);
  });

  it('a change is backed up in the backup directory only, then written with the given mode', async () => {
    const d = dir();
    const manifests = join(d, 'manifests');
    mkdirSync(manifests);
    const file = join(manifests, 'pod.yaml');
    writeFileSync(file, 'old\n');
    chmodSync(file, 0o666);
    const [result] = await changeFiles([{ path: file, content: 'new\n', write: { mode: 0o600 } }], {
      dryRun: false,
      backupDir: join(d, 'backups'),
      now,
    });
    expect(result?.backup).toMatch(/backups\/.*pod\.yaml\..*\.bak$/);
    expect(readdirSync(manifests)).toEqual(['pod.yaml']);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('a second run with the same content changes nothing (idempotent)', async () => {
    const d = dir();
    const file = join(d, 'same');
    writeFileSync(file, 'same');
    const before = statSync(file).mtimeMs;
    const [result] = await changeFiles([{ path: file, content: 'same', write: { mode: 0o644 } }], {
      dryRun: false,
      backupDir: join(d, 'backups'),
      now,
    });
    expect(result).toMatchObject({ changed: false, written: false, diff: '' });
    expect(statSync(file).mtimeMs).toBe(before);
    expect(readdirSync(d)).toEqual(['same']);
  });

  it('key material is never shown in a diff', async () => {
    const d = dir();
    const [result] = await changeFiles(
      [{ path: join(d, 'k'), content: 'SECRET', write: { mode: 0o600 }, secret: true }],
      { dryRun: true, backupDir: join(d, 'b'), now },
    );
    expect(result?.diff).not.toContain('SECRET');
  });

  it('rollback --dry-run restores nothing', async () => {
    const d = dir();
    const file = join(d, 'kube-apiserver.yaml');
    const backups = join(d, 'backups');
    writeFileSync(file, 'v1');
    await backupFile(file, backups, now);
    writeFileSync(file, 'v2');
    const result = await rollbackFile(file, roll(backups, '2026-11-22T12:00:00.000Z', true));
    expect(result.written).toBe(false);
    expect(readFileSync(file, 'utf8')).toBe('v2');
    expect(readdirSync(backups)).toHaveLength(1);
  });
});
