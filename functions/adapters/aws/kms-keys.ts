/**
 * kms mode: each signing key is an asymmetric KMS key (RSA_2048 or ECC_NIST_P256, SIGN_VERIFY).
 * The private half never leaves KMS. Each key is created with an explicit key policy
 * (kms-key-policy.ts: the function roles administer it, only this cluster's tagged control-plane
 * nodes sign) and no tags; the tags `irsa-anywhere:cluster`, `irsa-anywhere:managed-by` and, once
 * the public key is known, `irsa-anywhere:kid` are then added under that key policy. Tagging at
 * CreateKey would need an IAM `kms:TagResource` grant that no resource condition can limit, i.e. a
 * grant to put this cluster's tag on any key in the account (docs/security.md). A key created for
 * a keyset intent names the intent in its Description and in the tag `irsa-anywhere:intent` (set
 * with the others), and CreateKey is sent with a single attempt: kms-intent-keys.ts finds what an
 * abandoned intent left, even a key whose run died before it could tag it.
 */
import {
  CreateKeyCommand,
  DescribeKeyCommand,
  GetPublicKeyCommand,
  type KMSClient,
  ScheduleKeyDeletionCommand,
  TagResourceCommand,
} from '@aws-sdk/client-kms';
import type { ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { IrsaError } from '#core/errors.ts';
import type { KeyLocation, KeyRecord, KeySpec } from '#core/keyset.ts';
import type {
  CreatedKey,
  CreateOptions,
  FoundKey,
  KeyBackend,
  KeyRepairReport,
  KeyToDestroy,
} from '#core/ports.ts';
import { isAwsError } from './aws-errors.ts';
import { findKmsIntentKeys, intentTags, keyDescription, TAG_INTENT } from './kms-intent-keys.ts';
import { type KeyAuthority, signingKeyPolicy, signingKeyTags, TAG_KID } from './kms-key-policy.ts';
import { repairKey } from './kms-key-repair.ts';

export { MANAGED_BY, TAG_CLUSTER, TAG_KID, TAG_MANAGED_BY } from './kms-key-policy.ts';
export { TAG_INTENT };
/** KMS waits this many days before deleting a scheduled key, unless configured (KMS allows 7–30). */
export const DEFAULT_DELETION_WINDOW_DAYS = 7;

export interface KmsKeysOptions {
  kms: KMSClient;
  /** The client CreateKey is sent with: configured for a single attempt (default: `kms`). */
  kmsCreate?: KMSClient;
  /** For {@link KmsKeys.findIntentKeys}; without it abandoned intents are closed unsearched. */
  tagging?: ResourceGroupsTaggingAPIClient;
  cluster: string;
  /** ScheduleKeyDeletion waiting period, 7–30 days (default 7). */
  deletionWindowDays?: number;
  /**
   * Who the key policy names (the function roles). Without it keys get the KMS default policy,
   * as releases before the explicit policy did, and {@link KmsKeys.reconcile} only fixes tags.
   */
  authority?: KeyAuthority;
}

/** Checks a KMS deletion window (7–30 whole days). */
export function checkDeletionWindow(days: number): number {
  if (!Number.isInteger(days) || days < 7 || days > 30) {
    throw new IrsaError(
      'CONFIG_INVALID',
      `The KMS key deletion window must be a whole number of days from 7 to 30, got ${days}.`,
      'Set KEY_DELETION_WINDOW_DAYS between 7 and 30.',
    );
  }
  return days;
}

/** The public half of a KMS key: DER SubjectPublicKeyInfo and its key spec. */
export interface KmsPublicKey {
  spki: Uint8Array;
  keySpec: string | undefined;
}

/**
 * Reads a KMS key's public half. The key spec comes from `KeySpec`, or from the deprecated
 * `CustomerMasterKeySpec` that older APIs and emulators (moto) still return alone.
 */
export async function getKmsPublicKey(kms: KMSClient, keyId: string): Promise<KmsPublicKey> {
  const out = await kms.send(new GetPublicKeyCommand({ KeyId: keyId }));
  if (out.PublicKey === undefined || out.PublicKey.length === 0) {
    throw new IrsaError(
      'KMS_PUBLIC_KEY_MISSING',
      `KMS GetPublicKey returned no public key for ${keyId}.`,
      'Check that the key is an asymmetric SIGN_VERIFY key and is enabled.',
    );
  }
  return { spki: out.PublicKey, keySpec: out.KeySpec ?? out.CustomerMasterKeySpec };
}

function kmsLocation(location: KeyLocation): { type: 'kms'; keyId: string; keyArn?: string } {
  if (location.type !== 'kms') {
    throw new IrsaError(
      'KEY_LOCATION_MISMATCH',
      `A ${location.type} key was handed to the KMS key backend.`,
      'Set KEY_MODE to the mode the keyset was created with.',
    );
  }
  return location;
}

/** {@link KeyBackend} for asymmetric KMS keys. */
export class KmsKeys implements KeyBackend {
  readonly #kms: KMSClient;
  readonly #kmsCreate: KMSClient;
  readonly #tagging: ResourceGroupsTaggingAPIClient | undefined;
  readonly #cluster: string;
  readonly #windowDays: number;
  readonly #authority: KeyAuthority | undefined;
  /** Keys whose policy and tags were checked (or set) by this process: checked once per container. */
  readonly #verified = new Set<string>();

  constructor(options: KmsKeysOptions) {
    this.#kms = options.kms;
    this.#kmsCreate = options.kmsCreate ?? options.kms;
    this.#tagging = options.tagging;
    this.#cluster = options.cluster;
    this.#windowDays = checkDeletionWindow(options.deletionWindowDays ?? DEFAULT_DELETION_WINDOW_DAYS);
    this.#authority = options.authority;
  }

  /** True when keys get the explicit key policy (the function role ARNs are known). */
  get hasKeyPolicy(): boolean {
    return this.#authority !== undefined;
  }

  /**
   * Creates a SIGN_VERIFY key with the key policy (one attempt, carrying only the intent tag: a
   * key left by a timeout is found by it), tags it, and returns its id and public key.
   */
  async create(spec: KeySpec, options: CreateOptions = {}): Promise<CreatedKey> {
    const policy =
      this.#authority === undefined ? undefined : JSON.stringify(signingKeyPolicy(this.#authority));
    const created = await this.#kmsCreate.send(
      new CreateKeyCommand({
        KeySpec: spec,
        KeyUsage: 'SIGN_VERIFY',
        Origin: 'AWS_KMS',
        Description: keyDescription(this.#cluster, options.intent),
        ...(policy === undefined ? {} : { Policy: policy }),
      }),
    );
    const keyId = created.KeyMetadata?.KeyId;
    if (keyId === undefined) {
      throw new IrsaError(
        'KMS_CREATE_FAILED',
        'KMS CreateKey returned no key id.',
        'Retry the rotation; if it persists, check the KMS service health.',
      );
    }
    let publicKey: KmsPublicKey;
    try {
      const intent = options.intent === undefined ? [] : intentTags(this.#cluster, options.intent);
      await this.#kms.send(
        new TagResourceCommand({ KeyId: keyId, Tags: [...signingKeyTags(this.#cluster), ...intent] }),
      );
      publicKey = await getKmsPublicKey(this.#kms, keyId);
      if (publicKey.keySpec !== undefined && publicKey.keySpec !== spec) {
        throw new IrsaError(
          'KMS_KEY_SPEC_MISMATCH',
          `KMS key ${keyId} has spec ${publicKey.keySpec}, expected ${spec}.`,
          'Retry the rotation; the stray key has been scheduled for deletion.',
        );
      }
    } catch (error) {
      // The key was never recorded anywhere: do not leave it behind (each key costs $1/month).
      await this.#kms
        .send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: this.#windowDays }))
        .catch(() => undefined);
      throw error;
    }
    const arn = created.KeyMetadata?.Arn;
    const location: KeyLocation =
      arn === undefined ? { type: 'kms', keyId } : { type: 'kms', keyId, keyArn: arn };
    return { location, publicKeySpki: publicKey.spki };
  }

  /** Tags the key with its kid, so a person browsing KMS can match it to tokens. */
  async label(location: KeyLocation, kid: string): Promise<void> {
    const { keyId } = kmsLocation(location);
    await this.#kms.send(
      new TagResourceCommand({ KeyId: keyId, Tags: [{ TagKey: TAG_KID, TagValue: kid }] }),
    );
    // Created by this process with the current policy and tags: nothing to repair.
    this.#verified.add(keyId);
  }

  /**
   * Brings the keys of the keyset up to the current key policy and namespaced tags (a stack
   * deployed before them is repaired in place by its first run). Each key is checked once per
   * process; keys already right cost two reads (GetKeyPolicy, ListResourceTags) on a cold start.
   * Signing is never interrupted: see kms-key-repair.ts for the order of the steps.
   */
  async reconcile(keys: readonly KeyRecord[]): Promise<KeyRepairReport> {
    const report: KeyRepairReport = { checked: 0, repaired: [] };
    for (const key of keys) {
      if (key.location.type !== 'kms' || this.#verified.has(key.location.keyId)) continue;
      report.checked += 1;
      const changes = await repairKey(this.#kms, {
        keyId: key.location.keyId,
        kid: key.kid,
        cluster: this.#cluster,
        authority: this.#authority,
      });
      if (changes.length > 0) report.repaired.push({ kid: key.kid, changes });
      this.#verified.add(key.location.keyId);
    }
    return report;
  }

  /**
   * Schedules the key's deletion after the configured window. Idempotent: a key already pending
   * deletion, or gone, counts as destroyed.
   */
  async destroy(key: KeyToDestroy): Promise<void> {
    const { keyId } = kmsLocation(key.location);
    try {
      await this.#kms.send(
        new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: this.#windowDays }),
      );
    } catch (error) {
      if (isAwsError(error, ['NotFoundException'])) return;
      if (isAwsError(error, ['KMSInvalidStateException']) && (await this.#isPendingDeletion(keyId))) return;
      throw error;
    }
  }

  /**
   * Enabled keys tagged with `intent` (tag:GetResources), tagged for this cluster if the run that
   * created them died before it could (see kms-intent-keys.ts).
   */
  findIntentKeys(intent: string): Promise<FoundKey[]> {
    if (this.#tagging === undefined) return Promise.resolve([]);
    return findKmsIntentKeys({ kms: this.#kms, tagging: this.#tagging, cluster: this.#cluster }, intent);
  }

  async #isPendingDeletion(keyId: string): Promise<boolean> {
    const out = await this.#kms.send(new DescribeKeyCommand({ KeyId: keyId }));
    const state = out.KeyMetadata?.KeyState;
    return state === 'PendingDeletion' || state === 'PendingReplicaDeletion';
  }
}
