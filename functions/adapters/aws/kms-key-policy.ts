/**
 * The key policy of every signing key the stack creates (kms mode), and the tags that name it.
 * Without an explicit policy KMS gives the account root `kms:*`, so any principal whose IAM policy
 * allows `kms:Sign` could mint tokens for every role that trusts the cluster. This policy instead:
 *
 * - lets the function roles (rotate, bootstrap) administer the key (they create, tag, repair and
 *   destroy it) — named as principals, so IAM cannot widen it to anyone else;
 * - lets only principals tagged `irsa-anywhere:cluster = <cluster>` Sign and read the public key,
 *   and only through an IAM policy that also allows it (the stack's node policy): two keys to turn;
 * - leaves the account root only what avoids a lockout (reading and replacing the policy, reading
 *   the key's metadata, tags and public half) — see docs/security.md for why exactly these.
 */

/** Tag keys this project puts on the KMS keys it creates (namespaced, so other teams' tags never match). */
export const TAG_CLUSTER = 'irsa-anywhere:cluster';
export const TAG_MANAGED_BY = 'irsa-anywhere:managed-by';
export const TAG_KID = 'irsa-anywhere:kid';
/** Value of the managed-by tag. */
export const MANAGED_BY = 'irsa-anywhere';
/** Tag keys of releases before the namespaced ones; removed once the namespaced tags took effect. */
export const LEGACY_TAGS = { cluster: 'cluster', managedBy: 'managed-by', kid: 'kid' } as const;

/** Who the key policy names. */
export interface KeyAuthority {
  cluster: string;
  partition: string;
  accountId: string;
  /** The function roles (rotate, bootstrap), as IAM role ARNs. */
  adminRoleArns: readonly string[];
}

/** Actions of the function roles on their own keys. */
export const ADMIN_ACTIONS = [
  'kms:DescribeKey',
  'kms:GetPublicKey',
  'kms:GetKeyPolicy',
  'kms:PutKeyPolicy',
  'kms:ListResourceTags',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:ScheduleKeyDeletion',
] as const;

/**
 * What the account root keeps: enough to recover the key if the function roles are gone (read and
 * replace the policy), to undo a deletion, and to audit it (metadata, tags, the public half).
 * Nothing that signs, deletes, disables or retags: those need a new policy first, which CloudTrail
 * records (docs/security.md).
 */
export const ROOT_ACTIONS = [
  'kms:DescribeKey',
  'kms:GetKeyPolicy',
  'kms:PutKeyPolicy',
  'kms:ListResourceTags',
  'kms:GetPublicKey',
  'kms:CancelKeyDeletion',
] as const;

/** What the control-plane nodes may do. */
export const NODE_ACTIONS = ['kms:Sign', 'kms:GetPublicKey'] as const;

const ROLE_ARN = /^arn:(aws[a-z-]*):iam::(\d{12}):role\/[\w+=,.@/-]{1,512}$/;

/** True for an IAM role ARN. */
export function isRoleArn(value: string): boolean {
  return ROLE_ARN.test(value);
}

/**
 * The authority for a cluster's keys from the function role ARNs, or `undefined` when none is
 * known (then keys keep the KMS default policy, as before; the handler logs a warning).
 */
export function keyAuthority(cluster: string, roleArns: readonly string[]): KeyAuthority | undefined {
  const first = roleArns[0];
  const match = first === undefined ? null : ROLE_ARN.exec(first);
  if (match === null) return undefined;
  return { cluster, partition: match[1] ?? 'aws', accountId: match[2] ?? '', adminRoleArns: [...roleArns] };
}

/** The key policy document (an object) for a signing key of `authority.cluster`. */
export function signingKeyPolicy(authority: KeyAuthority): Record<string, unknown> {
  const root = `arn:${authority.partition}:iam::${authority.accountId}:root`;
  return {
    Version: '2012-10-17',
    Id: `irsa-anywhere-signing-key-${authority.cluster}`,
    Statement: [
      {
        Sid: 'AccountKeepsLockoutRecoveryOnly',
        Effect: 'Allow',
        Principal: { AWS: root },
        Action: [...ROOT_ACTIONS],
        Resource: '*',
      },
      {
        Sid: 'FunctionRolesAdministerTheKey',
        Effect: 'Allow',
        Principal: { AWS: [...authority.adminRoleArns] },
        Action: [...ADMIN_ACTIONS],
        Resource: '*',
      },
      {
        Sid: 'ControlPlaneNodesOfThisClusterSign',
        Effect: 'Allow',
        Principal: { AWS: root },
        Action: [...NODE_ACTIONS],
        Resource: '*',
        Condition: { StringEquals: { [`aws:PrincipalTag/${TAG_CLUSTER}`]: authority.cluster } },
      },
    ],
  };
}

/** The tags a signing key of `cluster` carries (the kid once known). */
export function signingKeyTags(cluster: string, kid?: string): Array<{ TagKey: string; TagValue: string }> {
  const tags = [
    { TagKey: TAG_CLUSTER, TagValue: cluster },
    { TagKey: TAG_MANAGED_BY, TagValue: MANAGED_BY },
  ];
  if (kid !== undefined) tags.push({ TagKey: TAG_KID, TagValue: kid });
  return tags;
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => [k, canonical(v)]),
  );
}

/** True when a stored policy (JSON text) says the same as `wanted` (member order ignored). */
export function samePolicy(stored: string | undefined, wanted: Record<string, unknown>): boolean {
  if (stored === undefined) return false;
  try {
    return JSON.stringify(canonical(JSON.parse(stored))) === JSON.stringify(canonical(wanted));
  } catch {
    return false;
  }
}
