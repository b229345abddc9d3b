/**
 * Issue 14, items 1–4, 10 (local parts), 12 (local advice) and 13: what a new user meets in the
 * local issuer's directory. Each test failed on the code before the fix.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { composeLocal } from '#adapters/local/compose-local.ts';
import { localPaths } from '#adapters/local/fs-store.ts';
import { activeKey } from '#core/planner.ts';
import { startLocalIssuer } from '#scripts/lib/local-issuer.ts';
import { runCli } from '../../support/run-cli.ts';

/** A local issuer directory made by a real start (then stopped). */
async function localDir(): Promise<{ dir: string; port: string }> {
  const dir = join(await mkdtemp(join(tmpdir(), 'irsa-nu-')), 'state-dir');
  const running = await startLocalIssuer({ dir, host: '127.0.0.1', port: 0 });
  await running.close();
  return { dir, port: String(running.port) };
}

/** Every file under `dir` with its bytes, to prove nothing changed. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out[path] = await readFile(path, 'utf8');
  }
  return out;
}

function oneError(result: { code: number; stderr: string }, code: string, exit: number): string {
  expect(result.code, result.stderr).toBe(exit);
  const lines = result.stderr.trim().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^error ${code}: .+ — .+`));
  return lines[0] ?? '';
}

async function removeKeyFiles(dir: string): Promise<void> {
  await rm(localPaths(dir).keys, { recursive: true, force: true });
}

describe('1. rotate --at is a drill', () => {
  it('plans and prints the steps of 2030 and writes nothing', async () => {
    const { dir } = await localDir();
    const before = await snapshot(dir);
    const result = await runCli('rotate', '--dir', dir, '--at', '2030-01-01T00:00:00Z');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/drill at 2030-01-01T00:00:00.000Z: nothing is written/);
    expect(result.stdout).toMatch(/create-pending|promote|retire/);
    expect(await snapshot(dir)).toEqual(before);
    const status = await runCli('status', '--dir', dir, '--json');
    expect(status.code).toBe(0);
    for (const key of JSON.parse(status.stdout).keys) expect(key.ageSeconds).toBeGreaterThanOrEqual(0);
  });

  it('a keyset holding future times is refused with a fix, and the fix works', async () => {
    const { dir } = await localDir();
    const { store } = composeLocal(dir);
    const current = await store.read();
    if (current === null) throw new Error('no keyset');
    const future = {
      ...current.keyset,
      keys: current.keyset.keys.map((k) => ({ ...k, createdAt: '2030-01-01T00:00:00.000Z' })),
      lastPublish: { kids: current.keyset.lastPublish?.kids ?? [], at: '2030-01-01T00:00:00.000Z' },
    };
    await store.write(future, current.version);
    const rotate = oneError(await runCli('rotate', '--dir', dir), 'KEYSET_FUTURE_TIME', 1);
    expect(rotate).toContain(`irsa-anywhere rotate --dir ${dir} --repair-clock`);
    const status = await runCli('status', '--dir', dir, '--json');
    expect(status.code).toBe(1);
    expect(JSON.parse(status.stdout).problems[0].code).toBe('KEYSET_FUTURE_TIME');
    const repair = await runCli('rotate', '--dir', dir, '--repair-clock');
    expect(repair.code, repair.stderr).toBe(0);
    expect(repair.stdout).toMatch(/set to now: kid .* createdAt: 2030/);
    const after = await runCli('status', '--dir', dir, '--json');
    expect(after.code, after.stderr).toBe(0);
    expect((await runCli('rotate', '--dir', dir)).code).toBe(0);
  });
});

describe('2. a failed start writes nothing', () => {
  it.each([
    [
      'a truncated keyset.json',
      'KEYSET_CORRUPT',
      async (dir: string) => {
        const path = localPaths(dir).keyset;
        const text = await readFile(path, 'utf8');
        await writeFile(path, text.slice(0, 40));
      },
    ],
    ['a missing private key file', 'LOCAL_KEY_MISSING', removeKeyFiles],
    [
      'a garbage private key file',
      'LOCAL_KEY_INVALID',
      async (dir: string) => {
        for (const name of await readdir(localPaths(dir).keys)) {
          await writeFile(join(localPaths(dir).keys, name), 'garbage');
        }
      },
    ],
    [
      // A valid PEM of another key signed tokens that never verified, and nothing noticed.
      'the private key file of another key',
      'LOCAL_KEY_INVALID',
      async (dir: string) => {
        const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
        for (const name of await readdir(localPaths(dir).keys)) {
          await writeFile(
            join(localPaths(dir).keys, name),
            privateKey.export({ format: 'pem', type: 'pkcs8' }),
          );
        }
      },
    ],
  ])('%s', async (_name, code, breakIt) => {
    const { dir, port } = await localDir();
    await breakIt(dir);
    const before = await snapshot(dir);
    // A changed --key-spec makes the old code rewrite local.json before it failed.
    oneError(await runCli('local', '--dir', dir, '--port', port, '--key-spec', 'ECC_NIST_P256'), code, 1);
    expect(await snapshot(dir)).toEqual(before);
  });
});

describe('3. a missing private key is detected', () => {
  it('by status, rotate and signer --backend local, each with the fix', async () => {
    const { dir } = await localDir();
    await removeKeyFiles(dir);
    const status = await runCli('status', '--dir', dir);
    expect(status.code).toBe(1);
    expect(status.stderr).toMatch(
      /^error LOCAL_KEY_MISSING: .*active key cannot sign.* — .*rotate --dir .* --now/m,
    );
    oneError(await runCli('rotate', '--dir', dir), 'LOCAL_KEY_MISSING', 1);
    // token mint names the directory in its fix too, not a `<dir>` placeholder.
    const mint = oneError(
      await runCli('token', 'mint', '--dir', dir, '--namespace', 'a', '--service-account', 'b'),
      'LOCAL_KEY_MISSING',
      1,
    );
    expect(mint).toContain(`irsa-anywhere rotate --dir ${dir} --now`);
    const socketDir = await mkdtemp(join(tmpdir(), 'irsa-nu-sock-'));
    const signer = await runCli(
      'signer',
      'serve',
      '--backend',
      'local',
      '--dir',
      dir,
      '--socket',
      join(socketDir, 's.sock'),
    );
    expect(signer.stderr).not.toMatch(/listening/);
    expect(signer.stderr).toMatch(/error LOCAL_KEY_MISSING/);
    expect(signer.code).toBe(1);
    // The fix works: a new key signs, and status is clean again.
    expect((await runCli('rotate', '--dir', dir, '--now')).code).toBe(0);
    expect((await runCli('status', '--dir', dir)).code).toBe(0);
  });
});

describe('4. local --port 0 on an existing directory', () => {
  it('is refused, naming the port that keeps the issuer', async () => {
    const { dir, port } = await localDir();
    const config = await readFile(localPaths(dir).config, 'utf8');
    const line = oneError(await runCli('local', '--dir', dir, '--port', '0'), 'FLAG_INVALID', 2);
    expect(line).toContain(`--port ${port}`);
    expect(await readFile(localPaths(dir).config, 'utf8')).toBe(config);
  });
});

describe('10/12. raw errors in the local directory', () => {
  it('keyset.json that is a directory is one coded line, not UNEXPECTED: EISDIR', async () => {
    const { dir } = await localDir();
    await rm(localPaths(dir).keyset);
    await mkdir(localPaths(dir).keyset);
    const line = oneError(await runCli('status', '--dir', dir), 'KEYSET_UNREADABLE', 1);
    expect(line).toMatch(/it is a directory/);
  });

  it('a corrupt local keyset is not told to restore "from the versioned state bucket"', async () => {
    const { dir } = await localDir();
    await writeFile(localPaths(dir).keyset, '{"version":1');
    const line = oneError(await runCli('rotate', '--dir', dir), 'KEYSET_CORRUPT', 1);
    expect(line).not.toMatch(/state bucket/);
    expect(line).toMatch(/backup/);
  });
});

describe('13. revoking the active key', () => {
  it('is refused without --yes where no one can be asked, and shows the replacement with --yes', async () => {
    const { dir } = await localDir();
    const keyset = (await composeLocal(dir).store.read())?.keyset ?? null;
    const active = activeKey(keyset)?.kid ?? '';
    const before = await snapshot(dir);
    oneError(await runCli('rotate', '--dir', dir, '--revoke', active), 'USAGE_CONFIRMATION_REQUIRED', 2);
    expect(await snapshot(dir)).toEqual(before);
    const done = await runCli('rotate', '--dir', dir, '--revoke', active, '--yes');
    expect(done.code, done.stderr).toBe(0);
    const now = activeKey((await composeLocal(dir).store.read())?.keyset ?? null)?.kid;
    expect(now).not.toBe(active);
    expect(done.stdout).toContain(`active key: ${now}`);
  });
});
