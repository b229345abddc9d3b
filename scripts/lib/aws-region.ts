/**
 * "Region is missing" is what the AWS SDK throws when neither the client, `AWS_REGION` nor the
 * profile names a region. It is bad input (a flag or variable is missing), not a failed call, and
 * advice about credentials would send the user the wrong way.
 */
import { IrsaError } from '#core/errors.ts';

/** True for the SDK's missing-region error. */
export function isRegionMissing(error: unknown): boolean {
  return error instanceof Error && /^Region is missing/.test(error.message);
}

/**
 * `AWS_REGION_MISSING` (exit 2) for the SDK's missing-region error, naming what needed it;
 * any other error is returned unchanged.
 */
export function regionMissingOr(error: unknown, what: string): unknown {
  if (!isRegionMissing(error)) return error;
  return new IrsaError(
    'AWS_REGION_MISSING',
    `No AWS region is configured for ${what}.`,
    "Pass --region <region> (the stack's region), or set AWS_REGION.",
    { cause: error },
  );
}
