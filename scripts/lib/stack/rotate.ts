/**
 * `rotate --stack`: invokes the deployed rotate Lambda synchronously with a rotation request and
 * returns its report. The Lambda does the work; the CLI never touches keys or the state bucket.
 */
import { InvokeCommand, type InvokeCommandOutput, type LambdaClient } from '@aws-sdk/client-lambda';
import { IrsaError } from '#core/errors.ts';
import { isKid } from '#core/kid.ts';
import { type RotatePayload, rotatePayloadFor } from '#core/rotate-payload.ts';

/** Builds the payload from `--now` / `--revoke`, rejecting both at once and a kid of the wrong shape. */
export function rotatePayload(flags: { now?: boolean; revoke?: string }): RotatePayload {
  if (flags.now === true && flags.revoke !== undefined) {
    throw new IrsaError(
      'FLAG_CONFLICT',
      '--now and --revoke cannot be combined.',
      'Run `rotate --revoke <kid>` alone: revoking the active key also creates and activates a new one.',
    );
  }
  if (flags.revoke !== undefined) {
    if (!isKid(flags.revoke)) {
      throw new IrsaError(
        'FLAG_INVALID',
        `--revoke "${flags.revoke}" is not a kid (43 base64url characters).`,
        'Copy the kid from `irsa-anywhere status --stack <name>`.',
      );
    }
    return rotatePayloadFor({ revoke: flags.revoke });
  }
  return rotatePayloadFor({ rotateNow: flags.now === true });
}

function decode(payload: Uint8Array | undefined): unknown {
  if (payload === undefined || payload.length === 0) return null;
  const text = new TextDecoder().decode(payload);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * Invokes `functionName` with `payload` (RequestResponse) and returns the parsed response. Throws
 * `ROTATE_FAILED` with the function's own error message when the function failed, and
 * `ROTATE_INVOKE_FAILED` when it could not be invoked at all.
 */
export async function invokeRotate(
  lambda: LambdaClient,
  functionName: string,
  payload: RotatePayload,
): Promise<unknown> {
  let response: InvokeCommandOutput;
  try {
    response = await lambda.send(
      new InvokeCommand({
        FunctionName: functionName,
        InvocationType: 'RequestResponse',
        Payload: new TextEncoder().encode(JSON.stringify(payload)),
      }),
    );
  } catch (error) {
    throw new IrsaError(
      'ROTATE_INVOKE_FAILED',
      `Could not invoke ${functionName}: ${(error as Error).message}`,
      'Check your AWS credentials allow lambda:InvokeFunction on the rotate function, and the region.',
      { cause: error },
    );
  }
  const body = decode(response.Payload);
  if (response.FunctionError !== undefined) {
    const message =
      body !== null && typeof body === 'object' && 'errorMessage' in body
        ? String(body.errorMessage)
        : String(body);
    throw new IrsaError(
      'ROTATE_FAILED',
      `The rotate function failed: ${message}`,
      `Read the function's logs (CloudWatch log group /aws/lambda/${functionName}); the keyset was left as it was before the failing step.`,
      { detail: { functionError: response.FunctionError } },
    );
  }
  return body;
}

/** The rotate function's answer, as far as the CLI prints it. */
interface RotateAnswer {
  steps?: Array<{ action?: string; kid?: string; reason?: string }>;
  activeKid?: string | null;
  nextTransition?: { at?: string; description?: string } | null;
}

/** The rotate function's report as text: one line per step, the active key, what comes next. */
export function formatRotateResult(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  const answer = value as RotateAnswer;
  const steps = answer.steps ?? [];
  const lines =
    steps.length === 0
      ? ['nothing to do: the keyset is current']
      : steps.map(
          (step) =>
            `${step.action ?? '?'}${step.kid === undefined ? '' : ` ${step.kid}`}: ${step.reason ?? ''}`,
        );
  if (answer.activeKid !== undefined) lines.push(`active key: ${answer.activeKid ?? 'none'}`);
  if (answer.nextTransition?.at !== undefined) {
    lines.push(`next: ${answer.nextTransition.at} ${answer.nextTransition.description ?? ''}`.trimEnd());
  }
  return lines.join('\n');
}
