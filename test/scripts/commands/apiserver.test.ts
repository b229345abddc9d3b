/**
 * `apiserver configure|rollback` through commander, on real files: dry run leaves a real kubeadm
 * manifest byte-identical, a real run backs up and writes atomically keeping the mode, a second run
 * says "no changes", rollback restores, and every bad input exits non-zero leaving the file as it was.
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { register } from '#scripts/commands/apiserver.ts';
import { runRegistered } from '../../support/run-cli.ts';

const FIXTURES = join(import.meta.dirname, '../../fixtures/apiserver');
const REAL = readFileSync(join(FIXTURES, 'kubeadm-real-1.34-kms.in.yaml'), 'utf8');
const ISSUER = 'https://oidc.example.com/prod';
const BIN = join(import.meta.dirname, '../../../scripts/bin.mjs');

const run = (args: string[]) => runRegistered(register, args);
/**
 * No signer runs here, and REAL lists /etc/kubernetes/pki/sa.pub, which kms mode removes: these
 * tests are about the file edit, so they skip the signer checks (test/scripts/new-user/kms-migration.test.ts
 * covers them).
 */
const UNCHECKED = ['--skip-preflight', '--allow-dropping-old-tokens'];

function workdir(content: string, mode = 0o600): { dir: string; file: string; backups: string } {
  const dir = mkdtempSync(join(tmpdir(), 'apiserver-'));
  const file = join(dir, 'kube-apiserver.yaml');
  writeFileSync(file, content);
  chmodSync(file, mode);
  return { dir, file, backups: join(dir, 'backups') };
}

function configure(file: string, backups: string, ...extra: string[]): string[] {
  return [
    'apiserver',
    'configure',
    '--distro',
    'kubeadm',
    '--issuer',
    ISSUER,
    '--file',
    file,
    '--backup-dir',
    backups,
    ...extra,
  ];
}

