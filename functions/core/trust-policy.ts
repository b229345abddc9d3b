/**
 * IAM role trust policies for IRSA: who may call `sts:AssumeRoleWithWebIdentity` with a token from
 * our issuer. Building one (Federated OIDC provider principal, StringEquals on `<hostpath>:sub`
 * and `<hostpath>:aud`, StringLike only for wildcards) and evaluating one against a token's claims,
 * with reasons that say which condition failed and how to fix it.
 */
import { IrsaError } from './errors.ts';
import { issuerHostPath } from './issuer.ts';
import { parseServiceAccountRef } from './kube-names.ts';
import { DEFAULT_AUDIENCE } from './token-claims.ts';

/** IAM's hard maximum for a role trust policy (the default quota is 2,048). */
export const MAX_TRUST_POLICY_LENGTH = 4096;

const PARTITIONS = new Set([
  'aws',
  'aws-cn',
  'aws-us-gov',
  'aws-iso',
  'aws-iso-b',
  'aws-iso-e',
  'aws-iso-f',
  'aws-eusc',
]);
const ACTION = 'sts:AssumeRoleWithWebIdentity';

/** One service account (names may use IAM wildcards `*` and `?`, which switch to StringLike). */
export interface ServiceAccountRef {
  namespace: string;
  serviceAccount: string;
}

/** The trust policy document, member order as IAM shows it. */
export interface TrustPolicy {
  Version: '2012-10-17';
  Statement: Array<{
    Effect: 'Allow';
    Principal: { Federated: string };
    Action: typeof ACTION;
    Condition: Record<string, Record<string, string | string[]>>;
  }>;
}

/** The result of {@link evaluateTrustPolicy}. */
export interface TrustEvaluation {
  allowed: boolean;
  reasons: string[];
}

/**
 * `arn:<partition>:iam::<accountId>:oidc-provider/<issuer host and path>`. Throws
 * `TRUST_ACCOUNT_ID_INVALID`, `TRUST_PARTITION_INVALID` or an `ISSUER_*` error.
 */
export function oidcProviderArn(accountId: string, issuer: string, partition = 'aws'): string {
  if (!/^\d{12}$/.test(accountId)) {
    throw new IrsaError(
      'TRUST_ACCOUNT_ID_INVALID',
      `AWS account ID "${accountId}" is not 12 digits.`,
      'Pass the 12-digit account ID (`aws sts get-caller-identity --query Account`), keeping leading zeros.',
    );
  }
  if (!PARTITIONS.has(partition)) {
    throw new IrsaError(
      'TRUST_PARTITION_INVALID',
      `"${partition}" is not an AWS partition.`,
      'Use "aws", or "aws-cn" / "aws-us-gov" for those regions.',
    );
  }
  return `arn:${partition}:iam::${accountId}:oidc-provider/${issuerHostPath(issuer)}`;
}

const hasWildcard = (value: string): boolean => /[*?]/.test(value);

/**
 * Builds the trust policy for one or more service accounts: one Allow statement for the OIDC
 * provider, `sts:AssumeRoleWithWebIdentity`, StringEquals on `<hostpath>:sub` (a list when several)
 * and `<hostpath>:aud`; `:sub` moves to StringLike when a name contains `*` or `?`. Throws
 * `TRUST_*` errors for a provider ARN of another issuer, no or invalid service accounts, an invalid
 * audience, or a policy over IAM's 4,096-character maximum.
 */
export function buildTrustPolicy(input: {
  providerArn: string;
  issuer: string;
  serviceAccounts: readonly ServiceAccountRef[];
  audience?: string | undefined;
}): TrustPolicy {
  const hostPath = issuerHostPath(input.issuer);
  const arn = /^arn:([a-z-]+):iam::(\d{12}):oidc-provider\/(.+)$/.exec(input.providerArn);
  if (arn === null || !PARTITIONS.has(arn[1] ?? '') || arn[3] !== hostPath) {
    throw new IrsaError(
      'TRUST_PROVIDER_MISMATCH',
      `"${input.providerArn}" is not the IAM OIDC provider ARN for issuer ${input.issuer}.`,
      `Use "arn:aws:iam::<account-id>:oidc-provider/${hostPath}".`,
    );
  }
  if (input.serviceAccounts.length === 0) {
    throw new IrsaError(
      'TRUST_NO_SERVICE_ACCOUNTS',
      'No service account was given.',
      'Name at least one namespace and service account.',
    );
  }
  const audience = input.audience ?? DEFAULT_AUDIENCE;
  if (audience.length === 0 || audience.length > 255) {
    throw new IrsaError(
      'TRUST_AUDIENCE_INVALID',
      `The audience "${audience}" must be 1 to 255 characters.`,
      `Use the token audience, usually "${DEFAULT_AUDIENCE}".`,
    );
  }
  const subs: string[] = [];
  for (const { namespace, serviceAccount } of input.serviceAccounts) {
    parseServiceAccountRef(namespace, serviceAccount, { wildcards: true });
    const sub = `system:serviceaccount:${namespace}:${serviceAccount}`;
    if (!subs.includes(sub)) subs.push(sub);
  }
  const subValue = subs.length === 1 ? (subs[0] as string) : subs;
  const condition: Record<string, Record<string, string | string[]>> = subs.some(hasWildcard)
    ? { StringEquals: { [`${hostPath}:aud`]: audience }, StringLike: { [`${hostPath}:sub`]: subValue } }
    : { StringEquals: { [`${hostPath}:sub`]: subValue, [`${hostPath}:aud`]: audience } };
  const policy: TrustPolicy = {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Principal: { Federated: input.providerArn }, Action: ACTION, Condition: condition },
    ],
  };
  const length = JSON.stringify(policy).length;
  if (length > MAX_TRUST_POLICY_LENGTH) {
    throw new IrsaError(
      'TRUST_POLICY_TOO_LONG',
      `The trust policy is ${length} characters; IAM allows at most ${MAX_TRUST_POLICY_LENGTH} (2,048 by default).`,
      'Use a wildcard (e.g. --service-account "app-*") or split the service accounts across roles.',
    );
  }
  return policy;
}

