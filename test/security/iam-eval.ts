/**
 * A small APPROXIMATION of IAM policy evaluation, for the attack suite. It is not AWS: it knows
 * only what this project's policies use, and it was never run against real IAM. What it models:
 *
 * - Actions and resources with `*` / `?` wildcards; `Principal` as `*`, an ARN, a list of ARNs
 *   or `{ Service }`; a key policy naming the account root (`arn:aws:iam::<account>:root`)
 *   delegates to IAM, so the caller's identity policies must allow too.
 * - An explicit `Deny` anywhere wins; otherwise KMS needs the key policy to allow (directly, or
 *   through root delegation plus an identity policy), S3 needs an identity policy or the bucket
 *   policy to allow (same account).
 * - Condition operators: StringEquals, StringNotEquals, StringLike, StringNotLike, ArnEquals,
 *   ArnLike, ArnNotEquals, ArnNotLike, Bool, Null, the `ForAllValues:` / `ForAnyValue:` set
 *   prefixes and the `IfExists` suffix. Keys compare case-insensitively, values case-sensitively.
 *   A plain (single-valued) operator given a multi-valued key matches when any value matches.
 * - Context keys the caller supplies: `aws:PrincipalArn`, `aws:PrincipalTag/*`, `aws:ResourceTag/*`
 *   (IAM only: AWS KMS ignores it in key policies, so it is dropped there), `aws:RequestTag/*`,
 *   `aws:TagKeys`, `aws:SecureTransport`, `kms:*`.
 *
 * - `NotResource`, and policy variables (`${aws:PrincipalTag/...}` and other context keys) in
 *   `Resource`/`NotResource`. A variable whose key the request lacks makes the whole statement not
 *   apply (AWS: "the entire statement might be invalid"), which is why a policy that relies on a
 *   variable in a Deny also needs a `Null` Deny for the missing key.
 *
 * What it does NOT model: SCPs, permission boundaries, session policies, grants, VPC endpoint
 * policies, NotAction/NotPrincipal, the five-minute delay of tag
 * changes, or anything about cross-account access.
 */

/** One policy statement, as written in a template or key policy (intrinsics already resolved). */
export interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: unknown;
  Action: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
}

/** A policy document. */
export interface PolicyDocument {
  Version?: string;
  Statement: Statement[];
}

/** One request to evaluate. */
export interface Request {
  /** The caller: a role ARN (`arn:aws:iam::<account>:role/<name>`). */
  principalArn: string;
  principalTags?: Record<string, string>;
  action: string;
  resource: string;
  /** Tags already on the resource (`aws:ResourceTag/*`). */
  resourceTags?: Record<string, string>;
  /** Tags in the request (`aws:RequestTag/*`, and `aws:TagKeys` from their keys). */
  requestTags?: Record<string, string>;
  /** Any other condition keys (e.g. `kms:KeySpec`, `kms:EncryptionContext:cluster`, `aws:TagKeys`). */
  context?: Record<string, string | string[]>;
}

type Context = Map<string, string[]>;

