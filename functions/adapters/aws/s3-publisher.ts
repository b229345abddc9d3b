/**
 * Publishes the two public documents to the public bucket (served by CloudFront):
 * `<prefix>openid/v1/jwks` first, then `<prefix>.well-known/openid-configuration`, so discovery
 * never points at keys that are not there yet.
 *
 * Tamper-proof and race-free (docs/reliability.md):
 * - `inspect` HEADs both objects with `ChecksumMode: ENABLED`: the ETag and the SHA-256 that S3
 *   itself computed and verified when the object was written (`ChecksumAlgorithm: SHA256` on every
 *   PUT). No user metadata is trusted: anyone who can write the bucket can set metadata, but not a
 *   checksum that does not match the body.
 * - `publish` skips a document whose live checksum equals the new bytes' digest, and writes the
 *   others with `If-Match` on the ETag the run saw (`If-None-Match: *` when absent). A 412/409 is
 *   `PUBLISH_CONFLICT`: another run published in between, and this run must re-read.
 * - `recordKeysetJournal` keeps the digest of the keyset.json the functions last wrote as user
 *   metadata of the discovery object (a server-side copy onto itself, same bytes), so a keyset
 *   written by someone else is noticed at no extra request.
 */
import { createHash } from 'node:crypto';
import { CopyObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { IrsaError } from '#core/errors.ts';
import type { LiveDocument, LiveDocuments, PublicDocuments, Publisher } from '#core/ports.ts';
import { isAwsError } from './aws-errors.ts';

/** Object key of the JWKS, below the prefix (kube-apiserver's path). */
export const JWKS_OBJECT = 'openid/v1/jwks';
/** Object key of the discovery document, below the prefix. */
export const DISCOVERY_OBJECT = '.well-known/openid-configuration';
/** Default browser/CDN cache lifetime of both documents, in seconds. */
export const DEFAULT_PUBLIC_MAX_AGE_SECONDS = 300;
/** User metadata (`x-amz-meta-keyset-sha256`) on the discovery object: the keyset journal. */
export const JOURNAL_METADATA_KEY = 'keyset-sha256';

/** Lost conditional writes come back as these codes / statuses. */
const CONFLICT_NAMES = ['PreconditionFailed', 'ConditionalRequestConflict'];
const CONFLICT_STATUSES = [409, 412];

function conflict(key: string, cause: unknown): IrsaError {
  return new IrsaError(
    'PUBLISH_CONFLICT',
    `The public document ${key} changed since this run read it: another run published in between.`,
    'Nothing to do: the run re-reads the keyset and publishes again only if its keyset is still the newest.',
    { cause, detail: { key } },
  );
}

export interface S3PublisherOptions {
  s3: S3Client;
  bucket: string;
  /**
   * Path of the issuer below its host, without leading or trailing slash (`team-a` for
   * `https://oidc.example.com/team-a`); empty for an issuer at the root.
   */
  prefix?: string;
  /** `Cache-Control: max-age` of the JWKS (default 300 s). */
  jwksMaxAgeSeconds?: number;
  /** `Cache-Control: max-age` of the discovery document (default: the JWKS value). */
  discoveryMaxAgeSeconds?: number;
}

function checkMaxAge(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > 86_400) {
    throw new IrsaError(
      'CONFIG_INVALID',
      `${name} must be a whole number of seconds between 0 and 86400, got ${value}.`,
      `Set ${name} to a value such as 300.`,
    );
  }
  return value;
}

/** The public object keys for an issuer path prefix (`''` or `team-a`). */
export function publicObjectKeys(prefix: string): { jwks: string; discovery: string } {
  const base = prefix === '' ? '' : `${prefix.replace(/^\/+|\/+$/g, '')}/`;
  return { jwks: `${base}${JWKS_OBJECT}`, discovery: `${base}${DISCOVERY_OBJECT}` };
}

/** {@link Publisher} that writes to S3 and skips unchanged documents. */
export class S3Publisher implements Publisher {
  readonly #s3: S3Client;
  readonly #bucket: string;
  readonly #keys: { jwks: string; discovery: string };
  readonly #jwksCache: string;
  readonly #discoveryCache: string;

  constructor(options: S3PublisherOptions) {
    this.#s3 = options.s3;
    this.#bucket = options.bucket;
    this.#keys = publicObjectKeys(options.prefix ?? '');
    const jwksMaxAge = checkMaxAge(
      'jwksMaxAgeSeconds',
      options.jwksMaxAgeSeconds ?? DEFAULT_PUBLIC_MAX_AGE_SECONDS,
    );
    const discoveryMaxAge = checkMaxAge(
      'discoveryMaxAgeSeconds',
      options.discoveryMaxAgeSeconds ?? jwksMaxAge,
    );
    this.#jwksCache = `public, max-age=${jwksMaxAge}`;
    this.#discoveryCache = `public, max-age=${discoveryMaxAge}`;
  }

