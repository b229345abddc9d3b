import { DescribeKeyCommand, KMSClient, ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import {
  GetResourcesCommand,
  ResourceGroupsTaggingAPIClient,
  type ResourceTagMapping,
} from '@aws-sdk/client-resource-groups-tagging-api';
import { DeleteObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { isClusterKey, type SweepDeps, sweepStack } from '#adapters/aws/stack-sweep.ts';
import { awsError } from './aws-fakes.ts';

const kms = mockClient(KMSClient);
const s3 = mockClient(S3Client);
const tagging = mockClient(ResourceGroupsTaggingAPIClient);

const deps: SweepDeps = {
  kms: new KMSClient({ region: 'us-east-1' }),
  s3: new S3Client({ region: 'us-east-1' }),
  tagging: new ResourceGroupsTaggingAPIClient({ region: 'us-east-1' }),
  cluster: 'prod',
  stateBucket: 'state-bucket',
  deletionWindowDays: 21,
};

const arn = (id: string) => `arn:aws:kms:us-east-1:111122223333:key/${id}`;
const tagged = (id: string, tags: Record<string, string>): ResourceTagMapping => ({
  ResourceARN: arn(id),
  Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
});
const NEW = { 'irsa-anywhere:cluster': 'prod', 'irsa-anywhere:managed-by': 'irsa-anywhere' };
const OLD = { cluster: 'prod', 'managed-by': 'irsa-anywhere' };

beforeEach(() => {
  kms.reset();
  s3.reset();
  tagging.reset();
  kms
    .on(DescribeKeyCommand)
    .resolves({ KeyMetadata: { KeyId: 'x', KeyUsage: 'SIGN_VERIFY', KeyState: 'Enabled' } });
  kms.on(ScheduleKeyDeletionCommand).resolves({});
  s3.on(ListObjectsV2Command).resolves({ Contents: [] });
  s3.on(DeleteObjectCommand).resolves({});
  tagging.on(GetResourcesCommand).resolves({ ResourceTagMappingList: [] });
});

describe('isClusterKey', () => {
  it('needs both tags of one scheme: this cluster and managed-by irsa-anywhere', () => {
    expect(isClusterKey(tagged('a', NEW), 'prod')).toBe(true);
    expect(isClusterKey(tagged('a', OLD), 'prod')).toBe(true);
    expect(isClusterKey(tagged('a', { ...NEW, 'irsa-anywhere:cluster': 'staging' }), 'prod')).toBe(false);
    expect(isClusterKey(tagged('a', { 'irsa-anywhere:cluster': 'prod' }), 'prod')).toBe(false);
    expect(
      isClusterKey(tagged('a', { cluster: 'prod', 'irsa-anywhere:managed-by': 'irsa-anywhere' }), 'prod'),
    ).toBe(false);
    expect(isClusterKey(tagged('a', { ...OLD, 'managed-by': 'terraform' }), 'prod')).toBe(false);
    expect(isClusterKey({ ResourceARN: arn('a') }, 'prod')).toBe(false);
  });
});

describe('sweepStack', () => {
  it('schedules every key tagged for the cluster (both tag schemes, all pages) with the window, and nothing else', async () => {
    tagging
      .on(GetResourcesCommand, { TagFilters: [{ Key: 'irsa-anywhere:cluster', Values: ['prod'] }] })
      .resolvesOnce({
        ResourceTagMappingList: [
          tagged('new-1', NEW),
          tagged('foreign', { 'irsa-anywhere:cluster': 'prod' }),
        ],
        PaginationToken: 'page-2',
      })
      .resolvesOnce({ ResourceTagMappingList: [tagged('new-2', NEW)], PaginationToken: '' });
    tagging.on(GetResourcesCommand, { TagFilters: [{ Key: 'cluster', Values: ['prod'] }] }).resolves({
      ResourceTagMappingList: [tagged('old-1', OLD), tagged('other-team', { cluster: 'prod' })],
    });

    const report = await sweepStack(deps);

    expect(report).toEqual({
      keysScheduled: [arn('new-1'), arn('new-2'), arn('old-1')],
      objectsDeleted: [],
      problems: [],
    });
    const scheduled = kms.commandCalls(ScheduleKeyDeletionCommand).map((c) => c.args[0].input);
    expect(scheduled).toEqual(
      ['new-1', 'new-2', 'old-1'].map((id) => ({ KeyId: id, PendingWindowInDays: 21 })),
    );
    expect(tagging.commandCalls(GetResourcesCommand)[1]?.args[0].input).toMatchObject({
      ResourceTypeFilters: ['kms:key'],
      PaginationToken: 'page-2',
    });
  });

  it('skips the wrapping key (ENCRYPT_DECRYPT) and keys already pending deletion', async () => {
    tagging.on(GetResourcesCommand).resolves({
      ResourceTagMappingList: [tagged('wrap', NEW), tagged('pending', NEW), tagged('live', NEW)],
    });
    kms
      .on(DescribeKeyCommand, { KeyId: 'wrap' })
      .resolves({ KeyMetadata: { KeyId: 'wrap', KeyUsage: 'ENCRYPT_DECRYPT', KeyState: 'Enabled' } });
    kms
      .on(DescribeKeyCommand, { KeyId: 'pending' })
      .resolves({ KeyMetadata: { KeyId: 'pending', KeyUsage: 'SIGN_VERIFY', KeyState: 'PendingDeletion' } });
    const report = await sweepStack(deps);
    expect(report.keysScheduled).toEqual([arn('live')]);
    expect(kms).toHaveReceivedCommandTimes(ScheduleKeyDeletionCommand, 1);
  });

  it('deletes every wrapped-key object under keys/ in the state bucket, and nothing else there', async () => {
    s3.on(ListObjectsV2Command)
      .resolvesOnce({
        Contents: [{ Key: 'keys/abc_-1.wrapped' }, { Key: 'keys/notes.txt' }],
        IsTruncated: true,
        NextContinuationToken: 't2',
      })
      .resolvesOnce({ Contents: [{ Key: 'keys/def.wrapped' }], IsTruncated: false });
    const report = await sweepStack(deps);
    expect(report.objectsDeleted).toEqual(['keys/abc_-1.wrapped', 'keys/def.wrapped']);
    expect(s3.commandCalls(ListObjectsV2Command).map((c) => c.args[0].input)).toEqual([
      { Bucket: 'state-bucket', Prefix: 'keys/' },
      { Bucket: 'state-bucket', Prefix: 'keys/', ContinuationToken: 't2' },
    ]);
    expect(s3.commandCalls(DeleteObjectCommand).map((c) => c.args[0].input.Key)).toEqual([
      'keys/abc_-1.wrapped',
      'keys/def.wrapped',
    ]);
  });

  it('never fails: each refusal becomes a problem line and the sweep goes on', async () => {
    tagging
      .on(GetResourcesCommand)
      .resolves({ ResourceTagMappingList: [tagged('denied', NEW), tagged('ok', NEW)] });
    kms
      .on(ScheduleKeyDeletionCommand, { KeyId: 'denied' })
      .rejects(awsError('AccessDeniedException', 400, 'not allowed'));
    s3.on(ListObjectsV2Command).resolves({ Contents: [{ Key: 'keys/a.wrapped' }] });
    const report = await sweepStack(deps);
    expect(report.keysScheduled).toEqual([arn('ok')]);
    expect(report.objectsDeleted).toEqual(['keys/a.wrapped']);
    expect(report.problems).toEqual([expect.stringContaining(`key ${arn('denied')}`)]);

    tagging.on(GetResourcesCommand).rejects(awsError('AccessDeniedException', 400, 'no tag:GetResources'));
    const blind = await sweepStack(deps);
    expect(blind.problems).toEqual([expect.stringContaining('tag:GetResources')]);
    expect(blind.objectsDeleted).toEqual(['keys/a.wrapped']);
  });

  it('a key scheduled meanwhile (KMSInvalidStateException) is not a problem', async () => {
    tagging.on(GetResourcesCommand).resolves({ ResourceTagMappingList: [tagged('raced', NEW)] });
    kms.on(ScheduleKeyDeletionCommand).rejects(awsError('KMSInvalidStateException', 400));
    expect(await sweepStack(deps)).toEqual({ keysScheduled: [], objectsDeleted: [], problems: [] });
  });
});