// ---- evaluation ----

type Statement = Record<string, unknown>;

/**
 * The statements of a trust policy given as an object, JSON or URL-encoded JSON (as IAM GetRole
 * returns it). Throws `TRUST_POLICY_INVALID` when it is none of these.
 */
export function parsePolicy(policy: unknown): Statement[] {
  let document = policy;
  if (typeof policy === 'string') {
    const text = policy.trim();
    try {
      document = JSON.parse(
        text.startsWith('%7B') || text.startsWith('%7b') ? decodeURIComponent(text) : text,
      );
    } catch (cause) {
      throw new IrsaError(
        'TRUST_POLICY_INVALID',
        'The trust policy is not JSON (nor URL-encoded JSON as IAM GetRole returns it).',
        'Pass the AssumeRolePolicyDocument as JSON, e.g. from `aws iam get-role --query Role.AssumeRolePolicyDocument`.',
        { cause },
      );
    }
  }
  const statement = (document as { Statement?: unknown } | null)?.Statement;
  const list = Array.isArray(statement) ? statement : statement === undefined ? undefined : [statement];
  if (
    document === null ||
    typeof document !== 'object' ||
    list === undefined ||
    !list.every((item) => item !== null && typeof item === 'object')
  ) {
    throw new IrsaError(
      'TRUST_POLICY_INVALID',
      'The trust policy has no Statement (an object or a list of objects).',
      'Pass a whole policy document: {"Version":"2012-10-17","Statement":[...]}.',
    );
  }
  return list as Statement[];
}

const asList = (value: unknown): string[] =>
  (Array.isArray(value) ? value : value === undefined ? [] : [value]).map((item) => String(item));

