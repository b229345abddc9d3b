/**
 * `keyset.json` in the private state bucket. Reads return the ETag; writes are compare-and-swap:
 * `If-Match: <etag>` to replace the version read, `If-None-Match: *` to create. A lost race
 * (412 PreconditionFailed, 409 ConditionalRequestConflict) throws `STATE_CONFLICT` and the caller
 * re-reads; nothing is ever overwritten silently. A document that does not parse throws
 * `KEYSET_CORRUPT` (from `parseKeyset`) and is left in place for a person to look at.
 */
import { createHash } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { IrsaError } from '#core/errors.ts';
import type { Keyset } from '#core/keyset.ts';
import { parseKeyset, serializeKeyset } from '#core/keyset-parse.ts';
import type { KeysetStore, VersionedKeyset } from '#core/ports.ts';
import { isAwsError } from './aws-errors.ts';

/** The object key of the keyset in the state bucket (see the file-mode contract). */
export const KEYSET_OBJECT_KEY = 'keyset.json';

export interface S3KeysetStoreOptions {
  s3: S3Client;
  bucket: string;
  /** Object key; `keyset.json` by default. */
  key?: string;
}

/** Lost compare-and-swap races come back as these codes / statuses. */
const CONFLICT_NAMES = ['PreconditionFailed', 'ConditionalRequestConflict'];
const CONFLICT_STATUSES = [409, 412];

/** {@link KeysetStore} backed by one S3 object with conditional writes. */
export class S3KeysetStore implements KeysetStore {
  readonly #s3: S3Client;
  readonly #bucket: string;
  readonly #key: string;

  constructor(options: S3KeysetStoreOptions) {
    this.#s3 = options.s3;
    this.#bucket = options.bucket;
    this.#key = options.key ?? KEYSET_OBJECT_KEY;
  }

  /** Reads the keyset and its ETag; `null` when the object does not exist yet. */
  async read(): Promise<VersionedKeyset | null> {
    let text: string;
    let etag: string | undefined;
    try {
      const out = await this.#s3.send(
        new GetObjectCommand({ Bucket: this.#bucket, Key: this.#key, ChecksumMode: 'ENABLED' }),
      );
      etag = out.ETag;
      text = out.Body === undefined ? '' : await out.Body.transformToString('utf-8');
    } catch (error) {
      if (isAwsError(error, ['NoSuchKey', 'NotFound'], [404])) return null;
      throw error;
    }
    if (etag === undefined || etag === '') {
      throw new IrsaError(
        'STATE_READ_FAILED',
        `s3://${this.#bucket}/${this.#key} came back without an ETag, so it cannot be updated safely.`,
        'Check that the state bucket is a standard S3 bucket (conditional writes need ETags).',
      );
    }
    // The digest of the bytes read (S3 verified them against its checksum on the way): compared
    // with the journal of what the functions last wrote.
    const sha256 = createHash('sha256').update(text, 'utf8').digest('base64');
    return { keyset: parseKeyset(text), version: etag, sha256 };
  }

  /**
   * Writes the keyset if the stored version is still `expectedVersion` (`null`: only if absent).
   * Returns the new ETag. Throws `STATE_CONFLICT` when another writer got there first.
   */
  async write(keyset: Keyset, expectedVersion: string | null): Promise<string> {
    const condition = expectedVersion === null ? { IfNoneMatch: '*' } : { IfMatch: expectedVersion };
    try {
      const out = await this.#s3.send(
        new PutObjectCommand({
          Bucket: this.#bucket,
          Key: this.#key,
          Body: serializeKeyset(keyset),
          ContentType: 'application/json',
          ChecksumAlgorithm: 'SHA256',
          ...condition,
        }),
      );
      if (out.ETag === undefined || out.ETag === '') {
        throw new IrsaError(
          'STATE_WRITE_FAILED',
          `Writing s3://${this.#bucket}/${this.#key} returned no ETag.`,
          'Check that the state bucket is a standard S3 bucket (conditional writes need ETags).',
        );
      }
      return out.ETag;
    } catch (error) {
      if (isAwsError(error, CONFLICT_NAMES, CONFLICT_STATUSES)) {
        throw new IrsaError(
          'STATE_CONFLICT',
          `s3://${this.#bucket}/${this.#key} changed since it was read (${expectedVersion === null ? 'it now exists' : `expected ETag ${expectedVersion}`}).`,
          'Another rotation run wrote first; read the keyset again and re-plan.',
          { cause: error },
        );
      }
      throw error;
    }
  }
}
