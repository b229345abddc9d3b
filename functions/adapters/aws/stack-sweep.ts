/**
 * Stack removal: besides the keys the keyset lists, sweep every signing key and wrapped-key object
 * that belongs to this stack, so nothing outlives it (a key costs $1 a month until deleted).
 *
 * - KMS keys: `tag:GetResources` (resource type `kms:key`) lists the keys tagged with this
 *   cluster, under the namespaced tags (`irsa-anywhere:cluster` + `irsa-anywhere:managed-by`) or
 *   those of the release before them (`cluster` + `managed-by`). A key is touched only when BOTH
 *   tags of one scheme match (cluster = this cluster, managed-by = irsa-anywhere), it is a
 *   SIGN_VERIFY key and it is not already pending deletion; it is then scheduled for deletion
 *   with the stack's deletion window. `tag:GetResources` has no resource-level permissions (AWS
 *   grants it only on `*`); it reads tags, and the role's KMS permissions still apply per key.
 * - Wrapped keys (file mode): every `keys/<kid>.wrapped` object in this stack's own state bucket.
 *
 * Each item is best effort: a failure is reported and the sweep goes on.
 */
import { DescribeKeyCommand, type KMSClient, ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import {
  GetResourcesCommand,
  type ResourceGroupsTaggingAPIClient,
  type ResourceTagMapping,
} from '@aws-sdk/client-resource-groups-tagging-api';
import { DeleteObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { formatError } from '#core/errors.ts';
import { isAwsError } from './aws-errors.ts';
import { LEGACY_TAGS, MANAGED_BY, TAG_CLUSTER, TAG_MANAGED_BY } from './kms-key-policy.ts';

/** The tag schemes a key of this project may carry: [cluster tag key, managed-by tag key]. */
const TAG_SCHEMES: ReadonlyArray<readonly [string, string]> = [
  [TAG_CLUSTER, TAG_MANAGED_BY],
  [LEGACY_TAGS.cluster, LEGACY_TAGS.managedBy],
];

/** The prefix and shape of wrapped-key objects in the state bucket. */
const WRAPPED_PREFIX = 'keys/';
const WRAPPED_OBJECT = /^keys\/[A-Za-z0-9_-]{1,128}\.wrapped$/;

/** What {@link sweepStack} works with. */
export interface SweepDeps {
  kms: KMSClient;
  s3: S3Client;
  tagging: ResourceGroupsTaggingAPIClient;
  cluster: string;
  stateBucket: string;
  /** ScheduleKeyDeletion window, 7–30 days. */
  deletionWindowDays: number;
}

/** What the sweep did. */
export interface SweepReport {
  keysScheduled: string[];
  objectsDeleted: string[];
  /** One line per item that could not be handled (left for a person). */
  problems: string[];
}

/** True when the tags name this cluster and irsa-anywhere under one tag scheme. */
export function isClusterKey(mapping: ResourceTagMapping, cluster: string): boolean {
  const tags = new Map((mapping.Tags ?? []).map((tag) => [tag.Key, tag.Value]));
  return TAG_SCHEMES.some(
    ([clusterKey, managedKey]) => tags.get(clusterKey) === cluster && tags.get(managedKey) === MANAGED_BY,
  );
}

/** ARNs of the KMS keys tagged for `cluster` (either scheme), deduplicated, in listing order. */
export async function findClusterKeyArns(
  tagging: ResourceGroupsTaggingAPIClient,
  cluster: string,
): Promise<string[]> {
  const arns = new Set<string>();
  for (const [clusterKey] of TAG_SCHEMES) {
    let token: string | undefined;
    do {
      const page = await tagging.send(
        new GetResourcesCommand({
          ResourceTypeFilters: ['kms:key'],
          TagFilters: [{ Key: clusterKey, Values: [cluster] }],
          ...(token === undefined ? {} : { PaginationToken: token }),
        }),
      );
      for (const mapping of page.ResourceTagMappingList ?? []) {
        // The filter matched the cluster tag; the managed-by tag must match too.
        if (mapping.ResourceARN !== undefined && isClusterKey(mapping, cluster))
          arns.add(mapping.ResourceARN);
      }
      token = page.PaginationToken === '' ? undefined : page.PaginationToken;
    } while (token !== undefined);
  }
  return [...arns];
}

async function scheduleIfSigningKey(deps: SweepDeps, keyArn: string): Promise<boolean> {
  // The key id, not the ARN: KMS takes both, emulators (moto) only the id for ScheduleKeyDeletion.
  const keyId = keyArn.slice(keyArn.lastIndexOf('/') + 1);
  const described = await deps.kms.send(new DescribeKeyCommand({ KeyId: keyId }));
  const meta = described.KeyMetadata;
  // Never the wrapping key (ENCRYPT_DECRYPT, kept on purpose) or a key already on its way out.
  if (meta?.KeyUsage !== 'SIGN_VERIFY' || meta.KeyState === 'PendingDeletion') return false;
  try {
    await deps.kms.send(
      new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: deps.deletionWindowDays }),
    );
  } catch (error) {
    if (isAwsError(error, ['KMSInvalidStateException'])) return false; // scheduled meanwhile
    throw error;
  }
  return true;
}

async function listWrappedObjects(deps: SweepDeps): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await deps.s3.send(
      new ListObjectsV2Command({
        Bucket: deps.stateBucket,
        Prefix: WRAPPED_PREFIX,
        ...(token === undefined ? {} : { ContinuationToken: token }),
      }),
    );
    for (const object of page.Contents ?? [])
      if (object.Key !== undefined && WRAPPED_OBJECT.test(object.Key)) keys.push(object.Key);
    token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return keys;
}

/** Sweeps this stack's signing keys and wrapped-key objects (see the module comment). */
export async function sweepStack(deps: SweepDeps): Promise<SweepReport> {
  const report: SweepReport = { keysScheduled: [], objectsDeleted: [], problems: [] };
  try {
    for (const arn of await findClusterKeyArns(deps.tagging, deps.cluster)) {
      try {
        if (await scheduleIfSigningKey(deps, arn)) report.keysScheduled.push(arn);
      } catch (error) {
        report.problems.push(`key ${arn}: ${formatError(error)}`);
      }
    }
  } catch (error) {
    report.problems.push(`listing the cluster's KMS keys (tag:GetResources): ${formatError(error)}`);
  }
  try {
    for (const key of await listWrappedObjects(deps)) {
      try {
        await deps.s3.send(new DeleteObjectCommand({ Bucket: deps.stateBucket, Key: key }));
        report.objectsDeleted.push(key);
      } catch (error) {
        report.problems.push(`object ${key}: ${formatError(error)}`);
      }
    }
  } catch (error) {
    report.problems.push(`listing ${WRAPPED_PREFIX} in the state bucket: ${formatError(error)}`);
  }
  return report;
}
