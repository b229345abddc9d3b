/**
 * The rotate handler end to end against moto_server with the real AWS SDK: real KMS keys, S3
 * conditional writes. The published JWKS must match KMS GetPublicKey for each key, with
 * kid = base64url(SHA-256(DER SPKI)).
 */

import { createPrivateKey, createPublicKey } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { CreateKeyCommand, GetPublicKeyCommand, ListResourceTagsCommand } from '@aws-sdk/client-kms';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { unwrapPrivateKey } from '#adapters/aws/kms-wrapped-keys.ts';
import { type AwsClients, composeRotation, createAwsClients } from '#adapters/compose.ts';
import { parseConfig, type StackConfig } from '#core/config.ts';
import { publicJwkFromSpki } from '#core/jwk.ts';
import { parseKeyset } from '#core/keyset-parse.ts';
import { kidFromSpki } from '#core/kid.ts';
import { METRICS_NAMESPACE, makeHandler, type RotateResult } from '../../../functions/rotate/app.ts';
import { lambdaContext } from '../../support/lambda-context.ts';
import { type Moto, motoAvailable, startMoto } from './moto-server.ts';

const HAVE_MOTO = motoAvailable('the rotate handler end-to-end test against moto');
const ISSUER = 'https://oidc.example.com/prod';

describe.skipIf(!HAVE_MOTO)('rotate handler against moto_server', () => {
  let moto: Moto;
  let clients: AwsClients;
  const saved = { ...process.env };

  beforeAll(async () => {
    moto = await startMoto();
    process.env.AWS_ACCESS_KEY_ID = 'testing';
    process.env.AWS_SECRET_ACCESS_KEY = 'testing';
    process.env.AWS_REGION = 'us-east-1';
    process.env.POWERTOOLS_METRICS_DISABLED = 'true';
    clients = createAwsClients({ endpoint: moto.endpoint, region: 'us-east-1' });
    await clients.s3.send(new CreateBucketCommand({ Bucket: 'state-bucket' }));
    await clients.s3.send(new CreateBucketCommand({ Bucket: 'public-bucket' }));
  }, 60_000);

  afterAll(async () => {
    process.env = saved;
    await moto?.stop();
  });

  /** The rotate handler wired the way handler.ts does, on the moto clients, at `clock`. */
  function rotateHandler(config: StackConfig, clock: () => Date) {
    const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'test' });
    vi.spyOn(metrics, 'publishStoredMetrics').mockImplementation(() => metrics);
    return makeHandler({
      rotation: { ...composeRotation(config, clients), clock },
      logger: new Logger({ serviceName: 'test', logLevel: 'SILENT' }),
      metrics,
    });
  }

  async function text(bucket: string, key: string): Promise<string> {
    const out = await clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return (await out.Body?.transformToString()) ?? '';
  }

  it('bootstraps, rotates, and publishes a JWKS whose kids match the KMS public keys', async () => {
    const config = parseConfig({
      CLUSTER_NAME: 'prod',
      ISSUER_URL: ISSUER,
      STATE_BUCKET: 'state-bucket',
      PUBLIC_BUCKET: 'public-bucket',
    });
    let now = new Date('2026-03-01T00:00:00Z');
    const handler = rotateHandler(config, () => now);
    const invoke = (event: unknown = {}) => handler(event, lambdaContext()) as Promise<RotateResult>;

    const first = await invoke();
    expect(first.steps.map((s) => s.action)).toEqual(['bootstrap', 'publish']);
    // Steady state is a no-op; then an emergency rotation gives two published keys.
    expect((await invoke()).wrote).toBe(false);
    now = new Date(now.getTime() + 3_600_000);
    const second = await invoke({ now: true });
    expect(second.activeKid).not.toBe(first.activeKid);

    const keyset = parseKeyset(await text('state-bucket', 'keyset.json'));
    const jwks = JSON.parse(await text('public-bucket', 'prod/openid/v1/jwks')) as {
      keys: Array<{ kid: string }>;
    };
    const discovery = JSON.parse(await text('public-bucket', 'prod/.well-known/openid-configuration')) as {
      issuer: string;
      jwks_uri: string;
    };
    expect(discovery).toMatchObject({ issuer: ISSUER, jwks_uri: `${ISSUER}/openid/v1/jwks` });
    expect(jwks.keys).toHaveLength(2);
    for (const record of keyset.keys) {
      if (record.location.type !== 'kms') throw new Error('expected a KMS key');
      const kms = await clients.kms.send(new GetPublicKeyCommand({ KeyId: record.location.keyId }));
      const spki = kms.PublicKey ?? new Uint8Array();
      expect(kidFromSpki(spki)).toBe(record.kid);
      expect(jwks.keys).toContainEqual(publicJwkFromSpki(spki, 'RS256'));
      const tags = await clients.kms.send(new ListResourceTagsCommand({ KeyId: record.location.keyId }));
      expect(tags.Tags).toEqual(
        expect.arrayContaining([
          { TagKey: 'irsa-anywhere:cluster', TagValue: 'prod' },
          { TagKey: 'irsa-anywhere:kid', TagValue: record.kid },
        ]),
      );
    }
    const head = await clients.s3.send(
      new HeadObjectCommand({ Bucket: 'public-bucket', Key: 'prod/openid/v1/jwks' }),
    );
    expect(head.ContentType).toBe('application/json');
    expect(head.CacheControl).toBe('public, max-age=300');
  }, 60_000);

  it('file mode: wraps the private key with KMS, and key-sync can unwrap the key the JWKS names', async () => {
    await clients.s3.send(new CreateBucketCommand({ Bucket: 'file-state' }));
    await clients.s3.send(new CreateBucketCommand({ Bucket: 'file-public' }));
    const wrap = await clients.kms.send(
      new CreateKeyCommand({ KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT' }),
    );
    const wrappingKeyId = wrap.KeyMetadata?.KeyId ?? '';
    const config = parseConfig({
      CLUSTER_NAME: 'filecluster',
      ISSUER_URL: 'https://oidc.example.com',
      STATE_BUCKET: 'file-state',
      PUBLIC_BUCKET: 'file-public',
      KEY_MODE: 'file',
      KEY_SPEC: 'ECC_NIST_P256',
      WRAPPING_KEY_ID: wrappingKeyId,
    });
    const handler = rotateHandler(config, () => new Date('2026-03-01T00:00:00Z'));
    const result = (await handler({}, lambdaContext())) as RotateResult;
    const keyset = parseKeyset(await text('file-state', 'keyset.json'));
    const record = keyset.keys[0];
    if (record === undefined) throw new Error('no key');
    expect(record.location).toEqual({ type: 'wrapped', object: `keys/${record.kid}.wrapped`, wrappingKeyId });
    const pkcs8 = await unwrapPrivateKey(
      { ...clients, bucket: 'file-state', cluster: 'filecluster' },
      record,
    );
    const spki = createPublicKey(
      createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' }),
    ).export({
      type: 'spki',
      format: 'der',
    });
    expect(kidFromSpki(spki)).toBe(result.activeKid);
    const jwks = JSON.parse(await text('file-public', 'openid/v1/jwks')) as {
      keys: Array<{ kid: string; alg: string }>;
    };
    expect(jwks.keys).toEqual([expect.objectContaining({ kid: result.activeKid, alg: 'ES256' })]);
    // The wrong cluster's context cannot unwrap it.
    await expect(
      unwrapPrivateKey({ ...clients, bucket: 'file-state', cluster: 'other' }, record),
    ).rejects.toThrow();
  }, 60_000);
});
