/**
 * The cluster name: the serverless stage, the `CLUSTER_NAME` of the functions, the `cluster` of
 * every KMS encryption context and key tag, and key-sync's `--cluster`. One rule for the stack and
 * the CLI (infra/parameters.yml's AllowedPattern is the same expression; a test keeps them equal):
 * a name the stack cannot have would only fail later, as a KMS Decrypt with the wrong context.
 */

/** Letters, digits and hyphens, starting with a letter or digit, at most 63 characters. */
export const CLUSTER_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9-]{0,62}$/;

/** The rule in words, for error messages. */
export const CLUSTER_NAME_RULE = 'letters, digits and hyphens (at most 63)';

/** True when `value` is a cluster name the stack accepts. */
export function isClusterName(value: string): boolean {
  return CLUSTER_NAME_PATTERN.test(value);
}
