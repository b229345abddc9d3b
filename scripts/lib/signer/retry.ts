/**
 * Bounded retry for throttled backend calls, with a deadline over the whole operation. KMS
 * asymmetric signing has a shared per-account request quota, so a burst of token requests can
 * meet `ThrottlingException`; a few quick retries with jittered backoff absorb that.
 */
import { isAwsThrottling } from '#adapters/aws/aws-errors.ts';
import { IrsaError, isIrsaError } from '#core/errors.ts';

/** True for errors that mean "slow down and try again" (the backend's or the SDK's). */
export function isThrottling(error: unknown): boolean {
  return isIrsaError(error, 'SIGNING_THROTTLED') || isAwsThrottling(error);
}

/** Retry settings. `sleep` and `random` are injectable for tests. */
export interface RetryOptions {
  attempts: number;
  deadlineMs: number;
  baseDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  now?: () => number;
  onRetry?: (attempt: number, error: unknown, delayMs: number) => void;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function timeoutError(deadlineMs: number): IrsaError {
  return new IrsaError(
    'SIGNING_TIMEOUT',
    `Signing did not finish within ${deadlineMs} ms.`,
    'Check that the node reaches the signing backend (KMS endpoint, network, IAM) and raise --sign-timeout-ms if it is slow.',
  );
}

/**
 * Runs `operation`, retrying throttling errors up to `attempts` times with exponential backoff
 * and full jitter, all within `deadlineMs`. Other errors are thrown at once. Exceeding the
 * deadline throws `SIGNING_TIMEOUT` (the pending call is abandoned, not cancelled).
 */
export async function withRetry<T>(operation: () => Promise<T>, options: RetryOptions): Promise<T> {
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  const base = options.baseDelayMs ?? 25;
  const start = now();
  for (let attempt = 1; ; attempt++) {
    const remaining = options.deadlineMs - (now() - start);
    if (remaining <= 0) throw timeoutError(options.deadlineMs);
    try {
      return await withDeadline(operation, remaining, options.deadlineMs);
    } catch (error) {
      if (!isThrottling(error) || attempt >= options.attempts) throw error;
      const delay = Math.floor(random() * base * 2 ** attempt);
      if (now() - start + delay >= options.deadlineMs) throw timeoutError(options.deadlineMs);
      options.onRetry?.(attempt, error, delay);
      await sleep(delay);
    }
  }
}

/**
 * `operation()`, or `SIGNING_TIMEOUT` after `remainingMs`: one promise and one timer per call
 * (a `Promise.race` against a second promise showed in the signer's per-call profile).
 */
function withDeadline<T>(operation: () => Promise<T>, remainingMs: number, deadlineMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(timeoutError(deadlineMs)), remainingMs);
    let pending: Promise<T>;
    try {
      pending = operation();
    } catch (error) {
      clearTimeout(timer);
      reject(error);
      return;
    }
    pending.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
