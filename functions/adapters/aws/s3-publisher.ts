/**
 * Publishes the two public documents to the public bucket (served by CloudFront):
 * `<prefix>openid/v1/jwks` first, then `<prefix>.well-known/openid-configuration`, so discovery
 * never points at keys that are not there yet.
 *
 * Unchanged bytes are not rewritten: each object carries the SHA-256 of its body in the user
 * metadata `x-amz-meta-sha256`; a `HeadObject` compares it (and the Cache-Control) before writing.
 * A HEAD costs the same as a GET and avoids a new object version, a CloudFront-visible change and
 * a PUT on every publish.
 */
import { createHash } from 'node:crypto';
import { HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { IrsaError } from '#core/errors.ts';
import type { PublicDocuments, Publisher } from '#core/ports.ts';
import { isAwsError } from './aws-errors.ts';

/** Object key of the JWKS, below the prefix (kube-apiserver's path). */
export const JWKS_OBJECT = 'openid/v1/jwks';
/** Object key of the discovery document, below the prefix. */
export const DISCOVERY_OBJECT = '.well-known/openid-configuration';
/** Default browser/CDN cache lifetime of both documents, in seconds. */
export const DEFAULT_PUBLIC_MAX_AGE_SECONDS = 300;
/** The metadata key (`x-amz-meta-sha256`) that records the body's digest. */
export const DIGEST_METADATA_KEY = 'sha256';

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

  /** Writes the JWKS, then discovery; `changed` is true when either object was written. */
  async publish(documents: PublicDocuments): Promise<{ changed: boolean }> {
    const jwksChanged = await this.#putIfChanged(this.#keys.jwks, documents.jwks, this.#jwksCache);
    const discoveryChanged = await this.#putIfChanged(
      this.#keys.discovery,
      documents.discovery,
      this.#discoveryCache,
    );
    return { changed: jwksChanged || discoveryChanged };
  }

  async #putIfChanged(key: string, body: string, cacheControl: string): Promise<boolean> {
    const digest = createHash('sha256').update(body, 'utf8').digest('hex');
    try {
      const head = await this.#s3.send(new HeadObjectCommand({ Bucket: this.#bucket, Key: key }));
      if (head.Metadata?.[DIGEST_METADATA_KEY] === digest && head.CacheControl === cacheControl) return false;
    } catch (error) {
      if (!isAwsError(error, ['NotFound', 'NoSuchKey'], [404])) throw error;
    }
    await this.#s3.send(
      new PutObjectCommand({
        Bucket: this.#bucket,
        Key: key,
        Body: body,
        ContentType: 'application/json',
        CacheControl: cacheControl,
        Metadata: { [DIGEST_METADATA_KEY]: digest },
      }),
    );
    return true;
  }
}
