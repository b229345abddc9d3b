/** Atomic writes, backups and rollback on a real file system. */
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
import { atomicWrite, backupFile, latestBackup, rollbackFile } from '#scripts/lib/apiserver/files.ts';

function dir(): string {
  return mkdtempSync(join(tmpdir(), 'files-'));
}

describe('atomicWrite', () => {
  it('keeps the mode of an existing file, unless told to force it', async () => {
    const d = dir();
    const file = join(d, 'a.yaml');
    writeFileSync(file, 'old');
    chmodSync(file, 0o640);
    await atomicWrite(file, 'new');
    expect(readFileSync(file, 'utf8')).toBe('new');
    expect(statSync(file).mode & 0o777).toBe(0o640);
    await atomicWrite(file, 'key', 0o600, { forceMode: true });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(d)).toEqual(['a.yaml']);
  });

  it('leaves no temp file behind and reports APISERVER_WRITE_FAILED when the rename fails', async () => {
    const d = dir();
    const target = join(d, 'is-a-directory');
    mkdirSync(target);
    writeFileSync(join(target, 'inside'), 'x');
    await expect(atomicWrite(target, 'data')).rejects.toSatisfy((e: unknown) =>
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
    await rollbackFile(file, backups, new Date('2026-11-22T12:00:00.000Z'));
    expect(readFileSync(file, 'utf8')).toBe('v2');
    await rollbackFile(file, backups, new Date('2026-11-22T12:01:00.000Z'));
    expect(readFileSync(file, 'utf8')).toBe('v1');
    await expect(rollbackFile(file, backups, new Date())).rejects.toSatisfy((e: unknown) =>
      isIrsaError(e, 'APISERVER_NO_BACKUP'),
    );
    expect(statSync(backups).mode & 0o777).toBe(0o700);
  });
});