function list<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function glob(pattern: string, value: string, caseInsensitive = false): boolean {
  const escaped = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`, caseInsensitive ? 'i' : '').test(value);
}

function account(arn: string): string {
  return arn.split(':')[4] ?? '';
}

function buildContext(request: Request, forKeyPolicy: boolean): Context {
  const context: Context = new Map();
  const set = (key: string, value: string | string[]) => context.set(key.toLowerCase(), list(value));
  set('aws:PrincipalArn', request.principalArn);
  set('aws:PrincipalAccount', account(request.principalArn));
  for (const [k, v] of Object.entries(request.principalTags ?? {})) set(`aws:PrincipalTag/${k}`, v);
  if (!forKeyPolicy || !request.action.startsWith('kms:')) {
    for (const [k, v] of Object.entries(request.resourceTags ?? {})) set(`aws:ResourceTag/${k}`, v);
  }
  if (request.requestTags !== undefined) {
    for (const [k, v] of Object.entries(request.requestTags)) set(`aws:RequestTag/${k}`, v);
    set('aws:TagKeys', Object.keys(request.requestTags));
  }
  for (const [k, v] of Object.entries(request.context ?? {})) set(k, v);
  return context;
}

function compare(operator: string, actual: string, expected: string): boolean {
  switch (operator) {
    case 'stringequals':
    case 'arnequals':
      return actual === expected;
    case 'stringlike':
    case 'arnlike':
      return glob(expected, actual);
    case 'bool':
      return actual.toLowerCase() === expected.toLowerCase();
    default:
      throw new Error(`iam-eval: unsupported condition operator ${operator}`);
  }
}

const NEGATED: Record<string, string> = {
  stringnotequals: 'stringequals',
  stringnotlike: 'stringlike',
  arnnotequals: 'arnequals',
  arnnotlike: 'arnlike',
};

function conditionHolds(rawOperator: string, key: string, expected: unknown, context: Context): boolean {
  let operator = rawOperator.toLowerCase();
  let set: 'all' | 'any' | undefined;
  if (operator.startsWith('forallvalues:')) {
    set = 'all';
    operator = operator.slice('forallvalues:'.length);
  } else if (operator.startsWith('foranyvalue:')) {
    set = 'any';
    operator = operator.slice('foranyvalue:'.length);
  }
  const ifExists = operator.endsWith('ifexists');
  if (ifExists) operator = operator.slice(0, -'ifexists'.length);
  const values = list(expected as string | string[]).map(String);
  const actual = context.get(key.toLowerCase());
  if (operator === 'null') {
    const absent = actual === undefined || actual.length === 0;
    return values.some((v) => (v === 'true') === absent);
  }
  const negated = NEGATED[operator];
  const base = negated ?? operator;
  const matchOne = (a: string) => values.some((e) => compare(base, a, e));
  if (set === 'all') {
    if (actual === undefined) return true;
    return actual.every((a) => (negated === undefined ? matchOne(a) : !matchOne(a)));
  }
  if (set === 'any') {
    if (actual === undefined) return false;
    return actual.some((a) => (negated === undefined ? matchOne(a) : !matchOne(a)));
  }
  if (actual === undefined) return ifExists || negated !== undefined;
  const any = actual.some(matchOne);
  return negated === undefined ? any : !any;
}

function conditionsHold(statement: Statement, context: Context): boolean {
  for (const [operator, entries] of Object.entries(statement.Condition ?? {})) {
    for (const [key, expected] of Object.entries(entries)) {
      if (!conditionHolds(operator, key, expected, context)) return false;
    }
  }
  return true;
}

function actionMatches(statement: Statement, action: string): boolean {
  return list(statement.Action).some((pattern) => glob(pattern, action, true));
}

/** Substitutes `${key}` policy variables from the context; null when a key is absent. */
function substitute(pattern: string, context: Context): string | null {
  let missing = false;
  const out = pattern.replace(/\$\{([^}]+)\}/g, (_, key: string) => {
    const value = context.get(key.toLowerCase());
    if (value === undefined || value.length !== 1) {
      missing = true;
      return '';
    }
    return value[0] ?? '';
  });
  return missing ? null : out;
}

/** Whether the statement's Resource (or NotResource) covers the resource; null: a variable is unresolved. */
function resourceMatches(
  statement: Statement,
  resource: string,
  isResourcePolicy: boolean,
  context: Context,
): boolean | null {
  // A key policy's Resource is "*", meaning "this key".
  if (statement.Resource === undefined && statement.NotResource === undefined) return isResourcePolicy;
  const negated = statement.Resource === undefined;
  const patterns = list(negated ? statement.NotResource : statement.Resource).map((p) =>
    substitute(p, context),
  );
  if (patterns.some((p) => p === null)) return null;
  const hit = patterns.some((pattern) => glob(pattern ?? '', resource));
  return negated ? !hit : hit;
}

/** Who a resource-policy statement names: `direct` (the caller), `root` (the caller's account), or no one. */
function principalMatch(statement: Statement, principalArn: string): 'direct' | 'root' | 'none' {
  const principal = statement.Principal;
  if (principal === '*') return 'direct';
  if (principal === null || typeof principal !== 'object') return 'none';
  const aws = list((principal as { AWS?: string | string[] }).AWS);
  if (aws.includes('*') || aws.includes(principalArn)) return 'direct';
  const root = `arn:aws:iam::${account(principalArn)}:root`;
  if (aws.includes(root) || aws.includes(account(principalArn))) return 'root';
  return 'none';
}

function matching(
  statements: readonly Statement[],
  request: Request,
  context: Context,
  resourcePolicy: boolean,
): Statement[] {
  return statements.filter(
    (s) =>
      actionMatches(s, request.action) &&
      resourceMatches(s, request.resource, resourcePolicy, context) === true &&
      conditionsHold(s, context),
  );
}

/** The verdict, with the statements that decided it (for test messages). */
export interface Verdict {
  allowed: boolean;
  reason: string;
}

function identityVerdict(identity: readonly PolicyDocument[], request: Request) {
  const context = buildContext(request, false);
  const hits = identity.flatMap((doc) => matching(doc.Statement, request, context, false));
  return {
    deny: hits.find((s) => s.Effect === 'Deny'),
    allow: hits.find((s) => s.Effect === 'Allow'),
  };
}

function resourceHits(policy: PolicyDocument, request: Request, forKeyPolicy: boolean) {
  const context = buildContext(request, forKeyPolicy);
  return matching(policy.Statement, request, context, true)
    .map((s) => ({ s, who: principalMatch(s, request.principalArn) }))
    .filter((h) => h.who !== 'none');
}

/** KMS: the key policy must allow (directly, or via the account root and an identity policy). */
export function evaluateKms(
  keyPolicy: PolicyDocument,
  identity: readonly PolicyDocument[],
  request: Request,
): Verdict {
  const id = identityVerdict(identity, request);
  const hits = resourceHits(keyPolicy, request, true);
  const deny = hits.find((h) => h.s.Effect === 'Deny')?.s ?? id.deny;
  if (deny !== undefined) return { allowed: false, reason: `explicit deny ${deny.Sid ?? ''}` };
  const direct = hits.find((h) => h.s.Effect === 'Allow' && h.who === 'direct');
  if (direct !== undefined) return { allowed: true, reason: `key policy ${direct.s.Sid ?? ''}` };
  const root = hits.find((h) => h.s.Effect === 'Allow' && h.who === 'root');
  if (root !== undefined && id.allow !== undefined) {
    return { allowed: true, reason: `key policy ${root.s.Sid ?? ''} + IAM ${id.allow.Sid ?? ''}` };
  }
  return { allowed: false, reason: root === undefined ? 'key policy does not allow' : 'IAM does not allow' };
}

/** S3, same account: an explicit deny wins; an identity or bucket policy allow suffices. */
export function evaluateS3(
  bucketPolicy: PolicyDocument,
  identity: readonly PolicyDocument[],
  request: Request,
): Verdict {
  const id = identityVerdict(identity, request);
  const hits = resourceHits(bucketPolicy, request, false);
  const deny = hits.find((h) => h.s.Effect === 'Deny')?.s ?? id.deny;
  if (deny !== undefined) return { allowed: false, reason: `explicit deny ${deny.Sid ?? ''}` };
  const allow = hits.find((h) => h.s.Effect === 'Allow')?.s ?? id.allow;
  if (allow !== undefined) return { allowed: true, reason: `allow ${allow.Sid ?? ''}` };
  return { allowed: false, reason: 'no statement allows' };
}

/** The default key policy KMS gives a key created without `Policy`: the account root may do anything. */
export function defaultKeyPolicy(accountId: string): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'Enable IAM User Permissions',
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${accountId}:root` },
        Action: 'kms:*',
        Resource: '*',
      },
    ],
  };
}
