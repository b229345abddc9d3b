/**
 * The systemd units irsa-anywhere writes, checked by systemd itself: `systemd-analyze security
 * --offline=yes` scores each at most 4.0, and `systemd-analyze verify` finds nothing. Skipped
 * (loudly) where systemd-analyze is not installed (Debian: apt-get install systemd).
 */
import { execFile, spawnSync } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderUnits, validateTimerOptions } from '#scripts/lib/key-sync/timer.ts';
import { renderSystemdUnit } from '#scripts/lib/signer/install.ts';

const run = promisify(execFile);
const present = spawnSync('systemd-analyze', ['--version']).status === 0;
if (!present)
  console.warn('SKIPPED: systemd-analyze is not installed; the unit hardening checks did not run.');

let dir: string;
let bin: string;

/** Every unit, by file name: the signer with each backend, key-sync's service and timer. */
function units(): Record<string, string> {
  const signer = (backend: 'kms' | 'local') =>
    renderSystemdUnit(
      {
        socket: '/run/irsa-anywhere/signer.sock',
        extraPublicKeys: [],
        ...(backend === 'kms'
          ? { backend, state: 's3://state-bucket/keyset.json' }
          : { backend, dir: '/var/lib/irsa-anywhere' }),
      },
      { bin },
    );
  const keySync = renderUnits(
    validateTimerOptions({
      bin,
      args: ['--state', 's3://state-bucket/keyset.json', '--cluster', 'prod'],
      interval: '5min',
      unitName: 'irsa-anywhere-key-sync',
      dirs: ['/etc/irsa-anywhere/keys', '/var/lib/irsa-anywhere/backups'],
      writable: ['/etc/kubernetes/manifests'],
    }),
  );
  return {
    'irsa-anywhere-signer-kms.service': signer('kms'),
    'irsa-anywhere-signer-local.service': signer('local'),
    'irsa-anywhere-key-sync.service': keySync.service,
    'irsa-anywhere-key-sync.timer': keySync.timer,
  };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'irsa-units-'));
  // verify checks that ExecStart's program exists and is executable.
  bin = join(dir, 'irsa-anywhere');
  await writeFile(bin, '#!/bin/sh\n');
  await chmod(bin, 0o755);
  for (const [name, text] of Object.entries(units())) await writeFile(join(dir, name), text);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe.skipIf(!present)('systemd units', () => {
  for (const name of [
    'irsa-anywhere-signer-kms.service',
    'irsa-anywhere-signer-local.service',
    'irsa-anywhere-key-sync.service',
  ]) {
    it(`${name}: systemd-analyze security --offline=yes is at most 4.0`, async () => {
      const { stdout } = await run('systemd-analyze', ['security', '--offline=yes', '--no-pager', name], {
        cwd: dir,
      });
      const score = Number(/Overall exposure level for \S+: ([\d.]+)/.exec(stdout)?.[1]);
      expect(score).toBeLessThanOrEqual(4.0);
    });
  }

  it('systemd-analyze verify finds nothing', async () => {
    const names = Object.keys(units());
    const result = await run('systemd-analyze', ['verify', '--man=no', ...names], { cwd: dir }).then(
      (r) => ({ code: 0, out: r.stdout + r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
    );
    expect(result).toEqual({ code: 0, out: '' });
  });
});

describe('signer install options', () => {
  const flags = {
    backend: 'local' as const,
    socket: '/run/irsa-anywhere/signer.sock',
    extraPublicKeys: [],
    dir: '/d',
  };
  const code = (f: () => unknown) => {
    try {
      f();
      return 'none';
    } catch (error) {
      return (error as { code?: string }).code;
    }
  };

  it('refuses --user nobody and a relative --bin', () => {
    expect(code(() => renderSystemdUnit(flags, { user: 'nobody' }))).toBe('FLAG_INVALID');
    expect(code(() => renderSystemdUnit(flags, { user: 'root; rm' }))).toBe('FLAG_INVALID');
    expect(code(() => renderSystemdUnit(flags, { bin: 'irsa-anywhere' }))).toBe('FLAG_INVALID');
    expect(code(() => renderSystemdUnit(flags, { bin: '/opt/my tools/irsa-anywhere' }))).toBe('FLAG_INVALID');
    expect(renderSystemdUnit(flags, { user: 'irsa-signer', bin: '/opt/irsa/irsa-anywhere' })).toContain(
      'User=irsa-signer',
    );
  });

  it('gives the kms backend a way to AWS credentials that ProtectHome does not hide', () => {
    const kms = renderSystemdUnit({ ...flags, backend: 'kms', state: 's3://b/keyset.json' });
    expect(kms).toContain('EnvironmentFile=-/etc/irsa-anywhere/aws.env');
    expect(kms).toContain('AWS_CONFIG_FILE=/etc/irsa-anywhere/aws/config');
    expect(renderSystemdUnit(flags)).not.toContain('EnvironmentFile');
  });
});

/**
 * Why the units do not set MemoryDenyWriteExecute=yes: under the kernel's MDWE (PR_SET_MDWE, the
 * same rule systemd enforces with seccomp) V8's JIT aborts, and Node only runs with --jitless.
 */
const mdwe = spawnSync('python3', [
  '-c',
  'import ctypes; exit(ctypes.CDLL(None).prctl(65, 1, 0, 0, 0) != 0)',
]);
if (mdwe.status !== 0)
  console.warn('SKIPPED: no python3 or no PR_SET_MDWE (Linux < 6.3); the MDWE check did not run.');

describe.skipIf(mdwe.status !== 0)('Node under MemoryDenyWriteExecute', () => {
  const underMdwe = (...args: string[]) =>
    spawnSync(
      'python3',
      [
        '-c',
        'import ctypes, os, sys; ctypes.CDLL(None).prctl(65, 1, 0, 0, 0); os.execv(sys.argv[1], sys.argv[1:])',
        process.execPath,
        ...args,
      ],
      { encoding: 'utf8' },
    );
  const hot = 'let s = 0; for (let i = 0; i < 1e7; i++) s += i; console.log(s)';

  it('aborts with the JIT, runs with --jitless', () => {
    expect(underMdwe('-e', hot).status).not.toBe(0);
    expect(underMdwe('--jitless', '-e', hot)).toMatchObject({ status: 0, stdout: '49999995000000\n' });
  });
});
