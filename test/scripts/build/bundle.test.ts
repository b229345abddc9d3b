/**
 * The one-file CLI (`npm run build`): built into a directory with no node_modules anywhere above
 * it, it must run with plain `node` (help, a local command, and the signer over its embedded
 * protos), and `npm pack` of the repository must install offline with `npm install -g`.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBundle } from '#scripts/build/bundle.ts';
import { startLocalIssuer } from '#scripts/lib/local-issuer.ts';
import { connectSigner } from '#scripts/lib/signer/client.ts';
import { startChildLocalSigner } from '#scripts/lib/signer/temp-signer.ts';

const run = promisify(execFile);
let dir: string;
let bundle: string;

/** Runs the bundle with an environment that has no NODE_PATH and a cwd with no node_modules. */
const node = (...args: string[]) =>
  run(process.execPath, [bundle, ...args], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir },
  });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'irsa-bundle-'));
  const built = await buildBundle(join(dir, 'build', 'irsa-anywhere.mjs'));
  bundle = join(dir, 'irsa-anywhere.mjs');
  await copyFile(built, bundle);
  await rm(join(dir, 'build'), { recursive: true });
}, 240_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('dist/irsa-anywhere.mjs', () => {
  it('is one executable ESM file that imports nothing but node builtins', async () => {
    const text = await readFile(bundle, 'utf8');
    expect(text.startsWith('#!/usr/bin/env node\n')).toBe(true);
    expect((await stat(bundle)).mode & 0o111).not.toBe(0);
    const statements = /(?:^|[;\n])import\s*(?:[\w$*{}\s,]+?\s*from\s*)?["']([^"']+)["']/g;
    const specifiers = [...text.matchAll(statements)].map((m) => m[1]);
    expect(specifiers).toContain('node:vm');
    expect(specifiers.filter((s) => !s?.startsWith('node:'))).toEqual([]);
    expect(text).not.toContain('.proto"');
  });

  it('prints --help and runs a local command without node_modules', async () => {
    const help = await node('--help');
    expect(help.stdout).toContain('Usage: irsa-anywhere');
    expect(help.stdout).toContain('signer');
    const issuer = join(dir, 'issuer');
    const local = await startLocalIssuer({
      dir: issuer,
      host: '127.0.0.1',
      port: 0,
      keySpec: 'ECC_NIST_P256',
    });
    await local.close();
    const status = await node('status', '--dir', issuer, '--json');
    expect(JSON.parse(status.stdout)).toMatchObject({ issuer: local.issuer, keys: [{ state: 'active' }] });
  }, 60_000);

  it('points the units it writes at itself', async () => {
    const unit = await node('signer', 'install', '--distro', 'kubeadm', '--backend', 'local', '--dir', dir);
    expect(unit.stdout).toContain(`ExecStart=${bundle} signer serve`);
    const timer = await node(
      'key-sync',
      '--state',
      's3://bucket/keyset.json',
      '--cluster',
      'c',
      'install-timer',
    );
    expect(timer.stdout).toContain(`ExecStart=${bundle} key-sync --once`);
  }, 60_000);

  it('exits 2 with one line for a bad flag, as the sources do', async () => {
    const failed = await node('status', '--dir', join(dir, 'issuer'), '--at', 'yesterday').catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(failed).toMatchObject({ code: 2 });
  }, 60_000);

  it('serves the signer over the embedded protos (v1 and v1alpha1)', async () => {
    const signer = await startChildLocalSigner({ keySpec: 'ECC_NIST_P256', bin: bundle });
    try {
      for (const pkg of ['v1', 'v1alpha1'] as const) {
        const client = connectSigner(signer.target, pkg);
        const keys = await client.fetchKeys();
        expect(keys.keys.map((k) => k.key_id)).toEqual([signer.activeKey.kid]);
        const signed = await client.sign(Buffer.from('{"sub":"x"}').toString('base64url'));
        expect(signed.signature.length).toBeGreaterThan(40);
        client.close();
      }
    } finally {
      await signer.close();
    }
  }, 60_000);

  it('bench says it needs a checkout instead of failing on missing files, whatever its flags', async () => {
    for (const args of [['bench'], ['bench', '--json', '--rounds', '1']]) {
      const failed = await node(...args).catch((e: { code: number; stderr: string }) => e);
      expect(failed).toMatchObject({ code: 1 });
      expect((failed as { stderr: string }).stderr).toContain('npm run bench');
    }
  }, 60_000);
});

describe('scripts/bin.mjs', () => {
  const repo = fileURLToPath(new URL('../../../', import.meta.url));

  it('runs a current bundle, but bench from the sources in a checkout (the bundle only has its stand-in)', async () => {
    const checkout = await mkdtemp(join(tmpdir(), 'irsa-bin-'));
    try {
      await mkdir(join(checkout, 'scripts'));
      await mkdir(join(checkout, 'dist'));
      await copyFile(join(repo, 'scripts/bin.mjs'), join(checkout, 'scripts/bin.mjs'));
      await symlink(join(repo, 'node_modules'), join(checkout, 'node_modules'));
      await writeFile(join(checkout, 'scripts/main.ts'), "console.log('sources');\n");
      // Written after the sources: the bundle is current.
      await writeFile(join(checkout, 'dist/irsa-anywhere.mjs'), "console.log('bundle');\n");
      const bin = (arg: string) => run(process.execPath, [join(checkout, 'scripts/bin.mjs'), arg]);
      expect((await bin('status')).stdout).toBe('bundle\n');
      expect((await bin('bench')).stdout).toBe('sources\n');
    } finally {
      await rm(checkout, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('npm pack', () => {
  const repo = fileURLToPath(new URL('../../../', import.meta.url));

  it('gives a tarball that `npm install -g` installs offline and runs', async () => {
    const manifest = JSON.parse(await readFile(join(repo, 'package.json'), 'utf8'));
    // Everything is in the bundle: a runtime dependency would make a node download it.
    expect(manifest.dependencies).toBeUndefined();
    const pkg = join(dir, 'pkg');
    await mkdir(join(pkg, 'dist'), { recursive: true });
    await mkdir(join(pkg, 'scripts'));
    await copyFile(join(repo, 'package.json'), join(pkg, 'package.json'));
    await copyFile(join(repo, 'scripts/bin.mjs'), join(pkg, 'scripts/bin.mjs'));
    await copyFile(bundle, join(pkg, 'dist/irsa-anywhere.mjs'));
    const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], {
      cwd: pkg,
    });
    const [{ filename, files }] = JSON.parse(packed.stdout) as [
      { filename: string; files: { path: string }[] },
    ];
    expect(files.map((f) => f.path).sort()).toEqual([
      'dist/irsa-anywhere.mjs',
      'package.json',
      'scripts/bin.mjs',
    ]);
    const prefix = join(dir, 'prefix');
    await run('npm', [
      'install',
      '-g',
      '--offline',
      '--no-audit',
      '--no-fund',
      '--prefix',
      prefix,
      join(dir, filename),
    ]);
    const help = await run(join(prefix, 'bin', 'irsa-anywhere'), ['--help'], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir },
    });
    expect(help.stdout).toContain('Usage: irsa-anywhere');
  }, 120_000);
});