  /** Both documents as they are live now: ETag and S3-computed SHA-256, and the keyset journal. */
  async inspect(): Promise<LiveDocuments> {
    const jwks = await this.#head(this.#keys.jwks);
    const discovery = await this.#head(this.#keys.discovery);
    const journal = discovery?.metadata?.[JOURNAL_METADATA_KEY];
    return {
      jwks: jwks?.live ?? null,
      discovery: discovery?.live ?? null,
      ...(journal === undefined ? {} : { keysetJournal: journal }),
    };
  }

  /**
   * Writes the JWKS, then discovery, each only if its bytes changed and only if it is still the
   * version in `expected` (inspected first when not given). `changed` is true when either was written.
   */
  async publish(
    documents: PublicDocuments,
    expected?: LiveDocuments,
  ): Promise<{ changed: boolean; live: LiveDocuments }> {
    const seen = expected ?? (await this.inspect());
    const jwks = await this.#putIfChanged(this.#keys.jwks, documents.jwks, this.#jwksCache, seen.jwks);
    const discovery = await this.#putIfChanged(
      this.#keys.discovery,
      documents.discovery,
      this.#discoveryCache,
      seen.discovery,
    );
    return {
      changed: jwks.changed || discovery.changed,
      // A rewritten discovery object lost the journal metadata.
      live: {
        jwks: jwks.live,
        discovery: discovery.live,
        ...(discovery.changed || seen.keysetJournal === undefined
          ? {}
          : { keysetJournal: seen.keysetJournal }),
      },
    };
  }

  /** Records the keyset digest on the discovery object (a copy onto itself, conditional on its ETag). */
  async recordKeysetJournal(sha256: string, expected: LiveDocuments): Promise<LiveDocuments> {
    const live = expected.discovery;
    if (live === null) return expected;
    const key = this.#keys.discovery;
    try {
      const out = await this.#s3.send(
        new CopyObjectCommand({
          Bucket: this.#bucket,
          Key: key,
          CopySource: `${this.#bucket}/${key.split('/').map(encodeURIComponent).join('/')}`,
          CopySourceIfMatch: live.etag,
          MetadataDirective: 'REPLACE',
          Metadata: { [JOURNAL_METADATA_KEY]: sha256 },
          ContentType: 'application/json',
          CacheControl: this.#discoveryCache,
          ChecksumAlgorithm: 'SHA256',
        }),
      );
      const etag = out.CopyObjectResult?.ETag ?? live.etag;
      const digest = out.CopyObjectResult?.ChecksumSHA256 ?? live.sha256;
      return {
        ...expected,
        discovery: { etag, ...(digest === undefined ? {} : { sha256: digest }) },
        keysetJournal: sha256,
      };
    } catch (error) {
      if (isAwsError(error, CONFLICT_NAMES, CONFLICT_STATUSES)) throw conflict(key, error);
      throw error;
    }
  }

  async #head(
    key: string,
  ): Promise<{ live: LiveDocument; metadata: Record<string, string> | undefined } | null> {
    try {
      const head = await this.#s3.send(
        new HeadObjectCommand({ Bucket: this.#bucket, Key: key, ChecksumMode: 'ENABLED' }),
      );
      if (head.ETag === undefined) return null;
      // A changed Cache-Control setting takes effect at the next publish: only the bytes are compared.
      const sha256 = head.ChecksumSHA256;
      return {
        live: { etag: head.ETag, ...(sha256 === undefined ? {} : { sha256 }) },
        metadata: head.Metadata,
      };
    } catch (error) {
      if (isAwsError(error, ['NotFound', 'NoSuchKey'], [404])) return null;
      throw error;
    }
  }

  async #putIfChanged(
    key: string,
    body: string,
    cacheControl: string,
    live: LiveDocument | null,
  ): Promise<{ changed: boolean; live: LiveDocument }> {
    const digest = createHash('sha256').update(body, 'utf8').digest('base64');
    if (live !== null && live.sha256 === digest) return { changed: false, live };
    try {
      const out = await this.#s3.send(
        new PutObjectCommand({
          Bucket: this.#bucket,
          Key: key,
          Body: body,
          ContentType: 'application/json',
          CacheControl: cacheControl,
          ChecksumAlgorithm: 'SHA256',
          ...(live === null ? { IfNoneMatch: '*' } : { IfMatch: live.etag }),
        }),
      );
      if (out.ETag === undefined) {
        throw new IrsaError(
          'PUBLISH_FAILED',
          `Writing ${key} returned no ETag.`,
          'Check that the public bucket is a standard S3 bucket (conditional writes need ETags).',
        );
      }
      return { changed: true, live: { etag: out.ETag, sha256: out.ChecksumSHA256 ?? digest } };
    } catch (error) {
      if (isAwsError(error, CONFLICT_NAMES, CONFLICT_STATUSES)) throw conflict(key, error);
      throw error;
    }
  }
}
