/**
 * The security suite (issue 7, part 4): nothing published holds private key members; key files
 * and the signer socket are 0600; the CLI refuses http issuers outside loopback; the output of
 * CLI commands and the logs of the rotate Lambda hold no key material (PEM, private JWK members,
 * or any piece of the actual private keys involved).
 */
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { composeRotation } from '#adapters/compose.ts';
import { composeLocal } from '#adapters/local/compose-local.ts';
import { parseConfig } from '#core/config.ts';
import { isIrsaError } from '#core/errors.ts';
import { parseKeyset } from '#core/keyset-parse.ts';
import { activeKey } from '#core/planner.ts';
import { DEFAULT_POLICY_INPUT, makePolicy } from '#core/policy.ts';
import { runRotation } from '#core/rotation-run.ts';
import { syncOnce } from '#scripts/lib/key-sync/sync.ts';
import { type RunningLocalIssuer, startLocalIssuer } from '#scripts/lib/local-issuer.ts';
import { startTempLocalSigner } from '#scripts/lib/signer/temp-signer.ts';
import { RecordingPublisher } from '#scripts/lib/simulate/published.ts';
import { METRICS_NAMESPACE, makeHandler } from '../../functions/rotate/app.ts';
import { FakeAws } from '../support/aws-fakes.ts';
import { runCli } from '../support/run-cli.ts';

const dirs: string[] = [];
async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

const PEM = /-----BEGIN [A-Z ]*PRIVATE KEY-----|PRIVATE KEY/;
const PRIVATE_MEMBER = /"(d|p|q|dp|dq|qi|k)"\s*:\s*"[A-Za-z0-9_\-+/=]{8,}"/;

/** Pieces (24 characters, every 24) of each secret, in base64, base64url and hex. */
function fragments(secrets: readonly Uint8Array[]): string[] {
  const out: string[] = [];
  for (const secret of secrets) {
    for (const encoded of [
      Buffer.from(secret).toString('base64'),
      Buffer.from(secret).toString('base64url'),
      Buffer.from(secret).toString('hex'),
    ]) {
      // Skip the first 40 characters: the PKCS#8 header is the same for every key of a type.
      for (let at = 40; at + 24 <= encoded.length; at += 24) out.push(encoded.slice(at, at + 24));
    }
  }
  return out;
}

/** Fails with the place of the first key material found in `text` (never printing it). */
function expectNoKeyMaterial(what: string, text: string, secrets: readonly Uint8Array[]): void {
  expect(PEM.test(text), `${what}: a PEM private key header`).toBe(false);
  expect(PRIVATE_MEMBER.test(text), `${what}: a private JWK member`).toBe(false);
  const leaked = fragments(secrets).findIndex((piece) => text.includes(piece));
  expect(leaked, `${what}: a fragment of a private key`).toBe(-1);
}

/** `trust-policy` for one service account, for `issuer`. */
function trustPolicyArgs(issuer: string): string[] {
  return [
    'trust-policy',
    '--issuer',
    issuer,
    '--account-id',
    '111122223333',
    '--namespace',
    'team',
    '--service-account',
    'app',
  ];
}

/** A fake account with a wrapping key, and the stack configuration for `mode`. */
function stackAccount(mode: 'kms' | 'file') {
  const aws = new FakeAws();
  const wrappingKeyId = aws.createWrappingKey();
  const config = parseConfig({
    CLUSTER_NAME: 'sec',
    ISSUER_URL: 'https://oidc.example.com/sec',
    STATE_BUCKET: 'sec-state',
    PUBLIC_BUCKET: 'sec-public',
    KEY_MODE: mode,
    KEY_SPEC: 'ECC_NIST_P256',
    ...(mode === 'file' ? { WRAPPING_KEY_ID: wrappingKeyId } : {}),
  });
  return { aws, config };
}

