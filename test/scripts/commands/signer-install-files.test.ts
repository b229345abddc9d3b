/**
 * Issue 13: `signer install --static-pod --write` into a manifests directory leaves nothing but the
 * manifest there. kubelet runs every file in /etc/kubernetes/manifests as a static pod, so the old
 * `<path>.bak` beside the file would have started a second signer pod.
 */
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../support/run-cli.ts';

const KMS = ['--backend', 'kms', '--state', 's3://irsa-state-prod/keyset.json', '--region', 'eu-west-1'];
const POD = [
  'signer',
  'install',
  '--distro',
  'kubeadm',
  ...KMS,
  '--static-pod',
  '--image',
  'r.example.com/i:1',
];

describe('signer install --static-pod --write', () => {
  it('a changed manifest is backed up in --backup-dir, never beside it', async () => {
    const root = await mkdtemp(join(tmpdir(), 'irsa-manifests-'));
    const manifests = join(root, 'manifests');
    const backups = join(root, 'backups');
    await mkdir(manifests);
    const path = join(manifests, 'irsa-anywhere-signer.yaml');
    await writeFile(path, '# an older signer pod\n');
    const result = await runCli(...POD, '--write', path, '--backup-dir', backups);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(await readdir(manifests)).toEqual(['irsa-anywhere-signer.yaml']);
    const [backup] = await readdir(backups);
    expect(backup).toMatch(/irsa-anywhere-signer\.yaml\..+\.bak$/);
    expect(await readFile(join(backups, backup as string), 'utf8')).toBe('# an older signer pod\n');
    expect(result.stdout).toContain(`previous version kept in ${join(backups, backup as string)}`);
  });

  it('--dry-run writes nothing, not even a backup', async () => {
    const root = await mkdtemp(join(tmpdir(), 'irsa-manifests-'));
    const path = join(root, 'irsa-anywhere-signer.yaml');
    await writeFile(path, '# old\n');
    const result = await runCli(...POD, '--write', path, '--backup-dir', join(root, 'b'), '--dry-run');
    expect(result.code).toBe(0);
    expect(await readdir(root)).toEqual(['irsa-anywhere-signer.yaml']);
    expect(await readFile(path, 'utf8')).toBe('# old\n');
  });
});
