/**
 * key-sync against moto_server with the real AWS SDK: a key wrapped with KMS Encrypt under the
 * {cluster, kid} context is unwrapped and installed; the wrong cluster name fails with
 * KEY_SYNC_CONTEXT_MISMATCH. Skipped loudly without moto_server.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateKeyCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isIrsaError } from '#core/errors.ts';
import { serializeKeyset } from '#core/keyset-parse.ts';
import { syncOnce } from '#scripts/lib/key-sync/sync.ts';
import { type Moto, motoAvailable, startMoto } from '../../../functions/rotate/moto-server.ts';
import { CLUSTER, makeWorld } from './world.ts';

const HAVE_MOTO = motoAvailable('the key-sync test against moto');

describe.skipIf(!HAVE_MOTO)('key-sync against moto_server', () => {
  let moto: Moto;
  let s3: S3Client;
  let kms: KMSClient;
  const world = makeWorld();

  beforeAll(async () => {
    moto = await startMoto();
    const config = {
      region: 'eu-west-1',
      endpoint: moto.endpoint,
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    };
    s3 = new S3Client({ ...config, forcePathStyle: true });
    kms = new KMSClient(config);
    const { KeyMetadata } = await kms.send(new CreateKeyCommand({ KeySpec: 'SYMMETRIC_DEFAULT' }));
    const wrappingKeyId = KeyMetadata?.Arn ?? '';
    await s3.send(
      new CreateBucketCommand({
        Bucket: 'state',
        CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' },
      }),
    );
    for (const key of [world.active, world.retired, world.pending]) {
      key.record.location = { type: 'wrapped', object: `keys/${key.record.kid}.wrapped`, wrappingKeyId };
      const out = await kms.send(
        new EncryptCommand({
          KeyId: wrappingKeyId,
          Plaintext: key.pkcs8,
          EncryptionContext: { cluster: CLUSTER, kid: key.record.kid },
        }),
      );
      await s3.send(
        new PutObjectCommand({
          Bucket: 'state',
          Key: `keys/${key.record.kid}.wrapped`,
          Body: out.CiphertextBlob,
        }),
      );
    }
    await s3.send(
      new PutObjectCommand({ Bucket: 'state', Key: 'keyset.json', Body: serializeKeyset(world.keyset) }),
    );
  });

  afterAll(async () => {
    await moto?.stop();
  });

  it('unwraps the active key with the right context and installs it', async () => {
    const keyDir = join(mkdtempSync(join(tmpdir(), 'key-sync-moto-')), 'keys');
    const report = await syncOnce({
      s3,
      kms,
      state: { bucket: 'state', key: 'keyset.json' },
      cluster: CLUSTER,
      keyDir,
      manifest: null,
      now: () => new Date(),
    });
    expect(report.kid).toBe(world.active.record.kid);
    expect(readFileSync(join(keyDir, 'signing.key'), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  });

  it('fails with KEY_SYNC_CONTEXT_MISMATCH when the context names another cluster', async () => {
    await s3.send(
      new PutObjectCommand({
        Bucket: 'state',
        Key: 'other.json',
        Body: serializeKeyset({ ...world.keyset, cluster: 'other' }),
      }),
    );
    const keyDir = join(mkdtempSync(join(tmpdir(), 'key-sync-moto-')), 'keys');
    await expect(
      syncOnce({
        s3,
        kms,
        state: { bucket: 'state', key: 'other.json' },
        cluster: 'other',
        keyDir,
        manifest: null,
        now: () => new Date(),
      }),
    ).rejects.toSatisfy((e: unknown) => isIrsaError(e, 'KEY_SYNC_CONTEXT_MISMATCH'));
  });
});