describe('apiserver configure', () => {
  it('dry run on a real kubeadm 1.34 manifest prints a unified diff and leaves the file byte-identical', async () => {
    const { dir, file, backups } = workdir(REAL);
    const before = statSync(file);
    const result = await run(configure(file, backups, '--dry-run', ...UNCHECKED));
    expect(result.code).toBe(0);
    expect(result.out).toContain(`--- ${file}\tcurrent`);
    expect(result.out).toContain(`+    - --service-account-issuer=${ISSUER}`);
    expect(result.out).toContain('-    - --service-account-key-file=/etc/kubernetes/pki/sa.pub');
    expect(result.out).toContain('dry run: nothing was written');
    expect(readFileSync(file, 'utf8')).toBe(REAL);
    expect(statSync(file).mtimeMs).toBe(before.mtimeMs);
    expect(existsSync(backups)).toBe(false);
    expect(readdirSync(dir)).toEqual(['kube-apiserver.yaml']);
  });

  it('--json reports the changes', async () => {
    const { file, backups } = workdir(REAL);
    const result = await run(configure(file, backups, '--dry-run', '--json', ...UNCHECKED));
    const report = JSON.parse(result.out) as {
      changed: boolean;
      changes: Array<{ target: string }>;
      diff: string;
    };
    expect(report.changed).toBe(true);
    expect(report.changes.map((c) => c.target)).toContain('--service-account-signing-endpoint');
    expect(report.diff).toContain('@@');
  });

  it('writes atomically with a backup, sets the mode (0600, never the old file mode), and a second run reports no changes', async () => {
    const { dir, file, backups } = workdir(REAL, 0o644);
    const first = await run(configure(file, backups, ...UNCHECKED));
    expect(first.code, first.err).toBe(0);
    const written = readFileSync(file, 'utf8');
    expect(written).toBe(readFileSync(join(FIXTURES, 'kubeadm-real-1.34-kms.out.yaml'), 'utf8'));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const [backup] = readdirSync(backups);
    expect(backup).toMatch(/kube-apiserver\.yaml\.\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.\d{3}Z\.bak$/);
    expect(readFileSync(join(backups, backup ?? ''), 'utf8')).toBe(REAL);
    expect(readdirSync(dir).sort()).toEqual(['backups', 'kube-apiserver.yaml']);

    const second = await run(configure(file, backups, ...UNCHECKED));
    expect(second.code).toBe(0);
    expect(second.out).toContain('no changes');
    expect(readFileSync(file, 'utf8')).toBe(written);
    expect(readdirSync(backups)).toHaveLength(1);

    const dry = await run(['apiserver', 'rollback', '--file', file, '--backup-dir', backups, '--dry-run']);
    expect(dry.code, dry.err).toBe(0);
    expect(dry.out).toContain('dry run, nothing written');
    expect(readFileSync(file, 'utf8')).toBe(written);
    expect(readdirSync(backups)).toHaveLength(1);

    const rollback = await run(['apiserver', 'rollback', '--file', file, '--backup-dir', backups]);
    expect(rollback.code, rollback.err).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(REAL);
    const again = await run(['apiserver', 'rollback', '--file', file, '--backup-dir', backups]);
    expect(again.code).not.toBe(0);
    expect(again.err).toContain('APISERVER_NO_BACKUP');
  });

  it('refuses kms mode when no signer listens, and file mode when key files are missing', async () => {
    const { file, backups, dir } = workdir(REAL);
    const kms = await run(configure(file, backups, '--signer-socket', join(dir, 'none.sock')));
    expect(kms.code).not.toBe(0);
    expect(kms.err).toContain('APISERVER_SIGNER_NOT_RUNNING');
    const fileMode = await run(configure(file, backups, '--mode', 'file', '--key-dir', join(dir, 'keys')));
    expect(fileMode.code).not.toBe(0);
    expect(fileMode.err).toContain('APISERVER_KEY_FILES_MISSING');
    expect(readFileSync(file, 'utf8')).toBe(REAL);
    expect(existsSync(backups)).toBe(false);
  });

  it('prints a Talos patch when no --file is given', async () => {
    const result = await run([
      'apiserver',
      'configure',
      '--distro',
      'talos',
      '--issuer',
      ISSUER,
      '--kubernetes-version',
      'v1.34.0',
    ]);
    expect(result.code).toBe(0);
    expect(result.out).toContain(`service-account-issuer: ${ISSUER}`);
  });

  const bad: Array<[string, string, string[]]> = [
    ['not YAML', 'kubeadm-bad-not-yaml', []],
    ['not a kube-apiserver pod', 'kubeadm-bad-not-a-pod', []],
    ['conflicting hand-set flags', 'kubeadm-bad-conflicting-flags', []],
    ['an http issuer', 'kubeadm-real-1.34-kms', ['--issuer', 'http://oidc.example.com/prod']],
    ['an unknown distro', 'kubeadm-real-1.34-kms', ['--distro', 'minikube']],
    ['kms mode on kube-apiserver 1.31', 'kubeadm-bad-old-k8s-kms', []],
  ];
  for (const [what, fixture, extra] of bad) {
    it(`${what}: clear error, non-zero exit, file untouched`, async () => {
      const content = readFileSync(join(FIXTURES, `${fixture}.in.yaml`), 'utf8');
      const { dir, file, backups } = workdir(content);
      const result = await run([...configure(file, backups, '--skip-preflight'), ...extra]);
      expect(result.code).not.toBe(0);
      expect(result.err).toMatch(/^error [A-Z_]+: .+ — .+/);
      expect(readFileSync(file, 'utf8')).toBe(content);
      expect(readdirSync(dir)).toEqual(['kube-apiserver.yaml']);
    });
  }

  const asNobody =
    spawnSync('runuser', ['-u', 'nobody', '--', 'true']).status === 0 && process.getuid?.() === 0;
  if (!asNobody)
    console.warn(
      'SKIPPED: the unwritable-file test needs root and runuser (root bypasses file permissions).',
    );
  it.skipIf(!asNobody)(
    'an unwritable file: clear error, non-zero exit, file untouched (run as nobody)',
    () => {
      const { dir, file, backups } = workdir(REAL, 0o644);
      chmodSync(dir, 0o755);
      const result = spawnSync(
        'runuser',
        ['-u', 'nobody', '--', process.execPath, BIN, ...configure(file, backups, ...UNCHECKED)],
        {
          encoding: 'utf8',
          env: { PATH: process.env.PATH ?? '', HOME: '/tmp' },
        },
      );
      expect(result.status).not.toBe(0);
      expect(result.stderr).toContain('APISERVER_FILE_NOT_WRITABLE');
      expect(readFileSync(file, 'utf8')).toBe(REAL);
      expect(readdirSync(dir)).toEqual(['kube-apiserver.yaml']);
    },
  );
});
