/**
 * What STS says when AssumeRoleWithWebIdentity fails, and which doctor check finds the cause. The
 * same table feeds `--assume` (to point at the failing check) and the troubleshooting table in docs/doctor.md.
 */

/** One STS error text and the checks that explain it. */
export interface StsErrorHint {
  /** Matches the STS error message. */
  pattern: RegExp;
  /** The error as a person sees it. */
  text: string;
  /** Doctor check ids that find the cause. */
  checks: string[];
  cause: string;
}

/** Known STS failures, most specific first. */
export const STS_ERROR_HINTS: readonly StsErrorHint[] = [
  {
    pattern: /Couldn't retrieve verification key/i,
    text: "InvalidIdentityToken: Couldn't retrieve verification key from your identity provider",
    checks: ['discovery.fetch', 'discovery.jwks_uri', 'jwks.fetch', 'token.kid', 'cluster.jwks'],
    cause:
      "STS could not fetch the discovery document or JWKS, or the JWKS lacks the token's kid (a key that signed before it was published, a redirect, a private certificate).",
  },
  {
    pattern: /No OpenIDConnect provider found/i,
    text: 'InvalidIdentityToken: No OpenIDConnect provider found in your account for <iss>',
    checks: ['iam.provider', 'token.iss', 'issuer.url'],
    cause:
      "No IAM OIDC provider has exactly the token's iss (a trailing slash, case, another account or partition).",
  },
  {
    pattern: /Incorrect token audience/i,
    text: 'InvalidIdentityToken: Incorrect token audience',
    checks: ['token.aud', 'iam.audience', 'cluster.serviceaccount'],
    cause:
      "The token's aud is not a client ID of the provider (the webhook requests sts.amazonaws.com unless the service account says otherwise).",
  },
  {
    pattern: /Not authorized to perform sts:AssumeRoleWithWebIdentity/i,
    text: 'AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity',
    checks: ['trust.policy', 'trust.role'],
    cause:
      'The role trust policy does not allow this provider, sub or aud (wrong namespace/service account, condition key of another issuer).',
  },
  {
    pattern: /Token is expired|expired/i,
    text: 'ExpiredTokenException: Token is expired',
    checks: ['token.time'],
    cause: 'The token expired, or a clock is off by more than 5 minutes.',
  },
  {
    pattern: /issuer.*(does not match|mismatch)|Issuer must be a valid URL/i,
    text: 'InvalidIdentityToken: issuer mismatch / Issuer must be a valid URL',
    checks: ['token.iss', 'discovery.issuer', 'cluster.discovery'],
    cause: 'The token iss, the discovery issuer and the provider URL differ.',
  },
  {
    pattern: /signature|verif/i,
    text: 'InvalidIdentityToken: The web identity token signature could not be verified / Incorrect token signature',
    checks: ['token.signature', 'token.kid'],
    cause: 'The published key for the kid is not the one that signed the token.',
  },
  {
    pattern: /too long|length|invalid token|malformed|not a valid JWT/i,
    text: 'InvalidIdentityToken: ... (malformed token, bad alg, wrong length)',
    checks: ['token.format', 'token.alg'],
    cause:
      'The token is not a compact JWS of 4 to 20,000 characters signed with RS256/384/512 or ES256/384/512.',
  },
  {
    pattern: /IDPCommunicationError|communicat|timeout/i,
    text: 'IDPCommunicationError: ...',
    checks: ['discovery.fetch', 'jwks.fetch'],
    cause: 'STS could not reach the issuer in time (DNS, TLS, an origin that is slow or blocked).',
  },
];

/** The hint for an STS error message, if one matches. */
export function hintForStsError(message: string): StsErrorHint | undefined {
  return STS_ERROR_HINTS.find((hint) => hint.pattern.test(message));
}
