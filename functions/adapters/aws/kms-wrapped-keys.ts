/**
 * file mode: the key pair is generated in memory here, the PKCS#8 DER private key is encrypted
 * with the cluster's symmetric KMS wrapping key (encryption context `{ cluster, kid }`, so every
 * Decrypt is bound to this cluster and key and shows up in CloudTrail), and only the ciphertext is
 * stored, at `keys/<kid>.wrapped` in the private state bucket. key-sync on each control-plane node
 * unwraps it with {@link unwrapPrivateKey}. Neither the plaintext nor the ciphertext is ever logged.
 */
import { createPrivateKey, createPublicKey, generateKeyPair } from 'node:crypto';
import { DecryptCommand, EncryptCommand, type KMSClient } from '@aws-sdk/client-kms';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { IrsaError } from '#core/errors.ts';
import type { KeyLocation, KeyRecord, KeySpec } from '#core/keyset.ts';
import { isKid, kidFromSpki } from '#core/kid.ts';
import type { CreatedKey, CreateOptions, FoundKey, KeyBackend, KeyToDestroy } from '#core/ports.ts';
import { isAwsError } from './aws-errors.ts';

/** Prefix of the wrapped private keys in the state bucket. */
export const WRAPPED_KEY_PREFIX = 'keys/';

/** Object key of a wrapped private key in the state bucket. */
export function wrappedKeyObject(kid: string): string {
  return `${WRAPPED_KEY_PREFIX}${kid}.wrapped`;
}

/** The KMS encryption context that binds a wrapped key to its cluster and kid. */
export function wrappingContext(cluster: string, kid: string): Record<string, string> {
  return { cluster, kid };
}

/** A freshly generated key pair, both halves DER. */
export interface GeneratedKeyPair {
  spki: Uint8Array;
  pkcs8: Uint8Array;
}

/** Generates an RSA 2048 or EC P-256 key pair in memory. */
export function generateKeyPairDer(spec: KeySpec): Promise<GeneratedKeyPair> {
  return new Promise((resolve, reject) => {
    const done = (error: Error | null, publicKey: Buffer, privateKey: Buffer): void => {
      if (error !== null) reject(error);
      else resolve({ spki: new Uint8Array(publicKey), pkcs8: new Uint8Array(privateKey) });
    };
    const publicKeyEncoding = { type: 'spki', format: 'der' } as const;
    const privateKeyEncoding = { type: 'pkcs8', format: 'der' } as const;
    if (spec === 'RSA_2048') {
      generateKeyPair(
        'rsa',
        { modulusLength: 2048, publicExponent: 0x10001, publicKeyEncoding, privateKeyEncoding },
        done,
      );
    } else {
      generateKeyPair('ec', { namedCurve: 'P-256', publicKeyEncoding, privateKeyEncoding }, done);
    }
  });
}

export interface KmsWrappedKeysOptions {
  kms: KMSClient;
  s3: S3Client;
  /** The private state bucket. */
  bucket: string;
  cluster: string;
  /** Id or ARN of the symmetric wrapping key. */
  wrappingKeyId: string;
  /** Key pair generator; injectable for tests. */
  generate?: (spec: KeySpec) => Promise<GeneratedKeyPair>;
}

function wrappedLocation(location: KeyLocation): { type: 'wrapped'; object: string; wrappingKeyId: string } {
  if (location.type !== 'wrapped') {
    throw new IrsaError(
      'KEY_LOCATION_MISMATCH',
      `A ${location.type} key was handed to the file-mode (wrapped key) backend.`,
      'Set KEY_MODE to the mode the keyset was created with.',
    );
  }
  return location;
}

/** {@link KeyBackend} for KMS-wrapped software keys (file mode). */
export class KmsWrappedKeys implements KeyBackend {
  readonly #options: KmsWrappedKeysOptions;
  readonly #generate: (spec: KeySpec) => Promise<GeneratedKeyPair>;

  constructor(options: KmsWrappedKeysOptions) {
    this.#options = options;
    this.#generate = options.generate ?? generateKeyPairDer;
  }

