/**
 * kms mode: each signing key is an asymmetric KMS key (RSA_2048 or ECC_NIST_P256, SIGN_VERIFY).
 * The private half never leaves KMS. Keys are tagged `cluster` and `managed-by` at creation (the
 * IAM policy only allows CreateKey with those request tags) and `kid` once the public key is known;
 * every later call is allowed only on keys whose `cluster` tag is this cluster.
 * A key created for a keyset intent also carries `irsa-anywhere:intent`, and CreateKey goes through
 * a client that makes a single attempt (an SDK retry after a timeout would create a second key);
 * {@link KmsKeys.findIntentKeys} finds what an abandoned intent left with `tag:GetResources`.
 */
import {
  CreateKeyCommand,
  DescribeKeyCommand,
  GetPublicKeyCommand,
  type KMSClient,
  ScheduleKeyDeletionCommand,
  TagResourceCommand,
} from '@aws-sdk/client-kms';
import {
  GetResourcesCommand,
  type ResourceGroupsTaggingAPIClient,
} from '@aws-sdk/client-resource-groups-tagging-api';
import { IrsaError } from '#core/errors.ts';
import type { KeyLocation, KeySpec } from '#core/keyset.ts';
import { kidFromSpki } from '#core/kid.ts';
import type { CreatedKey, CreateOptions, FoundKey, KeyBackend, KeyToDestroy } from '#core/ports.ts';
import { isAwsError } from './aws-errors.ts';

/** Tag keys this project puts on the KMS keys it creates. */
export const TAG_CLUSTER = 'cluster';
export const TAG_MANAGED_BY = 'managed-by';
export const TAG_KID = 'kid';
/** Tag key carrying the id of the keyset intent a key was created for. */
export const TAG_INTENT = 'irsa-anywhere:intent';
/** Value of the `managed-by` tag. */
export const MANAGED_BY = 'irsa-anywhere';
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

  constructor(options: KmsKeysOptions) {
    this.#kms = options.kms;
    this.#kmsCreate = options.kmsCreate ?? options.kms;
    this.#tagging = options.tagging;
    this.#cluster = options.cluster;
    this.#windowDays = checkDeletionWindow(options.deletionWindowDays ?? DEFAULT_DELETION_WINDOW_DAYS);
  }

  /** Creates a tagged SIGN_VERIFY key (one attempt) and returns its id and public key. */
  async create(spec: KeySpec, options: CreateOptions = {}): Promise<CreatedKey> {
    const intentTag = options.intent === undefined ? [] : [{ TagKey: TAG_INTENT, TagValue: options.intent }];
    const created = await this.#kmsCreate.send(
      new CreateKeyCommand({
        KeySpec: spec,
        KeyUsage: 'SIGN_VERIFY',
        Description: `irsa-anywhere service-account signing key for cluster ${this.#cluster}`,
        Tags: [
          { TagKey: TAG_CLUSTER, TagValue: this.#cluster },
          { TagKey: TAG_MANAGED_BY, TagValue: MANAGED_BY },
          ...intentTag,
        ],
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
   * Enabled keys of this cluster tagged with `intent` (`tag:GetResources`, then DescribeKey and
   * GetPublicKey on each). Keys already pending deletion are skipped.
   */
  async findIntentKeys(intent: string): Promise<FoundKey[]> {
    if (this.#tagging === undefined) return [];
    const arns: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.#tagging.send(
        new GetResourcesCommand({
          ResourceTypeFilters: ['kms:key'],
          TagFilters: [
            { Key: TAG_INTENT, Values: [intent] },
            { Key: TAG_CLUSTER, Values: [this.#cluster] },
          ],
          ...(token === undefined ? {} : { PaginationToken: token }),
        }),
      );
      for (const mapping of page.ResourceTagMappingList ?? [])
        if (mapping.ResourceARN !== undefined) arns.push(mapping.ResourceARN);
      token = page.PaginationToken === '' ? undefined : page.PaginationToken;
    } while (token !== undefined);
    const found: FoundKey[] = [];
    for (const keyArn of arns) {
      const keyId = keyArn.slice(keyArn.lastIndexOf('/') + 1);
      const described = await this.#kms.send(new DescribeKeyCommand({ KeyId: keyId }));
      if (described.KeyMetadata?.KeyState !== 'Enabled') continue;
      const publicKey = await getKmsPublicKey(this.#kms, keyId);
      found.push({
        kid: kidFromSpki(publicKey.spki),
        location: { type: 'kms', keyId, keyArn },
        publicKeySpki: publicKey.spki,
      });
    }
    return found;
  }

  async #isPendingDeletion(keyId: string): Promise<boolean> {
    const out = await this.#kms.send(new DescribeKeyCommand({ KeyId: keyId }));
    const state = out.KeyMetadata?.KeyState;
    return state === 'PendingDeletion' || state === 'PendingReplicaDeletion';
  }
}
