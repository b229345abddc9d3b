/**
 * Configuration of the AWS Lambdas (rotate, bootstrap), parsed once at init from an environment
 * record (the handler passes the process environment; this module never reads it). Every problem throws
 * `CONFIG_INVALID` naming the variable, so a bad deploy fails on its first invocation with a
 * message that says which setting to fix.
 */
import { CLUSTER_NAME_PATTERN, CLUSTER_NAME_RULE } from './cluster-name.ts';
import { IrsaError, isIrsaError } from './errors.ts';
import { validateIssuerUrl } from './issuer.ts';
import { KEY_SPECS, type KeySpec } from './keyset.ts';
import { DEFAULT_POLICY_INPUT, makePolicy, type PolicyInput, type RotationPolicy } from './policy.ts';

/** kms: asymmetric KMS keys sign. file: KMS-wrapped software keys, installed on the nodes. */
export type KeyMode = 'kms' | 'file';

/** What every stack has, whatever its key mode. */
interface StackConfigBase {
  cluster: string;
  issuer: string;
  /** The issuer's path below its host, without slashes (`team-a`), or `''`: where the public objects go. */
  publicPrefix: string;
  stateBucket: string;
  publicBucket: string;
  /** ScheduleKeyDeletion window for kms-mode keys, 7–30 days. */
  keyDeletionWindowDays: number;
  policy: RotationPolicy;
  /**
   * The function roles (ROTATE_ROLE_ARN, BOOTSTRAP_ROLE_ARN; optional): named by the key policy of
   * every signing key. Empty: keys keep the KMS default policy (the behaviour before it existed).
   */
  functionRoleArns: string[];
  /** This stack's id (STACK_ID; optional): custom-resource events of any other stack are refused. */
  stackId?: string;
  /** This stack's CloudFront distribution (DISTRIBUTION_ID; optional): invalidated after a revoke. */
  distributionId?: string;
}

/**
 * Everything the Lambdas need, checked: a union on `keyMode`, so a file-mode stack always has its
 * wrapping key and a kms-mode stack never has one.
 */
export type StackConfig =
  | (StackConfigBase & { keyMode: 'kms' })
  | (StackConfigBase & {
      keyMode: 'file';
      /** The symmetric KMS key that wraps the software keys. */
      wrappingKeyId: string;
    });

/** An environment: variable name → value. */
export type Env = Readonly<Record<string, string | undefined>>;

/** Which environment variable feeds which policy setting (to name the variable in errors). */
const POLICY_VARIABLES: Readonly<Record<keyof Omit<PolicyInput, 'keySpec'>, string>> = {
  rotationPeriodDays: 'ROTATION_PERIOD_DAYS',
  publishLeadHours: 'PUBLISH_LEAD_HOURS',
  maxTokenLifetimeSeconds: 'MAX_TOKEN_LIFETIME_SECONDS',
  jwksMaxAgeSeconds: 'JWKS_MAX_AGE_SECONDS',
  nodeSyncLagSeconds: 'NODE_SYNC_LAG_SECONDS',
};

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const KMS_KEY_ID = /^[A-Za-z0-9:/_.-]{1,2048}$/;
const DECIMAL = /^\d+(\.\d+)?$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const STACK_ID =
  /^arn:aws[a-z-]*:cloudformation:[a-z0-9-]+:\d{12}:stack\/[A-Za-z][A-Za-z0-9-]{0,127}\/[A-Za-z0-9-]+$/;
const DISTRIBUTION_ID = /^[A-Z0-9]{8,20}$/;
const INTEGER = /^\d+$/;

function invalid(variable: string, problem: string, fix: string, cause?: unknown): IrsaError {
  return new IrsaError('CONFIG_INVALID', `${variable} ${problem}.`, fix, {
    detail: { variable },
    ...(cause === undefined ? {} : { cause }),
  });
}

function optional(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function required(env: Env, name: string, example: string): string {
  const value = optional(env, name);
  if (value === undefined) throw invalid(name, 'is not set', `Set ${name}, e.g. ${example}.`);
  return value;
}

function matching(env: Env, name: string, pattern: RegExp, what: string, example: string): string {
  const value = required(env, name, example);
  if (!pattern.test(value))
    throw invalid(name, `is "${value}", not ${what}`, `Set ${name} to ${what}, e.g. ${example}.`);
  return value;
}

function optionalMatching(env: Env, name: string, pattern: RegExp, what: string): string | undefined {
  const value = optional(env, name);
  if (value !== undefined && !pattern.test(value))
    throw invalid(name, `is "${value}", not ${what}`, `Set ${name} to ${what}, or unset it.`);
  return value;
}

function number(env: Env, name: string, fallback: number, integer: boolean): number {
  const raw = optional(env, name);
  if (raw === undefined) return fallback;
  if (!(integer ? INTEGER : DECIMAL).test(raw)) {
    const what = integer ? 'a whole number' : 'a non-negative number';
    throw invalid(
      name,
      `is "${raw}", not ${what}`,
      `Set ${name} to ${what}, or unset it for the default ${fallback}.`,
    );
  }
  return Number(raw);
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = optional(env, name) ?? fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw invalid(
      name,
      `is "${raw}", not one of ${allowed.join(', ')}`,
      `Set ${name} to one of ${allowed.join(', ')}.`,
    );
  }
  return raw as T;
}

