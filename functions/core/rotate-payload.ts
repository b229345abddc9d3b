/**
 * The rotate function's invocation payload: the one type the CLI (`rotate --stack`) sends and the
 * Lambda (functions/rotate/app.ts) parses. `{}` (or a scheduled EventBridge event) is a scheduled
 * run, `{"now": true}` an emergency rotation, `{"revoke": "<kid>"}` revokes a key.
 */
import { IrsaError } from './errors.ts';
import { isKid } from './kid.ts';
import type { RotationRequest } from './planner.ts';

/** What the rotate function accepts: one of the three, never two at once. */
export type RotatePayload = Record<string, never> | { now: true } | { revoke: string };

function invalidPayload(problem: string): IrsaError {
  return new IrsaError(
    'INVOKE_PAYLOAD_INVALID',
    `The rotate payload ${problem}.`,
    'Invoke with {} or a scheduled event, {"now": true} to rotate at once, or {"revoke": "<kid>"} to revoke a key.',
  );
}

/** The payload for a rotation request (what the CLI sends). */
export function rotatePayloadFor(request: Pick<RotationRequest, 'rotateNow' | 'revoke'>): RotatePayload {
  if (request.revoke !== undefined) return { revoke: request.revoke };
  return request.rotateNow === true ? { now: true } : {};
}

/**
 * Turns an invocation event into a rotation request. EventBridge events (and `{}`/null) are a
 * scheduled run; otherwise only `now: true` or `revoke: <kid>` are accepted, one at a time.
 * Throws `INVOKE_PAYLOAD_INVALID`.
 */
export function parseRotatePayload(event: unknown): RotationRequest {
  if (event === null || event === undefined) return {};
  if (typeof event !== 'object' || Array.isArray(event)) throw invalidPayload('is not a JSON object');
  const record = event as Record<string, unknown>;
  if (typeof record.source === 'string' && 'detail-type' in record) return {}; // EventBridge
  const keys = Object.keys(record);
  const unknown = keys.filter((key) => key !== 'now' && key !== 'revoke');
  if (unknown.length > 0) throw invalidPayload(`has unknown members (${unknown.join(', ')})`);
  if (keys.length > 1) throw invalidPayload('asks for both now and revoke; pass one');
  if ('now' in record) {
    if (record.now !== true) throw invalidPayload('has "now" that is not true');
    return { rotateNow: true };
  }
  if ('revoke' in record) {
    if (typeof record.revoke !== 'string' || !isKid(record.revoke)) {
      throw invalidPayload('has "revoke" that is not a kid (43 base64url characters)');
    }
    return { revoke: record.revoke };
  }
  return {};
}
