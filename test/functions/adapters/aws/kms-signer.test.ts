/**
 * KmsSigner: KMS Sign with MessageType RAW, the right algorithm per key, DER → JOSE for ECDSA,
 * and errors mapped to codes the signer turns into gRPC statuses. Against aws-sdk-client-mock
 * always, and against real moto KMS keys (and the whole signer over a socket, keyset in moto S3)
 * when `moto_server` is on PATH.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createPublicKey, sign as nodeSign, verify } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateKeyCommand, GetPublicKeyCommand, KMSClient, SignCommand } from '@aws-sdk/client-kms';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KmsSigner } from '#adapters/aws/kms-signer.ts';
import { S3KeysetStore } from '#adapters/aws/s3-keyset-store.ts';
import { joseToDerSignature } from '#core/ecdsa.ts';
import { buildJwks } from '#core/jwks.ts';
import type { KeyRecord, KeySpec } from '#core/keyset.ts';
import { emptyKeyset, serializeKeyset } from '#core/keyset-parse.ts';
import { kidFromSpki } from '#core/kid.ts';
import { verifyTokenWithJwks } from '#core/verify-token.ts';
import { connectSigner } from '#scripts/lib/signer/client.ts';
import { memoryLog } from '#scripts/lib/signer/log.ts';
import { startSigner } from '#scripts/lib/signer/run.ts';
import { privateKey, spkiDer } from '../../core/key-fixtures.ts';
import { awsError } from './aws-fakes.ts';

const record = (
  alg: 'RS256' | 'ES256',
  location: KeyRecord['location'] = { type: 'kms', keyId: 'key-1' },
): KeyRecord => {
  const spki = spkiDer(alg === 'RS256' ? 'rsa-2048' : 'ec-p256');
  return {
    kid: kidFromSpki(spki),
    alg,
    keySpec: alg === 'RS256' ? 'RSA_2048' : 'ECC_NIST_P256',
    state: 'active',
    publicKeySpki: Buffer.from(spki).toString('base64'),
    location,
    createdAt: '2026-01-01T00:00:00Z',
  };
};

describe('KmsSigner (aws-sdk-client-mock)', () => {
  // Mocks every KMSClient until restored, so the moto tests below get real clients again.
  const kms = mockClient(KMSClient);
  const client = new KMSClient({ region: 'eu-west-1' });
  const input = new TextEncoder().encode('eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0');
  beforeEach(() => kms.reset());
  afterAll(() => kms.restore());

  it('signs RS256 with RAW + RSASSA_PKCS1_V1_5_SHA_256 and returns the signature unchanged', async () => {
    const signature = nodeSign('sha256', input, privateKey('rsa-2048'));
    kms.on(SignCommand).resolves({ Signature: signature });
    const out = await new KmsSigner({ kms: client }).sign(record('RS256'), input);
    expect(Buffer.from(out)).toEqual(signature);
    expect(kms.commandCalls(SignCommand)[0]?.args[0].input).toMatchObject({
      KeyId: 'key-1',
      MessageType: 'RAW',
      SigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256',
      Message: input,
    });
  });

  it('signs ES256 with ECDSA_SHA_256 and converts the DER signature to 64-byte r||s', async () => {
    const der = nodeSign('sha256', input, privateKey('ec-p256'));
    kms.on(SignCommand).resolves({ Signature: der });
    const out = await new KmsSigner({ kms: client }).sign(record('ES256'), input);
    expect(out).toHaveLength(64);
    expect(Buffer.from(joseToDerSignature(out))).toEqual(der);
    const pub = createPublicKey({ key: Buffer.from(spkiDer('ec-p256')), format: 'der', type: 'spki' });
    expect(verify('sha256', input, { key: pub, dsaEncoding: 'ieee-p1363' }, out)).toBe(true);
    expect(kms.commandCalls(SignCommand)[0]?.args[0].input).toMatchObject({
      SigningAlgorithm: 'ECDSA_SHA_256',
      MessageType: 'RAW',
    });
  });

  it('prefers the key ARN when the record has one', async () => {
    kms.on(SignCommand).resolves({ Signature: new Uint8Array(256) });
    const arn = 'arn:aws:kms:eu-west-1:111122223333:key/key-1';
    await new KmsSigner({ kms: client }).sign(
      record('RS256', { type: 'kms', keyId: 'key-1', keyArn: arn }),
      input,
    );
    expect(kms.commandCalls(SignCommand)[0]?.args[0].input).toMatchObject({ KeyId: arn });
  });

  it('sends a SHA-256 DIGEST for inputs over the 4096-byte RAW limit', async () => {
    kms.on(SignCommand).resolves({ Signature: new Uint8Array(256) });
    const big = new Uint8Array(5000).fill(65);
    await new KmsSigner({ kms: client }).sign(record('RS256'), big);
    const sent = kms.commandCalls(SignCommand)[0]?.args[0].input;
    expect(sent?.MessageType).toBe('DIGEST');
    expect(sent?.Message).toHaveLength(32);
  });

  it('refuses keys that do not live in KMS, without calling KMS', async () => {
    await expect(
      new KmsSigner({ kms: client }).sign(record('RS256', { type: 'local', file: 'keys/x.pem' }), input),
    ).rejects.toMatchObject({ code: 'KEY_LOCATION_MISMATCH' });
    expect(kms.commandCalls(SignCommand)).toHaveLength(0);
  });

  it.each([
    ['ThrottlingException', 'SIGNING_THROTTLED', 400],
    ['DependencyTimeoutException', 'SIGNING_TIMEOUT', 503],
    ['AccessDeniedException', 'SIGNING_ACCESS_DENIED', 400],
    ['DisabledException', 'SIGNING_KEY_UNUSABLE', 400],
    ['KMSInvalidStateException', 'SIGNING_KEY_UNUSABLE', 400],
    ['KMSInternalException', 'SIGNING_FAILED', 500],
  ])('maps %s to %s', async (name, code, status) => {
    kms.on(SignCommand).rejects(awsError(name, status));
    await expect(new KmsSigner({ kms: client }).sign(record('RS256'), input)).rejects.toMatchObject({ code });
  });

  it('refuses an empty signature and a malformed ECDSA DER signature', async () => {
    kms.on(SignCommand).resolves({});
    await expect(new KmsSigner({ kms: client }).sign(record('RS256'), input)).rejects.toMatchObject({
      code: 'SIGNING_FAILED',
    });
    kms.on(SignCommand).resolves({ Signature: new Uint8Array([1, 2, 3]) });
    await expect(new KmsSigner({ kms: client }).sign(record('ES256'), input)).rejects.toMatchObject({
      code: 'ECDSA_DER_INVALID',
    });
  });
});

// ---- moto ----------------------------------------------------------------------------------

const hasMoto = spawnSync('sh', ['-c', 'command -v moto_server'], { encoding: 'utf8' }).status === 0;
if (!hasMoto) {
  console.warn(
    'SKIPPED: moto_server is not on PATH, so KmsSigner was NOT tested against real KMS keys (moto).',
  );
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

describe.skipIf(!hasMoto)('KmsSigner against moto KMS keys', () => {
  let moto: ChildProcess | undefined;
  let endpoint: string;
  const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
  const clients = () => ({
    kms: new KMSClient({ region: 'us-east-1', endpoint, credentials }),
    s3: new S3Client({ region: 'us-east-1', endpoint, credentials, forcePathStyle: true }),
  });

  beforeAll(async () => {
    const port = await freePort();
    endpoint = `http://127.0.0.1:${port}`;
    moto = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      try {
        if ((await fetch(`${endpoint}/moto-api/`)).status < 500) return;
      } catch {
        // not up yet
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error('moto_server did not start');
  }, 30_000);
  afterAll(() => {
    moto?.kill('SIGTERM');
  });

  async function kmsKey(kms: KMSClient, spec: KeySpec): Promise<KeyRecord> {
    const created = await kms.send(new CreateKeyCommand({ KeySpec: spec, KeyUsage: 'SIGN_VERIFY' }));
    const keyId = created.KeyMetadata?.KeyId as string;
    const pub = await kms.send(new GetPublicKeyCommand({ KeyId: keyId }));
    const spki = pub.PublicKey as Uint8Array;
    return {
      kid: kidFromSpki(spki),
      alg: spec === 'RSA_2048' ? 'RS256' : 'ES256',
      keySpec: spec,
      state: 'active',
      publicKeySpki: Buffer.from(spki).toString('base64'),
      location: { type: 'kms', keyId },
      createdAt: new Date().toISOString(),
      publishedAt: new Date().toISOString(),
      activatedAt: new Date().toISOString(),
    };
  }

  it.each<KeySpec>(['RSA_2048', 'ECC_NIST_P256'])(
    'a %s signature verifies with the GetPublicKey key',
    async (spec) => {
      const { kms } = clients();
      const key = await kmsKey(kms, spec);
      const input = Buffer.from('eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6YTpiIn0');
      const signature = await new KmsSigner({ kms }).sign(key, input);
      const pub = createPublicKey({
        key: Buffer.from(key.publicKeySpki, 'base64'),
        format: 'der',
        type: 'spki',
      });
      if (spec === 'ECC_NIST_P256') expect(signature).toHaveLength(64);
      expect(
        verify(
          'sha256',
          input,
          spec === 'RSA_2048' ? pub : { key: pub, dsaEncoding: 'ieee-p1363' },
          signature,
        ),
      ).toBe(true);
    },
  );

  it('serves tokens over the socket with the keyset in S3 and the keys in KMS', async () => {
    const { kms, s3 } = clients();
    const retired = await kmsKey(kms, 'RSA_2048');
    retired.state = 'retired';
    retired.retiredAt = new Date().toISOString();
    const active = await kmsKey(kms, 'ECC_NIST_P256');
    const keyset = emptyKeyset('moto', 'https://oidc.example.com/moto', new Date());
    keyset.keys.push(retired, active);
    await s3.send(new CreateBucketCommand({ Bucket: 'state' }));
    await s3.send(
      new PutObjectCommand({ Bucket: 'state', Key: 'keyset.json', Body: serializeKeyset(keyset) }),
    );
    const dir = await mkdtemp(join(tmpdir(), 'irsa-signer-moto-'));
    const signer = await startSigner({
      socket: join(dir, 'signer.sock'),
      backend: {
        source: new S3KeysetStore({ s3, bucket: 'state', key: 'keyset.json' }),
        signer: new KmsSigner({ kms }),
        describe: 's3://state/keyset.json',
      },
      log: memoryLog(),
      refresh: false,
    });
    const client = connectSigner(join(dir, 'signer.sock'), 'v1');
    try {
      const now = Math.floor(Date.now() / 1000);
      const claims = Buffer.from(
        JSON.stringify({
          iss: 'https://oidc.example.com/moto',
          sub: 'system:serviceaccount:default:app',
          aud: ['sts.amazonaws.com'],
          iat: now,
          nbf: now,
          exp: now + 600,
        }),
      ).toString('base64url');
      const { header, signature } = await client.sign(claims);
      const fetched = await client.fetchKeys();
      expect(fetched.keys.map((k) => k.key_id)).toEqual([retired.kid, active.kid]);
      const verified = await verifyTokenWithJwks(`${header}.${claims}.${signature}`, {
        issuer: 'https://oidc.example.com/moto',
        audiences: ['sts.amazonaws.com'],
        now: new Date(),
        jwks: buildJwks(keyset.keys),
      });
      expect(verified.header).toMatchObject({ alg: 'ES256', kid: active.kid });
    } finally {
      client.close();
      await signer.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
