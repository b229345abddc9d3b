/**
 * Reading AWS SDK v3 errors without depending on their classes: every service exception carries a
 * `name` (the error code) and `$metadata.httpStatusCode`. Checking those keeps adapters testable
 * with plain objects and stable across SDK versions.
 */

/** The error code of an AWS SDK error (`NoSuchKey`, `PreconditionFailed`, ...), if it has one. */
export function awsErrorName(error: unknown): string | undefined {
  if (error === null || typeof error !== 'object') return undefined;
  const named = error as { name?: unknown; Code?: unknown };
  if (typeof named.Code === 'string') return named.Code;
  return typeof named.name === 'string' ? named.name : undefined;
}

/** The HTTP status an AWS SDK error came back with, if any. */
export function awsHttpStatus(error: unknown): number | undefined {
  if (error === null || typeof error !== 'object') return undefined;
  const metadata = (error as { $metadata?: { httpStatusCode?: unknown } }).$metadata;
  return typeof metadata?.httpStatusCode === 'number' ? metadata.httpStatusCode : undefined;
}

/** True when the error is one of `names`, or came back with one of `statuses`. */
export function isAwsError(
  error: unknown,
  names: readonly string[],
  statuses: readonly number[] = [],
): boolean {
  const name = awsErrorName(error);
  if (name !== undefined && names.includes(name)) return true;
  const status = awsHttpStatus(error);
  return status !== undefined && statuses.includes(status);
}

/**
 * Error names that mean "slow down and retry", across the services we call (KMS, S3, STS, IAM,
 * CloudFormation, Lambda). The one throttling list of the tree: the KMS signer maps these to
 * `SIGNING_THROTTLED` and the signer's retry loop retries them.
 */
export const AWS_THROTTLING_ERRORS: readonly string[] = [
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'LimitExceededException',
  'SlowDown',
];

/** True when an AWS SDK error is throttling (a listed name, or HTTP 429). */
export function isAwsThrottling(error: unknown): boolean {
  return isAwsError(error, AWS_THROTTLING_ERRORS, [429]);
}
