/**
 * Signer settings, checked once at startup so a bad value stops the process with a message
 * naming the flag instead of surfacing later as a kube-apiserver crash loop.
 */
import { IrsaError } from '#core/errors.ts';
import { DEFAULT_POLICY_INPUT } from '#core/policy.ts';

/** Shortest token lifetime kube-apiserver accepts from an external signer's Metadata. */
export const MIN_TOKEN_EXPIRATION_SECONDS = 600;

/** What the RPCs report and how often the keyset is re-read. */
export interface SignerSettings {
  /** Metadata.max_token_expiration_seconds. */
  maxTokenExpirationSeconds: number;
  /** FetchKeys.refresh_hint_seconds, and the keyset re-read interval. */
  refreshHintSeconds: number;
  /** Upper bound for one Sign, retries included, before DEADLINE_EXCEEDED. */
  signTimeoutMs: number;
  /** Attempts for a throttled backend call (1 = no retry). */
  signAttempts: number;
}

/** Raw inputs, as flags give them. */
export interface SignerSettingsInput {
  maxTokenExpirationSeconds?: number;
  /** The stack's MAX_TOKEN_LIFETIME: retention is computed from it, so the signer must not exceed it. */
  maxTokenLifetimeSeconds?: number;
  refreshHintSeconds?: number;
  signTimeoutMs?: number;
  signAttempts?: number;
}

export const DEFAULT_SETTINGS: Readonly<SignerSettings> = {
  maxTokenExpirationSeconds: 86_400,
  refreshHintSeconds: 60,
  signTimeoutMs: 5_000,
  signAttempts: 4,
};

function wholeNumber(flag: string, value: number, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new IrsaError(
      'CONFIG_INVALID',
      `${flag} must be a whole number from ${min} to ${max}, got ${value}.`,
      `Pass ${flag} with a value from ${min} to ${max}.`,
    );
  }
  return value;
}

/**
 * Checks the settings. `maxTokenExpirationSeconds` must be at least 600 and at most the stack's
 * max token lifetime (default 86400): a longer token could outlive its key's retention in the JWKS.
 * Throws `CONFIG_INVALID` naming the flag.
 */
export function resolveSettings(input: SignerSettingsInput = {}): SignerSettings {
  const lifetime = wholeNumber(
    '--max-token-lifetime-seconds',
    input.maxTokenLifetimeSeconds ?? DEFAULT_POLICY_INPUT.maxTokenLifetimeSeconds,
    MIN_TOKEN_EXPIRATION_SECONDS,
    10 * 365 * 86_400,
  );
  const requested =
    input.maxTokenExpirationSeconds ?? Math.min(DEFAULT_SETTINGS.maxTokenExpirationSeconds, lifetime);
  if (Number.isSafeInteger(requested) && requested > lifetime) {
    throw new IrsaError(
      'CONFIG_INVALID',
      `--max-token-expiration-seconds (${requested}) is above the stack's max token lifetime (${lifetime} s): tokens could outlive their key in the JWKS.`,
      `Lower --max-token-expiration-seconds to ${lifetime} or less, or raise MAX_TOKEN_LIFETIME in the stack and pass it as --max-token-lifetime-seconds.`,
    );
  }
  return {
    maxTokenExpirationSeconds: wholeNumber(
      '--max-token-expiration-seconds',
      requested,
      MIN_TOKEN_EXPIRATION_SECONDS,
      lifetime,
    ),
    refreshHintSeconds: wholeNumber(
      '--refresh-seconds',
      input.refreshHintSeconds ?? DEFAULT_SETTINGS.refreshHintSeconds,
      1,
      86_400,
    ),
    signTimeoutMs: wholeNumber(
      '--sign-timeout-ms',
      input.signTimeoutMs ?? DEFAULT_SETTINGS.signTimeoutMs,
      50,
      60_000,
    ),
    signAttempts: wholeNumber('--sign-attempts', input.signAttempts ?? DEFAULT_SETTINGS.signAttempts, 1, 10),
  };
}