function issuerFrom(env: Env): string {
  const raw = required(env, 'ISSUER_URL', '"https://oidc.example.com/my-cluster"');
  try {
    return validateIssuerUrl(raw);
  } catch (error) {
    if (!isIrsaError(error)) throw error;
    throw invalid('ISSUER_URL', `is not a valid issuer (${error.code}): ${error.message}`, error.fix, error);
  }
}

function policyFrom(env: Env, keySpec: KeySpec): RotationPolicy {
  const input: PolicyInput = {
    keySpec,
    rotationPeriodDays: number(env, 'ROTATION_PERIOD_DAYS', DEFAULT_POLICY_INPUT.rotationPeriodDays, false),
    publishLeadHours: number(env, 'PUBLISH_LEAD_HOURS', DEFAULT_POLICY_INPUT.publishLeadHours, false),
    maxTokenLifetimeSeconds: number(
      env,
      'MAX_TOKEN_LIFETIME_SECONDS',
      DEFAULT_POLICY_INPUT.maxTokenLifetimeSeconds,
      true,
    ),
    jwksMaxAgeSeconds: number(env, 'JWKS_MAX_AGE_SECONDS', DEFAULT_POLICY_INPUT.jwksMaxAgeSeconds, true),
    nodeSyncLagSeconds: number(env, 'NODE_SYNC_LAG_SECONDS', DEFAULT_POLICY_INPUT.nodeSyncLagSeconds, true),
  };
  try {
    return makePolicy(input);
  } catch (error) {
    if (!isIrsaError(error, 'POLICY_INVALID')) throw error;
    let message = error.message;
    let fix = error.fix;
    const named: string[] = [];
    for (const [setting, variable] of Object.entries(POLICY_VARIABLES)) {
      if (message.includes(setting)) named.push(variable);
      message = message.replaceAll(setting, variable);
      fix = fix.replaceAll(setting, variable);
    }
    const subject = named.length === 0 ? 'The rotation settings' : named.join(' / ');
    throw invalid(subject, `are inconsistent: ${message}`, fix, error);
  }
}

/**
 * Parses and checks the Lambda configuration. Throws `IrsaError` `CONFIG_INVALID` whose message
 * starts with the variable's name (and `detail.variable`) on the first problem found.
 */
export function parseConfig(env: Env): StackConfig {
  const cluster = matching(env, 'CLUSTER_NAME', CLUSTER_NAME_PATTERN, CLUSTER_NAME_RULE, '"prod-eu"');
  const issuer = issuerFrom(env);
  const stateBucket = matching(
    env,
    'STATE_BUCKET',
    BUCKET,
    'an S3 bucket name',
    '"irsa-anywhere-prod-state"',
  );
  const publicBucket = matching(
    env,
    'PUBLIC_BUCKET',
    BUCKET,
    'an S3 bucket name',
    '"irsa-anywhere-prod-public"',
  );
  const keyMode = oneOf<KeyMode>(env, 'KEY_MODE', ['kms', 'file'], 'kms');
  const keySpec = oneOf<KeySpec>(env, 'KEY_SPEC', KEY_SPECS, 'RSA_2048');
  const keyDeletionWindowDays = number(env, 'KEY_DELETION_WINDOW_DAYS', 7, true);
  if (keyDeletionWindowDays < 7 || keyDeletionWindowDays > 30) {
    throw invalid(
      'KEY_DELETION_WINDOW_DAYS',
      `is ${keyDeletionWindowDays}, outside the 7–30 days KMS allows`,
      'Set KEY_DELETION_WINDOW_DAYS between 7 and 30.',
    );
  }
  const policy = policyFrom(env, keySpec);
  const publicPrefix = new URL(issuer).pathname.replace(/^\/+|\/+$/g, '');
  const functionRoleArns = ['ROTATE_ROLE_ARN', 'BOOTSTRAP_ROLE_ARN']
    .map((name) => optionalMatching(env, name, ROLE_ARN, 'an IAM role ARN'))
    .filter((arn): arn is string => arn !== undefined);
  const stackId = optionalMatching(env, 'STACK_ID', STACK_ID, 'a CloudFormation stack id (ARN)');
  const distributionId = optionalMatching(
    env,
    'DISTRIBUTION_ID',
    DISTRIBUTION_ID,
    'a CloudFront distribution id',
  );
  const base: StackConfigBase = {
    cluster,
    issuer,
    publicPrefix,
    stateBucket,
    publicBucket,
    keyDeletionWindowDays,
    policy,
    functionRoleArns,
    ...(stackId === undefined ? {} : { stackId }),
    ...(distributionId === undefined ? {} : { distributionId }),
  };
  if (keyMode === 'kms') return { ...base, keyMode };
  const wrappingKeyId = matching(
    env,
    'WRAPPING_KEY_ID',
    KMS_KEY_ID,
    'a KMS key id or ARN',
    '"arn:aws:kms:…:key/…"',
  );
  return { ...base, keyMode, wrappingKeyId };
}