  /** Generates a key pair, wraps and stores the private half; returns the public half. */
  async create(spec: KeySpec, options: CreateOptions = {}): Promise<CreatedKey> {
    const { kms, s3, bucket, cluster, wrappingKeyId } = this.#options;
    const pair = await this.#generate(spec);
    const kid = kidFromSpki(pair.spki);
    let ciphertext: Uint8Array | undefined;
    try {
      const out = await kms.send(
        new EncryptCommand({
          KeyId: wrappingKeyId,
          Plaintext: pair.pkcs8,
          EncryptionContext: wrappingContext(cluster, kid),
        }),
      );
      ciphertext = out.CiphertextBlob;
    } finally {
      pair.pkcs8.fill(0);
    }
    if (ciphertext === undefined || ciphertext.length === 0) {
      throw new IrsaError(
        'KMS_ENCRYPT_FAILED',
        'KMS Encrypt returned no ciphertext for the new private key.',
        'Check the wrapping key is enabled and the rotate role may use it; then retry.',
      );
    }
    const object = wrappedKeyObject(kid);
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: object,
        Body: ciphertext,
        ContentType: 'application/octet-stream',
        ...(options.intent === undefined ? {} : { Metadata: { intent: options.intent } }),
        IfNoneMatch: '*',
      }),
    );
    return { location: { type: 'wrapped', object, wrappingKeyId }, publicKeySpki: pair.spki };
  }

  /** Deletes the wrapped key object. Idempotent: a missing object counts as deleted. */
  async destroy(key: KeyToDestroy): Promise<void> {
    const { object } = wrappedLocation(key.location);
    try {
      await this.#options.s3.send(new DeleteObjectCommand({ Bucket: this.#options.bucket, Key: object }));
    } catch (error) {
      if (!isAwsError(error, ['NoSuchKey', 'NotFound'], [404])) throw error;
    }
  }

  /**
   * Every wrapped key object under the prefix (`ListObjectsV2`): objects cannot be found by tag,
   * so all are returned and the runner destroys those the keyset does not reference. Only called
   * for an abandoned intent, when no run can be between storing an object and recording it.
   */
  async findIntentKeys(_intent: string): Promise<FoundKey[]> {
    const { s3, bucket, wrappingKeyId } = this.#options;
    const found: FoundKey[] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          Prefix: WRAPPED_KEY_PREFIX,
          ...(token === undefined ? {} : { ContinuationToken: token }),
        }),
      );
      for (const item of page.Contents ?? []) {
        const object = item.Key;
        const kid = object?.match(/^keys\/(.*)\.wrapped$/)?.[1];
        if (object !== undefined && kid !== undefined && isKid(kid))
          found.push({ kid, location: { type: 'wrapped', object, wrappingKeyId } });
      }
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return found;
  }
}

export interface UnwrapOptions {
  kms: KMSClient;
  s3: S3Client;
  bucket: string;
  cluster: string;
}

/**
 * Reads `keys/<kid>.wrapped` and decrypts it with the context `{ cluster, kid }`; returns the
 * PKCS#8 DER private key. The caller must zero it when done. Throws `WRAPPED_KEY_MISSING` when the
 * object is gone and `WRAPPED_KEY_MISMATCH` when the decrypted key does not have the record's kid.
 */
export async function unwrapPrivateKey(options: UnwrapOptions, key: KeyRecord): Promise<Uint8Array> {
  const location = wrappedLocation(key.location);
  let ciphertext: Uint8Array;
  try {
    const out = await options.s3.send(new GetObjectCommand({ Bucket: options.bucket, Key: location.object }));
    ciphertext = out.Body === undefined ? new Uint8Array() : await out.Body.transformToByteArray();
  } catch (error) {
    if (isAwsError(error, ['NoSuchKey', 'NotFound'], [404])) {
      throw new IrsaError(
        'WRAPPED_KEY_MISSING',
        `The wrapped key for kid ${key.kid} is missing from the state bucket (${location.object}).`,
        'Run the rotate function with {"now": true} to create a new key.',
        { cause: error },
      );
    }
    throw error;
  }
  const out = await options.kms.send(
    new DecryptCommand({
      CiphertextBlob: ciphertext,
      KeyId: location.wrappingKeyId,
      EncryptionContext: wrappingContext(options.cluster, key.kid),
    }),
  );
  if (out.Plaintext === undefined || out.Plaintext.length === 0) {
    throw new IrsaError(
      'KMS_DECRYPT_FAILED',
      `KMS Decrypt returned no plaintext for kid ${key.kid}.`,
      'Check the node policy allows kms:Decrypt on the wrapping key with this cluster context.',
    );
  }
  const spki = createPublicKey(
    createPrivateKey({ key: Buffer.from(out.Plaintext), format: 'der', type: 'pkcs8' }),
  ).export({ type: 'spki', format: 'der' });
  if (kidFromSpki(spki) !== key.kid) {
    out.Plaintext.fill(0);
    throw new IrsaError(
      'WRAPPED_KEY_MISMATCH',
      `The wrapped key stored for kid ${key.kid} holds a different key.`,
      'Do not install it; run the rotate function with {"now": true} and investigate who wrote the object.',
    );
  }
  return out.Plaintext;
}
