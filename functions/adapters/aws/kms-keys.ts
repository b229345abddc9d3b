/**
 * kms mode: each signing key is an asymmetric KMS key (RSA_2048 or ECC_NIST_P256, SIGN_VERIFY).
 * The private half never leaves KMS. Each key is created with an explicit key policy
 * (kms-key-policy.ts: the function roles administer it, only this cluster's tagged control-plane
 * nodes sign) and no tags; the tags `irsa-anywhere:cluster`, `irsa-anywhere:managed-by` and, once
 * the public key is known, `irsa-anywhere:kid` are then added under that key policy. Tagging at
 * CreateKey would need an IAM `kms:TagResource` grant that no resource condition can limit, i.e. a
 * grant to put this cluster's tag on any key in the account (docs/security.md).
 */
import {
  CreateKeyCommand,
  DescribeKeyCommand,
  GetPublicKeyCommand,
  type KMSClient,
  ScheduleKeyDeletionCommand,
  TagResourceCommand,
} from '@aws-sdk/client-kms';
import { IrsaError } from '#core/errors.ts';
import type { KeyLocation, KeyRecord, KeySpec } from '#core/keyset.ts';
import type { CreatedKey, KeyBackend, KeyRepairReport } from '#core/ports.ts';
import { isAwsError } from './aws-errors.ts';
import { type KeyAuthority, signingKeyPolicy, signingKeyTags, TAG_KID } from './kms-key-policy.ts';
import { repairKey } from './kms-key-repair.ts';

export { MANAGED_BY, TAG_CLUSTER, TAG_KID, TAG_MANAGED_BY } from './kms-key-policy.ts';
/** KMS waits this many days before deleting a scheduled key, unless configured (KMS allows 7–30). */
export const DEFAULT_DELETION_WINDOW_DAYS = 7;

export interface KmsKeysOptions {
  kms: KMSClient;
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
  readonly #cluster: string;
  readonly #windowDays: number;
  readonly #authority: KeyAuthority | undefined;
  /** Keys whose policy and tags were checked (or set) by this process: checked once per container. */
  readonly #verified = new Set<string>();

  constructor(options: KmsKeysOptions) {
    this.#kms = options.kms;
    this.#cluster = options.cluster;
    this.#windowDays = checkDeletionWindow(options.deletionWindowDays ?? DEFAULT_DELETION_WINDOW_DAYS);
    this.#authority = options.authority;
  }

  /** True when keys get the explicit key policy (the function role ARNs are known). */
  get hasKeyPolicy(): boolean {
    return this.#authority !== undefined;
  }

  /** Creates a SIGN_VERIFY key with the key policy, tags it, and returns its id and public key. */
  async create(spec: KeySpec): Promise<CreatedKey> {
    const policy =
      this.#authority === undefined ? undefined : JSON.stringify(signingKeyPolicy(this.#authority));
    const created = await this.#kms.send(
      new CreateKeyCommand({
        KeySpec: spec,
        KeyUsage: 'SIGN_VERIFY',
        Origin: 'AWS_KMS',
        Description: `irsa-anywhere service-account signing key for cluster ${this.#cluster}`,
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
      await this.#kms.send(new TagResourceCommand({ KeyId: keyId, Tags: signingKeyTags(this.#cluster) }));
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
  async destroy(key: KeyRecord): Promise<void> {
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

  async #isPendingDeletion(keyId: string): Promise<boolean> {
    const out = await this.#kms.send(new DescribeKeyCommand({ KeyId: keyId }));
    const state = out.KeyMetadata?.KeyState;
    return state === 'PendingDeletion' || state === 'PendingReplicaDeletion';
  }
}
