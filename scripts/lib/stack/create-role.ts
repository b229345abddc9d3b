/**
 * `trust-policy --role-name`: the `aws iam create-role` command for a trust policy, quoted for a
 * POSIX shell so it can be pasted as is.
 */
import { IrsaError } from '#core/errors.ts';

/** IAM's default limit on a role trust policy (a quota raisable to 4,096). */
export const TRUST_POLICY_DEFAULT_LIMIT = 2048;
/** IAM's hard limit on a role trust policy. */
export const TRUST_POLICY_MAX = 4096;

const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;

/** Quotes `text` for a POSIX shell with single quotes. */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * The `aws iam create-role` command for `roleName` with `policy` as its trust policy (minified JSON).
 * Throws `FLAG_INVALID` for a role name IAM rejects and `TRUST_POLICY_TOO_LONG` over 4,096
 * characters; between 2,048 and 4,096 it adds a comment line about the quota.
 */
export function createRoleCommand(roleName: string, policy: unknown): string {
  if (!ROLE_NAME.test(roleName)) {
    throw new IrsaError(
      'FLAG_INVALID',
      `--role-name "${roleName}" is not an IAM role name (1-64 of letters, digits and +=,.@_-).`,
      'Pass a role name such as --role-name my-app-s3-reader.',
    );
  }
  const json = JSON.stringify(policy);
  if (json.length > TRUST_POLICY_MAX) {
    throw new IrsaError(
      'TRUST_POLICY_TOO_LONG',
      `The trust policy is ${json.length} characters; IAM accepts at most ${TRUST_POLICY_MAX}.`,
      'Use fewer service accounts per role, or a StringLike pattern such as system:serviceaccount:<ns>:*.',
    );
  }
  const lines: string[] = [];
  if (json.length > TRUST_POLICY_DEFAULT_LIMIT) {
    lines.push(
      `# The trust policy is ${json.length} characters: above IAM's default quota of ${TRUST_POLICY_DEFAULT_LIMIT}; request "Role trust policy length" up to ${TRUST_POLICY_MAX} in Service Quotas first.`,
    );
  }
  lines.push(
    `aws iam create-role --role-name ${shellQuote(roleName)} --assume-role-policy-document ${shellQuote(json)}`,
  );
  return lines.join('\n');
}
