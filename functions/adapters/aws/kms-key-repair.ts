/**
 * In-place repair of one signing key: the current key policy and the namespaced tags, for keys
 * created by a release that had neither (default key policy, bare `cluster`/`kid` tags). The
 * steps are ordered so the control-plane nodes can sign at every moment in between:
 *
 * 1. PutKeyPolicy (allowed to the function roles by IAM while the key still has its old tags;
 *    afterwards by the key policy itself). Nodes: the new policy allows tagged nodes, and the
 *    node policy still matches the old tags (statement `SignWithKeysOfTheRelease...`).
 * 2. TagResource with the namespaced tags (under the new key policy).
 * 3. Only on a LATER check (a later cold start), once the namespaced tags are in effect (KMS takes
 *    up to five minutes to apply tag changes to authorization): UntagResource of the old tags.
 *
 * A key that carries another cluster's tag is refused (`KMS_KEY_FOREIGN`) and left untouched.
 */
import {
  GetKeyPolicyCommand,
  type KMSClient,
  ListResourceTagsCommand,
  PutKeyPolicyCommand,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-kms';
import { IrsaError } from '#core/errors.ts';
import { isAwsError } from './aws-errors.ts';
import {
  type KeyAuthority,
  LEGACY_TAGS,
  MANAGED_BY,
  samePolicy,
  signingKeyPolicy,
  signingKeyTags,
  TAG_CLUSTER,
  TAG_KID,
  TAG_MANAGED_BY,
} from './kms-key-policy.ts';

/** The key to repair and what it should look like. */
export interface RepairTarget {
  keyId: string;
  kid: string;
  cluster: string;
  /** Undefined: the policy is left as it is (function role ARNs unknown); only tags are fixed. */
  authority: KeyAuthority | undefined;
}

async function tagsOf(kms: KMSClient, keyId: string): Promise<Record<string, string>> {
  const tags: Record<string, string> = {};
  let marker: string | undefined;
  do {
    const out = await kms.send(
      new ListResourceTagsCommand({ KeyId: keyId, ...(marker ? { Marker: marker } : {}) }),
    );
    for (const tag of out.Tags ?? []) tags[tag.TagKey ?? ''] = tag.TagValue ?? '';
    marker = out.Truncated === true ? out.NextMarker : undefined;
  } while (marker !== undefined);
  return tags;
}

function checkOwnership(tags: Record<string, string>, target: RepairTarget): void {
  const claimed = tags[TAG_CLUSTER] ?? tags[LEGACY_TAGS.cluster];
  if (claimed !== undefined && claimed !== target.cluster) {
    throw new IrsaError(
      'KMS_KEY_FOREIGN',
      `KMS key ${target.keyId} (kid ${target.kid}) is tagged for cluster "${claimed}", not "${target.cluster}"; it was left untouched.`,
      'Check who edited keyset.json: a key of another cluster must never be listed in this keyset.',
    );
  }
}

/** Repairs one key; returns the changes made (empty when it was already right). */
export async function repairKey(kms: KMSClient, target: RepairTarget): Promise<string[]> {
  const changes: string[] = [];
  try {
    const tags = await tagsOf(kms, target.keyId);
    checkOwnership(tags, target);
    if (target.authority !== undefined) {
      const wanted = signingKeyPolicy(target.authority);
      const stored = await kms.send(new GetKeyPolicyCommand({ KeyId: target.keyId, PolicyName: 'default' }));
      if (!samePolicy(stored.Policy, wanted)) {
        await kms.send(
          new PutKeyPolicyCommand({
            KeyId: target.keyId,
            PolicyName: 'default',
            Policy: JSON.stringify(wanted),
          }),
        );
        changes.push('key-policy');
      }
    }
    const namespaced =
      tags[TAG_CLUSTER] === target.cluster &&
      tags[TAG_MANAGED_BY] === MANAGED_BY &&
      tags[TAG_KID] === target.kid;
    if (!namespaced) {
      await kms.send(
        new TagResourceCommand({ KeyId: target.keyId, Tags: signingKeyTags(target.cluster, target.kid) }),
      );
      changes.push('tags');
    } else {
      const legacy = Object.values(LEGACY_TAGS).filter((key) => key in tags);
      if (legacy.length > 0) {
        await kms.send(new UntagResourceCommand({ KeyId: target.keyId, TagKeys: legacy }));
        changes.push('legacy-tags-removed');
      }
    }
  } catch (error) {
    // A key already scheduled for deletion (or gone) cannot be changed and needs no repair.
    if (isAwsError(error, ['KMSInvalidStateException', 'NotFoundException'])) return changes;
    throw error;
  }
  return changes;
}
