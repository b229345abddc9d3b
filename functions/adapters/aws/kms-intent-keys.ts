/**
 * Finding the KMS keys an abandoned keyset intent left (kms mode). A key created for an intent
 * names it twice: in the tag `irsa-anywhere:intent = <cluster>/<intent id>` (set right after
 * CreateKey, with the cluster tags) and in its Description (set by CreateKey itself: no tag at
 * CreateKey, see kms-keys.ts). The search:
 * 1. `tag:GetResources` on the intent tag (granted only on `*`; docs/security.md);
 * 2. when that finds nothing, the run that created the key may have died before tagging it (a
 *    timeout after CreateKey took effect): `kms:ListKeys` and DescribeKey of each key, matching the
 *    exact Description. Keys the roles cannot describe are not theirs and are skipped. This scan is
 *    paid only for an abandoned intent whose key is not tagged, which is rare.
 * Keys already pending deletion are skipped. Found keys are never adopted, only destroyed: a key
 * found by search could have been planted by someone else, and KMS offers no way to prove origin.
 */
import { DescribeKeyCommand, type KMSClient, ListKeysCommand } from '@aws-sdk/client-kms';
import {
  GetResourcesCommand,
  type ResourceGroupsTaggingAPIClient,
} from '@aws-sdk/client-resource-groups-tagging-api';
import type { FoundKey } from '#core/ports.ts';
import { isAwsError } from './aws-errors.ts';
import { TAG_CLUSTER } from './kms-key-policy.ts';

/** Tag key carrying `<cluster>/<intent id>` of the keyset intent a key was created for. */
export const TAG_INTENT = 'irsa-anywhere:intent';

/** The intent tag of a key created for `intent` of `cluster` (intent ids are unique per keyset only). */
export function intentTags(cluster: string, intent: string): Array<{ TagKey: string; TagValue: string }> {
  return [{ TagKey: TAG_INTENT, TagValue: `${cluster}/${intent}` }];
}

/** The Description CreateKey sets: it names the cluster and, for an intent, the intent. */
export function keyDescription(cluster: string, intent?: string): string {
  const base = `irsa-anywhere service-account signing key for cluster ${cluster}`;
  return intent === undefined ? base : `${base} (intent ${intent})`;
}

/** Clients and cluster for {@link findKmsIntentKeys}. */
export interface IntentSearch {
  kms: KMSClient;
  tagging: ResourceGroupsTaggingAPIClient;
  cluster: string;
}

/** Key ids tagged with the intent, except keys tagged for another cluster. */
async function taggedKeyIds(search: IntentSearch, intent: string): Promise<string[]> {
  const ids: string[] = [];
  let token: string | undefined;
  do {
    const page = await search.tagging.send(
      new GetResourcesCommand({
        ResourceTypeFilters: ['kms:key'],
        TagFilters: [{ Key: TAG_INTENT, Values: [`${search.cluster}/${intent}`] }],
        ...(token === undefined ? {} : { PaginationToken: token }),
      }),
    );
    for (const mapping of page.ResourceTagMappingList ?? []) {
      const cluster = mapping.Tags?.find((tag) => tag.Key === TAG_CLUSTER)?.Value;
      const arn = mapping.ResourceARN;
      if (arn !== undefined && (cluster === undefined || cluster === search.cluster))
        ids.push(arn.slice(arn.lastIndexOf('/') + 1));
    }
    token = page.PaginationToken === '' ? undefined : page.PaginationToken;
  } while (token !== undefined);
  return ids;
}

/** Every key id of the account and region (`kms:ListKeys`). */
async function allKeyIds(kms: KMSClient): Promise<string[]> {
  const ids: string[] = [];
  let marker: string | undefined;
  do {
    const page = await kms.send(
      new ListKeysCommand({ Limit: 1000, ...(marker === undefined ? {} : { Marker: marker }) }),
    );
    for (const key of page.Keys ?? []) if (key.KeyId !== undefined) ids.push(key.KeyId);
    marker = page.Truncated === true ? page.NextMarker : undefined;
  } while (marker !== undefined);
  return ids;
}

/** DescribeKey; `undefined` for a key this role may not see or that is gone. */
async function describe(kms: KMSClient, keyId: string) {
  try {
    return (await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata;
  } catch (error) {
    if (isAwsError(error, ['AccessDeniedException', 'NotFoundException'], [403])) return undefined;
    throw error;
  }
}

/** Enabled keys left by a create for `intent`: by tag, else by Description (see the file comment). */
export async function findKmsIntentKeys(search: IntentSearch, intent: string): Promise<FoundKey[]> {
  const tagged = await taggedKeyIds(search, intent);
  const description = keyDescription(search.cluster, intent);
  const found: FoundKey[] = [];
  for (const keyId of tagged.length > 0 ? tagged : await allKeyIds(search.kms)) {
    const metadata = await describe(search.kms, keyId);
    if (metadata?.KeyState !== 'Enabled') continue;
    if (tagged.length === 0 && metadata.Description !== description) continue;
    found.push({ kid: `intent ${intent}`, location: { type: 'kms', keyId } });
  }
  return found;
}
