/**
 * Is a custom-resource event really CloudFormation's, for this stack? Anyone allowed to invoke the
 * bootstrap function can hand it any JSON, so before it creates, rotates or destroys anything it
 * checks that:
 *
 * 1. the `StackId` is this stack's own (from the environment; without it, Delete is refused);
 * 2. the `ResponseURL` is https on CloudFormation's response bucket
 *    (`cloudformation-custom-resource-response-<region without dashes>`, virtual-hosted or
 *    path-style on an `s3` endpoint of amazonaws.com / amazonaws.com.cn), so answers never go to
 *    an attacker's server;
 * 3. for Delete, the stack is really being deleted or cleaned up (DescribeStacks on its own id).
 *
 * The check only reads; a refused event causes no KMS or S3 change.
 */

/** What the check needs from the outside. */
export interface Authenticity {
  /** This stack's id (ARN); undefined when the environment does not say (then Delete is refused). */
  stackId: string | undefined;
  /** The stack's current status (CloudFormation DescribeStacks), or undefined if it is not found. */
  stackStatus(stackId: string): Promise<string | undefined>;
}

/** The fields the check reads. */
export interface CheckedEvent {
  RequestType: string;
  StackId: string;
  ResponseURL: string;
}

/** The verdict: act, or refuse (and whether the ResponseURL may still be answered). */
export type AuthenticityVerdict = { ok: true } | { ok: false; reason: string; answerable: boolean };

/** Stack statuses during which CloudFormation sends a genuine Delete to a custom resource. */
export const DELETE_STATUSES: ReadonlySet<string> = new Set([
  'DELETE_IN_PROGRESS',
  'ROLLBACK_IN_PROGRESS',
  'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS',
  'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS',
]);

const BUCKET = /^cloudformation-custom-resource-response-([a-z0-9]+)$/;
const S3_ENDPOINT = /^s3(?:[.-](?:dualstack\.)?[a-z0-9-]+)?\.amazonaws\.com(?:\.cn)?$/;

/** The region of a stack id (`arn:aws:cloudformation:<region>:...`). */
function regionOf(stackId: string): string | undefined {
  return stackId.split(':')[3];
}

/**
 * Checks a ResponseURL: https, no credentials or port, on CloudFormation's response bucket for
 * `region` (when known). Returns the problem, or undefined when it is acceptable.
 */
export function responseUrlProblem(raw: string, region: string | undefined): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'ResponseURL is not a URL';
  }
  if (url.protocol !== 'https:') return 'ResponseURL is not https';
  if (url.username !== '' || url.password !== '' || url.port !== '')
    return 'ResponseURL has credentials or a port';
  const host = url.hostname.toLowerCase();
  let bucket: string | undefined;
  if (S3_ENDPOINT.test(host)) {
    bucket = url.pathname.split('/')[1]; // path-style: s3.<region>.amazonaws.com/<bucket>/...
  } else {
    const dot = host.indexOf('.');
    if (dot > 0 && S3_ENDPOINT.test(host.slice(dot + 1))) bucket = host.slice(0, dot); // virtual-hosted
  }
  const match = bucket === undefined ? null : BUCKET.exec(bucket);
  if (match === null) return 'ResponseURL is not on a CloudFormation response bucket';
  if (region !== undefined && match[1] !== region.replaceAll('-', ''))
    return `ResponseURL is on the response bucket of another region than ${region}`;
  return undefined;
}

/** Decides whether to act on `event`. */
export async function checkAuthenticity(
  event: CheckedEvent,
  deps: Authenticity,
): Promise<AuthenticityVerdict> {
  const region = deps.stackId === undefined ? undefined : regionOf(deps.stackId);
  const urlProblem = responseUrlProblem(event.ResponseURL, region);
  if (urlProblem !== undefined) return { ok: false, reason: urlProblem, answerable: false };
  if (deps.stackId === undefined) {
    if (event.RequestType === 'Delete')
      return { ok: false, reason: 'STACK_ID is not set, so a Delete cannot be verified', answerable: true };
    return { ok: true };
  }
  if (event.StackId !== deps.stackId)
    return { ok: false, reason: 'the event is for another stack', answerable: true };
  if (event.RequestType === 'Delete') {
    const status = await deps.stackStatus(deps.stackId);
    if (status === undefined || !DELETE_STATUSES.has(status))
      return {
        ok: false,
        reason: `the stack is not being deleted (status ${status ?? 'unknown'})`,
        answerable: true,
      };
  }
  return { ok: true };
}
