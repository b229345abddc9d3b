/**
 * `--state s3://<bucket>/<key>`: where keyset.json lives, for the signer and key-sync alike (one
 * parser, one code: `CONFIG_STATE_INVALID`). A bad bucket name is said in words ("too short")
 * instead of repeating the expected shape. Bucket rules: 3–63 characters; lower-case letters,
 * digits, dots and hyphens; starts and ends with a letter or digit.
 */
import { IrsaError } from '#core/errors.ts';

/** The keyset object in the state bucket. */
export interface StateLocation {
  bucket: string;
  key: string;
}

/** The first rule `bucket` breaks, or null when it is a valid bucket name. */
export function bucketNameProblem(bucket: string): string | null {
  if (bucket.length < 3)
    return `the bucket name "${bucket}" is too short (S3 bucket names are 3–63 characters)`;
  if (bucket.length > 63) return `the bucket name is ${bucket.length} characters (S3 allows at most 63)`;
  if (!/^[a-z0-9.-]+$/.test(bucket)) {
    return `the bucket name "${bucket}" has characters S3 does not allow (only lower-case letters, digits, "." and "-")`;
  }
  if (!/^[a-z0-9].*[a-z0-9]$/.test(bucket)) {
    return `the bucket name "${bucket}" must start and end with a letter or digit`;
  }
  return null;
}

/** Splits `s3://<bucket>/<key>`; `problem` says what is wrong (null when nothing is). */
export function splitStateUrl(url: string): { bucket: string; key: string; problem: string | null } {
  const match = /^s3:\/\/([^/]*)\/(.*)$/.exec(url.trim());
  if (match === null) return { bucket: '', key: '', problem: 'it is not of the form s3://<bucket>/<key>' };
  const bucket = match[1] ?? '';
  const key = match[2] ?? '';
  const problem =
    bucketNameProblem(bucket) ??
    (key === '' || key.endsWith('/') ? 'the object key is missing (e.g. keyset.json)' : null);
  return { bucket, key, problem };
}

/** Parses `--state s3://<bucket>/<key>`. Throws `CONFIG_STATE_INVALID` saying what is wrong. */
export function parseStateUrl(url: string): StateLocation {
  const { bucket, key, problem } = splitStateUrl(url);
  if (problem !== null) {
    throw new IrsaError(
      'CONFIG_STATE_INVALID',
      `--state must be s3://<bucket>/<key>, got "${url}": ${problem}.`,
      "Pass the stack's state bucket, e.g. --state s3://<StateBucket output>/keyset.json.",
    );
  }
  return { bucket, key };
}