async function localSecrets(dir: string): Promise<Uint8Array[]> {
  const keysDir = join(dir, 'state', 'keys');
  const files = await readdir(keysDir).catch(() => [] as string[]);
  const out: Uint8Array[] = [];
  for (const file of files.filter((name) => name.endsWith('.pem'))) {
    const pem = await readFile(join(keysDir, file), 'utf8');
    out.push(new Uint8Array(Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64')));
  }
  return out;
}

describe('the key material scanner (control)', () => {
  it('finds a PEM header, a private JWK member, and a bare piece of a private key', () => {
    const secret = new Uint8Array(
      Buffer.from('00'.repeat(40) + 'a1b2c3d4e5f60718293a4b5c6d7e8f90'.repeat(6), 'hex'),
    );
    expect(() => expectNoKeyMaterial('pem', '-----BEGIN PRIVATE KEY-----', [])).toThrow();
    expect(() => expectNoKeyMaterial('jwk', '{"kty":"EC","d":"c2VjcmV0c2VjcmV0"}', [])).toThrow();
    const piece = Buffer.from(secret).toString('base64url').slice(60, 120);
    expect(() => expectNoKeyMaterial('bare', `log line ${piece} end`, [secret])).toThrow();
    expect(() => expectNoKeyMaterial('clean', 'rotation step applied {"kid":"abc"}', [secret])).not.toThrow();
  });
});

describe('nothing published holds private key members', () => {
  it('the simulation publisher refuses documents with private members before they reach disk', async () => {
    const written: string[] = [];
    const publisher = new RecordingPublisher(
      {
        publish: async (documents) => {
          written.push(documents.jwks);
          return { changed: true };
        },
      },
      async () => written.at(-1) ?? '',
      () => 0,
    );
    const jwks = JSON.stringify({
      keys: [{ kty: 'EC', kid: 'a', crv: 'P-256', x: 'AAAA', y: 'AAAA', d: 'c2VjcmV0c2VjcmV0' }],
    });
    await expect(publisher.publish({ jwks, discovery: '{}' })).rejects.toMatchObject({
      code: 'JWKS_PRIVATE_MEMBER',
    });
    expect(written).toEqual([]);
  });
  // Every publish of the 5-year simulation is checked: see simulation.test.ts
  // (documentsCheckedForPrivateMembers = 3 x publishes).
});

describe('key files and sockets are created 0600', () => {
  it('local keys: PEM files 0600 in a 0700 directory, keyset.json 0600', async () => {
    const dir = await tempDir('irsa-sec-local-');
    const local = composeLocal(dir);
    const policy = makePolicy({ ...DEFAULT_POLICY_INPUT, keySpec: 'ECC_NIST_P256' });
    const rotate = (at: string, request: { rotateNow?: boolean }) =>
      runRotation(
        {
          ...local,
          policy,
          cluster: 'local',
          issuer: 'https://oidc.example.com/x',
          clock: () => new Date(at),
        },
        request,
      );
    await rotate('2026-01-01T00:00:00Z', {});
    await rotate('2026-01-01T01:00:00Z', { rotateNow: true });
    const files = await readdir(local.paths.keys);
    expect(files.length).toBe(2);
    for (const file of files)
      expect((await stat(join(local.paths.keys, file))).mode & 0o777, file).toBe(0o600);
    expect((await stat(local.paths.keys)).mode & 0o777).toBe(0o700);
    expect((await stat(local.paths.keyset)).mode & 0o777).toBe(0o600);
  });

  it('key-sync: signing.key is 0600 (file mode, unwrapped from KMS)', async () => {
    const { aws, config } = stackAccount('file');
    const proc = aws.process();
    await runRotation({ ...composeRotation(config, proc), clock: () => new Date('2026-01-01T00:00:00Z') });
    const keyDir = join(await tempDir('irsa-sec-keysync-'), 'keys');
    const report = await syncOnce({
      s3: proc.s3,
      kms: proc.kms,
      state: { bucket: 'sec-state', key: 'keyset.json' },
      cluster: 'sec',
      keyDir,
      manifest: null,
      now: () => new Date('2026-01-01T00:05:00Z'),
    });
    expect(report.wroteSigningKey).toBe(true);
    expect((await stat(join(keyDir, 'signing.key'))).mode & 0o777).toBe(0o600);
    expectNoKeyMaterial('key-sync report', JSON.stringify(report), aws.privateKeys());
  });

  it('the signer socket is 0600', async () => {
    const signer = await startTempLocalSigner({ keySpec: 'ECC_NIST_P256' });
    try {
      const info = await stat(signer.socketPath);
      expect(info.isSocket()).toBe(true);
      expect(info.mode & 0o777).toBe(0o600);
    } finally {
      await signer.close();
    }
  });
});

describe('the CLI refuses http issuers outside loopback', () => {
  const OUTSIDE = [
    'http://oidc.example.com',
    'http://10.0.0.5/x',
    'http://localhost.example.com',
    'http://127.0.0.1.nip.io',
    'http://[::ffff:10.0.0.1]',
  ];
  let tokenFile: string;
  let k3sFile: string;

  beforeAll(async () => {
    const dir = await tempDir('irsa-sec-http-');
    tokenFile = join(dir, 'token');
    await writeFile(tokenFile, 'eyJhbGciOiJSUzI1NiIsImtpZCI6ImEifQ.eyJpc3MiOiJ4In0.c2ln');
    k3sFile = join(dir, 'config.yaml');
    await writeFile(k3sFile, 'write-kubeconfig-mode: "0644"\n');
  });

  for (const issuer of OUTSIDE) {
    it(`refuses ${issuer} in verify, trust-policy and apiserver configure`, async () => {
      const runs = [
        await runCli('verify', '--issuer', issuer, '--token', tokenFile),
        await runCli(...trustPolicyArgs(issuer)),
        await runCli(
          'apiserver',
          'configure',
          '--distro',
          'k3s',
          '--issuer',
          issuer,
          '--mode',
          'file',
          '--file',
          k3sFile,
          '--dry-run',
          '--skip-preflight',
        ),
      ];
      for (const run of runs) {
        expect(run.code).not.toBe(0);
        expect(run.stderr).toMatch(/^error (ISSUER_[A-Z_]+|FLAG_INVALID)/);
        expect(run.stderr).toMatch(/http|https|loopback/i);
        expect(run.stderr, 'one sentence, one full stop').not.toMatch(/\.\./);
      }
      expect(await readFile(k3sFile, 'utf8')).toBe('write-kubeconfig-mode: "0644"\n');
    });
  }
});

describe('logs and output hold no key material', () => {
  let dir: string;
  let issuer: RunningLocalIssuer;

  beforeAll(async () => {
    dir = await tempDir('irsa-sec-logs-');
    issuer = await startLocalIssuer({ dir, host: '127.0.0.1', port: 0, keySpec: 'ECC_NIST_P256' });
  });
  afterAll(async () => {
    await issuer?.close();
  });

  it('every local command: token, verify, status, rotate (scheduled, now, revoke), trust-policy, webhook', async () => {
    const at = new Date(Date.now() + 60_000).toISOString();
    const outputs: Array<[string, { code: number; stdout: string; stderr: string }]> = [];
    const run = async (...args: string[]) => {
      const result = await runCli(...args);
      outputs.push([args.slice(0, 2).join(' '), result]);
      return result;
    };
    const minted = await run(
      'token',
      'mint',
      '--dir',
      dir,
      '--namespace',
      'team',
      '--service-account',
      'app',
    );
    expect(minted.code).toBe(0);
    const tokenFile = join(dir, 'token.jwt');
    await writeFile(tokenFile, minted.stdout.trim());
    await run('verify', '--issuer', issuer.issuer, '--token', tokenFile, '--json');
    await run('verify', '--issuer', issuer.issuer, '--token', tokenFile);
    await run('status', '--dir', dir, '--json');
    await run('status', '--dir', dir);
    await run('rotate', '--dir', dir, '--at', at, '--json');
    await run('rotate', '--dir', dir, '--now', '--json');
    const keyset = parseKeyset(await readFile(join(dir, 'state', 'keyset.json'), 'utf8'));
    const secrets = await localSecrets(dir);
    await run('rotate', '--dir', dir, '--revoke', activeKey(keyset)?.kid ?? '', '--yes', '--json');
    await run(...trustPolicyArgs('https://oidc.example.com/x'));
    await run('webhook', '--help');
    expect(outputs.length).toBeGreaterThan(8);
    expect(secrets.length).toBeGreaterThan(1);
    for (const [what, result] of outputs) expectNoKeyMaterial(what, result.stdout + result.stderr, secrets);
    expect(outputs.filter(([, result]) => result.code === 0).length).toBeGreaterThan(6);
  });

  it('the rotate Lambda, kms and file mode, on every step and on failure', async () => {
    for (const mode of ['kms', 'file'] as const) {
      const { aws, config } = stackAccount(mode);
      let now = new Date('2026-01-01T00:00:00Z');
      const logger = new Logger({ serviceName: 'irsa-anywhere-rotate', logLevel: 'DEBUG' });
      const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'irsa-anywhere-rotate' });
      const handler = makeHandler({
        rotation: { ...composeRotation(config, aws.process()), clock: () => now },
        logger,
        metrics,
      });
      let logs = '';
      const capture = (chunk: unknown): boolean => {
        logs += String(chunk);
        return true;
      };
      const out = vi.spyOn(process.stdout, 'write').mockImplementation(capture);
      const err = vi.spyOn(process.stderr, 'write').mockImplementation(capture);
      const context = {
        functionName: 'rotate',
        awsRequestId: 'r1',
        getRemainingTimeInMillis: () => 60_000,
      } as unknown as Context;
      const failures: unknown[] = [];
      try {
        for (const [offsetHours, event] of [
          [0, {}],
          [1, { now: true }],
          [200, {}],
          [201, null],
        ] as const) {
          now = new Date(Date.parse('2026-01-01T00:00:00Z') + offsetHours * 3_600_000);
          await handler(event, context);
        }
        const keyset = parseKeyset(aws.text('sec-state', 'keyset.json') ?? '');
        await handler({ revoke: activeKey(keyset)?.kid }, context);
        await handler({ revoke: 'A'.repeat(43) }, context).catch((error: unknown) => failures.push(error));
        // A corrupt keyset: logged as an error, never replaced.
        const proc = aws.process();
        await proc.s3.send(
          new (await import('@aws-sdk/client-s3')).PutObjectCommand({
            Bucket: 'sec-state',
            Key: 'keyset.json',
            Body: '{"version":1,',
          }),
        );
        await handler({}, context).catch((error: unknown) => failures.push(error));
      } finally {
        out.mockRestore();
        err.mockRestore();
      }
      expect(failures.map((error) => (isIrsaError(error) ? error.code : String(error)))).toEqual([
        'REVOKE_UNKNOWN_KID',
        'KEYSET_CORRUPT',
      ]);
      expect(logs).toContain('rotation step applied');
      expect(logs).toContain('KEYSET_CORRUPT');
      expect(aws.privateKeys().length).toBeGreaterThan(2);
      expectNoKeyMaterial(`rotate Lambda logs (${mode})`, logs, aws.privateKeys());
    }
  });
});
