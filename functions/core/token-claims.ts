/**
 * The STS checks on a token's claims, each with its own error code (see docs/core-formats.md):
 * exact `iss`, an accepted `aud`, exp/nbf/iat with 5 minutes of skew, and
 * `sub` = `system:serviceaccount:<namespace>:<name>`. The order they run in is verify-token.ts's.
 */
import { IrsaError } from './errors.ts';
import { isDns1123Label, isDns1123Subdomain } from './kube-names.ts';
import { CLOCK_SKEW_SECONDS } from './policy.ts';

/** The audience the pod identity webhook requests, and STS's client ID, by default. */
export const DEFAULT_AUDIENCE = 'sts.amazonaws.com';

/** Says how an issuer differs from the expected one (trailing slash, case, scheme), for messages. */
export function describeIssuerDifference(actual: string, expected: string): string {
  if (actual === `${expected}/`) return `"${actual}" has a trailing slash that "${expected}" does not`;
  if (expected === `${actual}/`) return `"${actual}" lacks the trailing slash of "${expected}"`;
  if (actual.toLowerCase() === expected.toLowerCase()) {
    return `"${actual}" differs from "${expected}" only in letter case, and IAM compares case-sensitively`;
  }
  const strip = (url: string) => url.replace(/^[a-z]+:\/\//i, '');
  if (strip(actual) === strip(expected)) return `"${actual}" uses a different scheme than "${expected}"`;
  return `"${actual}" is not "${expected}"`;
}

/** Returns `iss` when it equals `expected` exactly; throws `TOKEN_ISSUER_MISMATCH` otherwise. */
export function checkIssuer(iss: unknown, expected: string): string {
  if (typeof iss !== 'string' || iss !== expected) {
    const how =
      typeof iss === 'string' ? describeIssuerDifference(iss, expected) : 'the token has no iss claim';
    throw new IrsaError(
      'TOKEN_ISSUER_MISMATCH',
      `The token's issuer does not match: ${how}.`,
      `Make kube-apiserver's --service-account-issuer, the discovery "issuer" and the IAM OIDC provider URL all exactly "${expected}".`,
      { detail: { iss, expected } },
    );
  }
  return iss;
}

function numericDate(claims: Record<string, unknown>, name: string, required: boolean): number | undefined {
  const value = claims[name];
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new IrsaError(
      'TOKEN_CLAIM_INVALID',
      `The token's ${name} claim is ${value === undefined ? 'missing' : 'not a number of seconds'}.`,
      'Use a token minted by kube-apiserver (TokenRequest or a projected volume): it sets exp, iat and nbf.',
    );
  }
  return value;
}

/** Checks exp and iat (required) and nbf (optional) against `now` with the allowed skew. */
export function checkTimes(
  claims: Record<string, unknown>,
  now: Date,
): { exp: number; iat: number; nbf?: number } {
  const nowSeconds = Math.floor(now.getTime() / 1000);
  const exp = numericDate(claims, 'exp', true) as number;
  const iat = numericDate(claims, 'iat', true) as number;
  const nbf = numericDate(claims, 'nbf', false);
  const at = (seconds: number) => new Date(seconds * 1000).toISOString();
  if (nowSeconds > exp + CLOCK_SKEW_SECONDS) {
    throw new IrsaError(
      'TOKEN_EXPIRED',
      `The token expired at ${at(exp)} (now ${at(nowSeconds)}, ${CLOCK_SKEW_SECONDS} s of skew allowed).`,
      'Use a fresh token: kubelet refreshes projected tokens at 80% of their lifetime; check the node clock.',
    );
  }
  if (nbf !== undefined && nowSeconds + CLOCK_SKEW_SECONDS < nbf) {
    throw new IrsaError(
      'TOKEN_NOT_YET_VALID',
      `The token is not valid before ${at(nbf)} (now ${at(nowSeconds)}, ${CLOCK_SKEW_SECONDS} s of skew allowed).`,
      'Synchronise the clocks (NTP) of the control plane and of the machine verifying the token.',
    );
  }
  if (nowSeconds + CLOCK_SKEW_SECONDS < iat) {
    throw new IrsaError(
      'TOKEN_ISSUED_IN_FUTURE',
      `The token was issued at ${at(iat)}, in the future (now ${at(nowSeconds)}, ${CLOCK_SKEW_SECONDS} s of skew allowed).`,
      'Synchronise the clocks (NTP) of the control plane and of the machine verifying the token.',
    );
  }
  return nbf === undefined ? { exp, iat } : { exp, iat, nbf };
}

/** Returns `aud` when it is a string or list of strings holding an accepted audience. */
export function checkAudience(aud: unknown, accepted: readonly string[]): string | string[] {
  const list = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : undefined;
  if (list === undefined || !list.every((item): item is string => typeof item === 'string')) {
    throw new IrsaError(
      'TOKEN_AUDIENCE_MISMATCH',
      'The token has no aud claim (or it is not a string or list of strings).',
      `Request the token with an audience the IAM OIDC provider lists, e.g. "${accepted[0] ?? DEFAULT_AUDIENCE}".`,
    );
  }
  if (!list.some((item) => accepted.includes(item))) {
    throw new IrsaError(
      'TOKEN_AUDIENCE_MISMATCH',
      `The token's audience ${JSON.stringify(list)} holds none of the accepted ${JSON.stringify(accepted)}.`,
      `Set the projected token audience (or the webhook's audience annotation) to "${accepted[0] ?? DEFAULT_AUDIENCE}", or add the token's audience as a client ID of the IAM OIDC provider.`,
    );
  }
  return aud as string | string[];
}

/** Parses `system:serviceaccount:<namespace>:<name>`; null when `sub` is not of that form. */
export function parseServiceAccountSubject(
  sub: unknown,
): { namespace: string; serviceAccount: string } | null {
  if (typeof sub !== 'string') return null;
  const parts = sub.split(':');
  if (parts.length !== 4 || parts[0] !== 'system' || parts[1] !== 'serviceaccount') return null;
  const namespace = parts[2] ?? '';
  const serviceAccount = parts[3] ?? '';
  if (!isDns1123Label(namespace) || !isDns1123Subdomain(serviceAccount)) return null;
  return { namespace, serviceAccount };
}
