/**
 * `irsa-anywhere signer`: `install` output and writes, flag validation, and `serve` as a real
 * process: started from the CLI, answering over its socket, stopping cleanly on SIGTERM.
 */
import { spawn } from 'node:child_process';
import { access, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { connectSigner } from '#scripts/lib/signer/client.ts';
import { writeLocalKeyset } from '#scripts/lib/signer/temp-signer.ts';
import { runCli } from '../../support/run-cli.ts';

const BIN = fileURLToPath(new URL('../../../scripts/bin.mjs', import.meta.url));
const KMS = ['--backend', 'kms', '--state', 's3://irsa-state-prod/keyset.json', '--region', 'eu-west-1'];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'irsa-signer-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('signer install --distro kubeadm', () => {
  it('prints a systemd unit ordered before kubelet, restarting always, with a 0700 runtime directory', async () => {
    const result = await runCli('signer', 'install', '--distro', 'kubeadm', ...KMS);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const unit = result.stdout;
    expect(unit).toContain('Before=kubelet.service');
    expect(unit).toContain('Restart=always');
    expect(unit).toContain('RuntimeDirectory=irsa-anywhere');
    expect(unit).toContain('RuntimeDirectoryMode=0700');
    expect(unit).toContain('User=root');
    expect(unit).toMatch(/^WantedBy=.*kubelet\.service/m);
    expect(unit).toContain(
      'ExecStart=/usr/local/bin/irsa-anywhere signer serve --backend kms --socket /run/irsa-anywhere/signer.sock --state s3://irsa-state-prod/keyset.json --region eu-west-1',
    );
    expect(unit).toContain('until [ -S /run/irsa-anywhere/signer.sock ]');
    // systemd expands $VAR in Exec lines: the unit must not contain a bare $.
    expect(unit).not.toMatch(/\$/);
  });

  it('writes the unit, leaves it alone on a second run, keeps a backup when it changes, and diffs on --dry-run', async () => {
    const path = join(dir, 'irsa-anywhere-signer.service');
    const first = await runCli('signer', 'install', '--distro', 'kubeadm', ...KMS, '--write', path);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`${path}: written`);
    expect((await stat(path)).mode & 0o777).toBe(0o644);
    const written = await readFile(path, 'utf8');
    const second = await runCli('signer', 'install', '--distro', 'kubeadm', ...KMS, '--write', path);
    expect(second.stdout).toContain(`${path}: unchanged`);
    const install = (...extra: string[]) =>
      runCli('signer', 'install', '--distro', 'kubeadm', ...KMS, ...extra);
    const dry = await install('--refresh-seconds', '30', '--write', path, '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('+ExecStart=');
    expect(dry.stdout).toContain('--refresh-seconds 30');
    expect(await readFile(path, 'utf8')).toBe(written);
    const backups = join(dir, 'backups');
    const third = await install('--refresh-seconds', '30', '--write', path, '--backup-dir', backups);
    const [backup] = await readdir(backups);
    expect(third.stdout).toContain(`previous version kept in ${join(backups, backup ?? '')}`);
    expect(await readFile(join(backups, backup ?? ''), 'utf8')).toBe(written);
    await expect(access(`${path}.bak`)).rejects.toThrow();
    expect(await readFile(path, 'utf8')).toContain('--refresh-seconds 30');
  });

  it('prints a static pod manifest with --static-pod (and needs --image)', async () => {
    const missing = await runCli('signer', 'install', '--distro', 'kubeadm', ...KMS, '--static-pod');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('FLAG_MISSING');
    const result = await runCli(
      'signer',
      'install',
      '--distro',
      'kubeadm',
      ...KMS,
      '--static-pod',
      '--image',
      'registry.example.com/irsa-anywhere:0.1.0',
      '--extra-public-key',
      '/etc/kubernetes/pki/sa.pub',
    );
    expect(result.code).toBe(0);
    const pod = parse(result.stdout) as {
      metadata: { namespace: string };
      spec: {
        hostNetwork: boolean;
        priorityClassName: string;
        containers: Array<{ command: string[]; volumeMounts: Array<{ mountPath: string }> }>;
        volumes: Array<{ hostPath: { path: string } }>;
      };
    };
    expect(pod.metadata.namespace).toBe('kube-system');
    expect(pod.spec.hostNetwork).toBe(true);
    expect(pod.spec.priorityClassName).toBe('system-node-critical');
    expect(pod.spec.containers[0]?.command).toEqual([
      'irsa-anywhere',
      'signer',
      'serve',
      '--backend',
      'kms',
      '--socket',
      '/run/irsa-anywhere/signer.sock',
      '--state',
      's3://irsa-state-prod/keyset.json',
      '--region',
      'eu-west-1',
      '--extra-public-key',
      '/etc/kubernetes/pki/sa.pub',
    ]);
    expect(pod.spec.volumes.map((v) => v.hostPath.path)).toEqual([
      '/run/irsa-anywhere',
      '/etc/kubernetes/pki/sa.pub',
    ]);
  });

  it.each([
    [['--backend', 'kms'], 'FLAG_MISSING'],
    [['--backend', 'kms', '--state', 'https://bucket/keyset.json'], 'CONFIG_STATE_INVALID'],
    [['--backend', 'local'], 'FLAG_MISSING'],
    [['--backend', 'vault'], 'FLAG_INVALID'],
    [[...KMS, '--max-token-expiration-seconds', '599'], 'CONFIG_INVALID'],
    [[...KMS, '--max-token-expiration-seconds', '90000'], 'CONFIG_INVALID'],
    [[...KMS, '--socket', 'relative.sock'], 'CONFIG_SOCKET_INVALID'],
    [[...KMS, '--refresh-seconds', '0'], 'FLAG_INVALID'],
  ])('refuses %j with %s and exit code 2', async (flags, code) => {
    const result = await runCli('signer', 'install', '--distro', 'kubeadm', ...flags);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(code);
  });

  it('refuses other distributions', async () => {
    const result = await runCli('signer', 'install', '--distro', 'k3s', ...KMS);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--distro k3s');
  });
});