function globMatch(pattern: string, value: string, ignoreCase = false): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`, ignoreCase ? 'is' : 's').test(value);
}

function principalMatches(statement: Statement, providerArn: string): boolean {
  const principal = statement.Principal;
  if (principal === '*') return true;
  if (principal === null || typeof principal !== 'object') return false;
  return asList((principal as { Federated?: unknown }).Federated).includes(providerArn);
}

function actionMatches(statement: Statement): boolean {
  return asList(statement.Action).some((action) => globMatch(action, ACTION, true));
}

interface ConditionResult {
  ok: boolean;
  reasons: string[];
}

/** Evaluates one operator on one key; `values` undefined means the key is absent from the request. */
function evaluateOperator(
  operator: string,
  patterns: string[],
  values: string[] | undefined,
): boolean | null {
  let op = operator;
  const ifExists = op.endsWith('IfExists');
  if (ifExists) op = op.slice(0, -'IfExists'.length);
  let set: 'any' | 'all' | 'single' = 'single';
  if (op.startsWith('ForAnyValue:')) [set, op] = ['any', op.slice('ForAnyValue:'.length)];
  else if (op.startsWith('ForAllValues:')) [set, op] = ['all', op.slice('ForAllValues:'.length)];
  const tests: Record<string, (pattern: string, value: string) => boolean> = {
    StringEquals: (p, v) => p === v,
    StringNotEquals: (p, v) => p === v,
    StringEqualsIgnoreCase: (p, v) => p.toLowerCase() === v.toLowerCase(),
    StringNotEqualsIgnoreCase: (p, v) => p.toLowerCase() === v.toLowerCase(),
    StringLike: (p, v) => globMatch(p, v),
    StringNotLike: (p, v) => globMatch(p, v),
  };
  const test = tests[op];
  if (test === undefined) return null;
  const negated = op.startsWith('StringNot');
  if (values === undefined || values.length === 0) {
    if (ifExists || set === 'all') return true;
    return negated;
  }
  const matches = (value: string) => patterns.some((pattern) => test(pattern, value));
  if (set === 'all') return values.every((value) => (negated ? !matches(value) : matches(value)));
  // Single-valued and ForAnyValue: a multi-valued aud satisfies when any of its values does.
  return negated ? !values.some(matches) : values.some(matches);
}

function evaluateConditions(
  statement: Statement,
  hostPath: string,
  claims: { sub: string; aud: string | string[] },
): ConditionResult {
  const condition = statement.Condition;
  if (condition === undefined) return { ok: true, reasons: [] };
  if (condition === null || typeof condition !== 'object')
    return { ok: false, reasons: ['the Condition block is not an object'] };
  const context: Record<string, string[]> = {
    [`${hostPath}:sub`.toLowerCase()]: [claims.sub],
    [`${hostPath}:aud`.toLowerCase()]: asList(claims.aud),
  };
  const reasons: string[] = [];
  let ok = true;
  for (const [operator, block] of Object.entries(condition as Record<string, unknown>)) {
    if (block === null || typeof block !== 'object') continue;
    for (const [key, expected] of Object.entries(block as Record<string, unknown>)) {
      const patterns = asList(expected);
      const lowerKey = key.toLowerCase();
      const values = context[lowerKey];
      const result = evaluateOperator(operator, patterns, values);
      if (result === null) {
        ok = false;
        reasons.push(
          `condition operator ${operator} on "${key}" is not evaluated here, so it is treated as not satisfied.`,
        );
        continue;
      }
      if (result) continue;
      ok = false;
      const shown = patterns.length === 1 ? JSON.stringify(patterns[0]) : JSON.stringify(patterns);
      const claim = lowerKey.endsWith(':aud') ? 'aud' : 'sub';
      if (values === undefined) {
        const foreign = /:(sub|aud|amr)$/i.test(key)
          ? ` (a key of another issuer; this token's keys are "${hostPath}:sub" and "${hostPath}:aud")`
          : '';
        reasons.push(
          `condition ${operator} "${key}" ${shown} cannot match this token${foreign}. Fix: use "${hostPath}:${claim}" as the condition key.`,
        );
      } else {
        const actual = claim === 'aud' ? JSON.stringify(claims.aud) : JSON.stringify(claims.sub);
        const fix =
          claim === 'sub'
            ? `Fix: put ${actual} in the condition (irsa-anywhere trust-policy --namespace <ns> --service-account <sa>), or run the pod as the service account the policy names.`
            : `Fix: request the token with audience ${shown} (service-account annotation eks.amazonaws.com/audience), or put the token's audience in the condition.`;
        reasons.push(`condition ${operator} "${key}" is ${shown} but the token says ${actual}. ${fix}`);
      }
    }
  }
  return { ok, reasons };
}

/**
 * Evaluates a trust policy (an object, JSON text, or URL-encoded JSON as IAM GetRole returns it)
 * for a token with `claims`: allowed when an Allow statement names `providerArn` as Federated
 * principal, allows `sts:AssumeRoleWithWebIdentity` (also via `sts:*` or wildcards) and all its
 * conditions on `<hostpath>:sub` / `:aud` hold, and no such Deny statement matches. Supports
 * String(Not)Equals(IgnoreCase), String(Not)Like, the ForAnyValue:/ForAllValues: prefixes and
 * the IfExists suffix; any other operator counts as not satisfied. Throws `TRUST_POLICY_INVALID`
 * for a document that is not a policy.
 */
export function evaluateTrustPolicy(
  policy: unknown,
  input: { providerArn: string; issuer: string; claims: { sub: string; aud: string | string[] } },
): TrustEvaluation {
  const statements = parsePolicy(policy);
  const hostPath = issuerHostPath(input.issuer);
  const reasons: string[] = [];
  let allowedBy: number | undefined;
  let candidates = 0;
  for (const [index, statement] of statements.entries()) {
    const label = `Statement ${typeof statement.Sid === 'string' ? `"${statement.Sid}"` : index}`;
    if (!principalMatches(statement, input.providerArn) || !actionMatches(statement)) continue;
    const result = evaluateConditions(statement, hostPath, input.claims);
    if (statement.Effect === 'Deny') {
      if (result.ok) {
        return {
          allowed: false,
          reasons: [`${label} explicitly denies this token. Fix: narrow or remove that Deny statement.`],
        };
      }
      continue;
    }
    if (statement.Effect !== 'Allow') continue;
    candidates += 1;
    if (result.ok) allowedBy ??= index;
    else reasons.push(...result.reasons.map((reason) => `${label}: ${reason}`));
  }
  if (allowedBy !== undefined) {
    const statement = statements[allowedBy] as Statement;
    const label = `Statement ${typeof statement.Sid === 'string' ? `"${statement.Sid}"` : allowedBy}`;
    return {
      allowed: true,
      reasons: [`${label} allows ${input.claims.sub} with audience ${JSON.stringify(input.claims.aud)}.`],
    };
  }
  if (candidates === 0) {
    reasons.push(
      `No Allow statement lets Federated principal "${input.providerArn}" call ${ACTION}. Fix: set Principal.Federated to that ARN and Action to "${ACTION}" (irsa-anywhere trust-policy generates it).`,
    );
  }
  return { allowed: false, reasons };
}
