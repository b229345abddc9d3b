/**
 * Issue 14 item 10 (and the usage part of 11): bad input exits 2 with one coded line that names
 * the problem, instead of exit 1, a raw `UNEXPECTED:` message or advice about something else.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTrustPolicy, oidcProviderArn } from '#core/trust-policy.ts';
import { type RunningLocalIssuer, startLocalIssuer } from '#scripts/lib/local-issuer.ts';
import { runCli } from '../../support/run-cli.ts';

let dir: string;
let issuer: RunningLocalIssuer;
const saved = { ...process.env };

beforeAll(async () => {
  dir = join(await mkdtemp(join(tmpdir(), 'irsa-bad2-')), 'state');
  issuer = await startLocalIssuer({ dir, host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  process.env = saved;
  await issuer?.close();
});

function oneLine(result: { code: number; stderr: string }, code: string, exit = 2): string {
  const lines = result.stderr
    .trim()
    .split('\n')
    .filter((l) => !l.startsWith('note: '));
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^error ${code}: .+ — .+`));
  expect(result.code, result.stderr).toBe(exit);
  return lines[0] ?? '';
}

/** No region anywhere the SDK looks. */
function withoutRegion(): void {
  for (const name of ['AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_PROFILE']) delete process.env[name];
  process.env.AWS_CONFIG_FILE = join(dir, 'no-config');
  process.env.AWS_SHARED_CREDENTIALS_FILE = join(dir, 'no-credentials');
  process.env.AWS_ACCESS_KEY_ID = 'AKIDEXAMPLE';
  process.env.AWS_SECRET_ACCESS_KEY = 'secret';
}

async function mint(): Promise<string> {
  const minted = await runCli(
    'token',
    'mint',
    '--dir',
    dir,
    '--namespace',
    'apps',
    '--service-account',
    'web',
  );
  expect(minted.code).toBe(0);
  return minted.stdout.trim();
}

describe('10. bad input: exit 2, one coded line', () => {
  it('no region: signer --backend kms and rotate --stack say so, not "credentials"', async () => {
    withoutRegion();
    const socket = join(await mkdtemp(join(tmpdir(), 'irsa-sock-')), 's.sock');
    oneLine(
      await runCli(
        'signer',
        'serve',
        '--backend',
        'kms',
        '--state',
        's3://state-bucket/keyset.json',
        '--socket',
        socket,
      ),
      'AWS_REGION_MISSING',
    );
    const rotate = oneLine(
      await runCli('rotate', '--stack', 'irsa-anywhere-x', '--yes'),
      'AWS_REGION_MISSING',
    );
    expect(rotate).not.toMatch(/credentials/);
    process.env = { ...saved };
  });

  it('doctor --token with a missing file, and doctor with nothing to check', async () => {
    oneLine(await runCli('doctor', '--token', join(dir, 'nope')), 'INPUT_MISSING');
    oneLine(await runCli('doctor'), 'FLAG_MISSING');
  });

  it('apiserver configure --file <a directory> is not told to run as root', async () => {
    const line = oneLine(
      await runCli(
        'apiserver',
        'configure',
        '--distro',
        'kubeadm',
        '--issuer',
        'https://oidc.example.com',
        '--file',
        dir,
        '--dry-run',
      ),
      'FLAG_INVALID',
    );
    expect(line).not.toMatch(/root/);
  });

  it('key-sync install-timer --unit-dir /nonexistent names its own flag', async () => {
    const line = oneLine(
      await runCli(
        'key-sync',
        'install-timer',
        '--state',
        's3://state-bucket/keyset.json',
        '--cluster',
        'c',
        '--write',
        '--unit-dir',
        join(dir, 'missing'),
      ),
      'FLAG_INVALID',
    );
    expect(line).toMatch(/--unit-dir/);
  });

  it('--state s3://b/keyset.json: the bucket name is too short, for the signer and key-sync alike', async () => {
    const socket = join(await mkdtemp(join(tmpdir(), 'irsa-sock-')), 's.sock');
    for (const result of [
      await runCli(
        'signer',
        'serve',
        '--backend',
        'kms',
        '--state',
        's3://b/keyset.json',
        '--region',
        'eu-west-1',
        '--socket',
        socket,
      ),
      await runCli('key-sync', '--state', 's3://b/keyset.json', '--cluster', 'c', '--once'),
    ]) {
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/bucket name "b" is too short/);
    }
  });

  it('token mint --ttl: both ends of the range are told the same range', async () => {
    const low = oneLine(
      await runCli('token', 'mint', '--dir', dir, '--namespace', 'a', '--service-account', 'b', '--ttl', '5'),
      'FLAG_INVALID',
    );
    const high = oneLine(
      await runCli(
        'token',
        'mint',
        '--dir',
        dir,
        '--namespace',
        'a',
        '--service-account',
        'b',
        '--ttl',
        '99999999',
      ),
      'FLAG_INVALID',
    );
    const range = (line: string) => /from (\d+) to (\d+)/.exec(line)?.slice(1);
    expect(range(low)).toEqual(['600', '86400']);
    expect(range(high)).toEqual(range(low));
  });

  it('verify --trust-policy: truncated JSON is a parse error; --json keeps accepted for the token', async () => {
    const tokenFile = join(dir, 'token.jwt');
    await writeFile(tokenFile, await mint());
    const truncated = join(dir, 'truncated.json');
    await writeFile(truncated, '{"Version": "2012-10-17", "Statement": [');
    const bad = await runCli(
      'verify',
      '--issuer',
      issuer.issuer,
      '--token',
      tokenFile,
      '--trust-policy',
      truncated,
    );
    expect(bad.stdout).not.toMatch(/DENIES/);
    oneLine(bad, 'TRUST_POLICY_INVALID');
    expect(bad.stderr).toContain(`--trust-policy ${truncated}`);
    const denying = join(dir, 'denying.json');
    const policy = buildTrustPolicy({
      providerArn: oidcProviderArn('111122223333', issuer.issuer),
      issuer: issuer.issuer,
      serviceAccounts: [{ namespace: 'other', serviceAccount: 'web' }],
    });
    await writeFile(denying, JSON.stringify(policy));
    const json = await runCli(
      'verify',
      '--issuer',
      issuer.issuer,
      '--token',
      tokenFile,
      '--trust-policy',
      denying,
      '--json',
    );
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({
      ok: false,
      accepted: true,
      trustPolicy: { allowed: false },
    });
  });

  it('a pasted "Bearer <jwt>" header is recognised', async () => {
    const file = join(dir, 'bearer.txt');
    await writeFile(file, `Bearer ${await mint()}\n`);
    const result = await runCli('verify', '--issuer', issuer.issuer, '--token', file);
    expect(result.code, result.stderr).toBe(0);
  });
});