describe('signer serve (a real process)', () => {
  it('serves over its socket until SIGTERM, then exits 0 and removes the socket', async () => {
    const issuer = join(dir, 'issuer');
    await writeLocalKeyset(issuer, [{ spec: 'ECC_NIST_P256', state: 'active' }]);
    const socket = join(dir, 'run', 'signer.sock');
    // `signer` alone runs `serve` (the default subcommand).
    const child = spawn(
      process.execPath,
      [BIN, 'signer', '--backend', 'local', '--dir', issuer, '--socket', socket],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      for (let i = 0; i < 200 && !stderr.includes('signer listening'); i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(stderr).toContain('signer listening');
      expect((await stat(socket)).mode & 0o777).toBe(0o600);
      for (const pkg of ['v1', 'v1alpha1'] as const) {
        const client = connectSigner(socket, pkg);
        const claims = Buffer.from('{"sub":"system:serviceaccount:a:b"}').toString('base64url');
        const { signature } = await client.sign(claims);
        expect(Buffer.from(signature, 'base64url')).toHaveLength(64);
        client.close();
      }
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      await expect(access(socket)).rejects.toMatchObject({ code: 'ENOENT' });
      const lines = stderr.trim().split('\n');
      for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
      expect(lines.map((l) => JSON.parse(l).msg)).toContain('stopping');
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('exits non-zero with one error line when the keyset cannot be read', async () => {
    const empty = join(dir, 'empty');
    await writeFile(join(dir, 'placeholder'), '');
    const result = await runCli(
      'signer',
      'serve',
      '--backend',
      'local',
      '--dir',
      empty,
      '--socket',
      join(dir, 'x', 's.sock'),
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error SIGNER_KEYSET_MISSING: /m);
  });
});
