/**
 * The stack-removal sweep against moto_server (real SDK, moto's KMS, S3 and Resource Groups Tagging
 * API, which lists KMS keys by tag): only keys carrying this stack's tags are scheduled for deletion,
 * with the window; the wrapping key, other clusters' keys and half-tagged keys are untouched.
 */
import { CreateKeyCommand, DescribeKeyCommand, type Tag } from '@aws-sdk/client-kms';
import { CreateBucketCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { sweepStack } from '#adapters/aws/stack-sweep.ts';
import { type AwsClients, createAwsClients } from '#adapters/compose.ts';
import { type Moto, motoAvailable, startMoto } from '../../rotate/moto-server.ts';

const HAVE_MOTO = motoAvailable('the stack-removal sweep test against moto');

describe.skipIf(!HAVE_MOTO)('stack-removal sweep against moto_server', () => {
  let moto: Moto;
  let clients: AwsClients;

  beforeAll(async () => {
    moto = await startMoto();
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'testing');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'testing');
    clients = createAwsClients({ endpoint: moto.endpoint, region: 'us-east-1' });
  }, 60_000);

  afterAll(async () => {
    vi.unstubAllEnvs();
    await moto?.stop();
  });

  const key = async (
    tags: Record<string, string>,
    usage: 'SIGN_VERIFY' | 'ENCRYPT_DECRYPT' = 'SIGN_VERIFY',
  ) => {
    const Tags: Tag[] = Object.entries(tags).map(([TagKey, TagValue]) => ({ TagKey, TagValue }));
    const out = await clients.kms.send(
      new CreateKeyCommand({
        KeyUsage: usage,
        ...(usage === 'SIGN_VERIFY' ? { KeySpec: 'ECC_NIST_P256' as const } : {}),
        Tags,
      }),
    );
    return out.KeyMetadata?.Arn ?? '';
  };
  const state = async (arn: string) =>
    (await clients.kms.send(new DescribeKeyCommand({ KeyId: arn }))).KeyMetadata;

  it('schedules exactly the keys tagged for this stack and deletes its wrapped objects', async () => {
    const ours = { 'irsa-anywhere:cluster': 'prod', 'irsa-anywhere:managed-by': 'irsa-anywhere' };
    const namespaced = await key(ours);
    const legacy = await key({ cluster: 'prod', 'managed-by': 'irsa-anywhere' });
    const otherCluster = await key({ ...ours, 'irsa-anywhere:cluster': 'staging' });
    const halfTagged = await key({ 'irsa-anywhere:cluster': 'prod' });
    const untagged = await key({});
    const wrapping = await key(ours, 'ENCRYPT_DECRYPT');
    await clients.s3.send(new CreateBucketCommand({ Bucket: 'state-bucket' }));
    for (const Key of ['keyset.json', 'keys/abc.wrapped', 'keys/def.wrapped'])
      await clients.s3.send(new PutObjectCommand({ Bucket: 'state-bucket', Key, Body: 'x' }));
    if (clients.tagging === undefined) throw new Error('no tagging client');

    const before = Date.now();
    const report = await sweepStack({
      kms: clients.kms,
      s3: clients.s3,
      tagging: clients.tagging,
      cluster: 'prod',
      stateBucket: 'state-bucket',
      deletionWindowDays: 21,
    });

    expect(report.problems).toEqual([]);
    expect(report.keysScheduled.sort()).toEqual([namespaced, legacy].sort());
    for (const arn of [namespaced, legacy]) {
      const meta = await state(arn);
      expect(meta?.KeyState).toBe('PendingDeletion');
      const days = ((meta?.DeletionDate?.getTime() ?? 0) - before) / 86_400_000;
      expect(days).toBeGreaterThan(20.9);
      expect(days).toBeLessThan(21.1);
    }
    for (const arn of [otherCluster, halfTagged, untagged, wrapping])
      expect((await state(arn))?.KeyState, arn).toBe('Enabled');
    expect(report.objectsDeleted.sort()).toEqual(['keys/abc.wrapped', 'keys/def.wrapped']);
    const left = await clients.s3.send(new ListObjectsV2Command({ Bucket: 'state-bucket' }));
    expect((left.Contents ?? []).map((o) => o.Key)).toEqual(['keyset.json']);

    // A second sweep finds nothing left to do.
    const again = await sweepStack({
      kms: clients.kms,
      s3: clients.s3,
      tagging: clients.tagging,
      cluster: 'prod',
      stateBucket: 'state-bucket',
      deletionWindowDays: 21,
    });
    expect(again).toEqual({ keysScheduled: [], objectsDeleted: [], problems: [] });
  });
});
