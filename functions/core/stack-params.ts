/**
 * The serverless params of a stack, checked before anything is packaged or deployed
 * (infra/plugins/validate-params.cjs calls {@link checkStackParams}). Nothing here restates a rule:
 *
 * - CloudFormation constraints are read from the template's own `Parameters` (infra/parameters.yml)
 *   and evaluated on the values they will receive ({@link cfnConstraintProblem}), and so are its
 *   `Rules` (infra/rules.yml, {@link evaluateRuleExpression});
 * - the functions' rules are the functions' code: the params are turned into the environment the
 *   Lambdas will see ({@link lambdaEnvFromParams}) and handed to {@link parseConfig}.
 *
 * Every problem becomes ONE line that names the param and what it accepts.
 */
import { parseConfig } from './config.ts';
import { isIrsaError } from './errors.ts';

/** Serverless param name → value. */
export type Params = Readonly<Record<string, string>>;

/** The constraint fields of a CloudFormation template parameter. */
export interface CfnParameter {
  Type?: string;
  Default?: unknown;
  AllowedValues?: readonly unknown[];
  AllowedPattern?: string;
  MinValue?: number | string;
  MaxValue?: number | string;
  ConstraintDescription?: string;
}

/** Which serverless param feeds which Lambda environment variable (serverless.yml `environment`). */
export const PARAM_OF_VARIABLE = {
  CLUSTER_NAME: 'clusterName',
  KEY_MODE: 'keyMode',
  KEY_SPEC: 'keySpec',
  ROTATION_PERIOD_DAYS: 'rotationPeriodDays',
  PUBLISH_LEAD_HOURS: 'publishLeadHours',
  MAX_TOKEN_LIFETIME_SECONDS: 'maxTokenLifetimeSeconds',
  JWKS_MAX_AGE_SECONDS: 'jwksMaxAgeSeconds',
  NODE_SYNC_LAG_SECONDS: 'nodeSyncLagSeconds',
  KEY_DELETION_WINDOW_DAYS: 'keyDeletionWindowDays',
} as const;

/** A CloudFront host name, standing in for the distribution's when there is no custom domain. */
const PLACEHOLDER_HOST = 'd111111abcdef8.cloudfront.net';

/** The serverless param a template parameter takes its value from: `KeyMode` ← `keyMode`. */
export function paramOfCfnParameter(logicalId: string): string {
  return logicalId.charAt(0).toLowerCase() + logicalId.slice(1);
}

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Why CloudFormation would refuse `value` for this parameter (its AllowedValues, AllowedPattern,
 * MinValue/MaxValue and Number type), as "one of kms, file"-style text; `undefined` if it accepts it.
 */
export function cfnConstraintProblem(parameter: CfnParameter, value: string): string | undefined {
  const described = (fallback: string) => parameter.ConstraintDescription ?? fallback;
  if (parameter.AllowedValues !== undefined) {
    const allowed = parameter.AllowedValues.map(String);
    if (!allowed.includes(value)) return `one of ${allowed.join(', ')}`;
  }
  // CloudFormation matches the pattern against the whole value.
  if (
    parameter.AllowedPattern !== undefined &&
    !new RegExp(`^(?:${parameter.AllowedPattern})$`).test(value)
  ) {
    return described(`a value matching ${parameter.AllowedPattern}`);
  }
  if (parameter.Type === 'Number') {
    const range = `a number${parameter.MinValue === undefined ? '' : ` >= ${parameter.MinValue}`}${
      parameter.MaxValue === undefined ? '' : ` <= ${parameter.MaxValue}`
    }`;
    if (!NUMBER.test(value.trim())) return described(range);
    const number = Number(value);
    if (parameter.MinValue !== undefined && number < Number(parameter.MinValue)) return described(range);
    if (parameter.MaxValue !== undefined && number > Number(parameter.MaxValue)) return described(range);
  }
  return undefined;
}

/**
 * The environment the Lambdas will see for these params (serverless.yml `provider.environment`),
 * with placeholders for what only CloudFormation knows (bucket names, the distribution's host,
 * the wrapping key).
 */
export function lambdaEnvFromParams(params: Params): Record<string, string> {
  const env: Record<string, string> = {
    ISSUER_URL: `https://${params.customDomain || PLACEHOLDER_HOST}${params.pathPrefix ?? ''}`,
    STATE_BUCKET: 'irsa-anywhere-placeholder-state',
    PUBLIC_BUCKET: 'irsa-anywhere-placeholder-public',
    WRAPPING_KEY_ID: 'arn:aws:kms:us-east-1:111122223333:key/placeholder',
  };
  for (const [variable, param] of Object.entries(PARAM_OF_VARIABLE)) {
    const value = params[param];
    if (value !== undefined) env[variable] = value;
  }
  return env;
}

/** Rewrites a message about environment variables into one about the params that feed them. */
function inParamTerms(text: string): string {
  let out = text
    .replace(/\.\.$/, '.')
    .replaceAll('ISSUER_URL', 'the issuer built from customDomain and pathPrefix');
  for (const [variable, param] of Object.entries(PARAM_OF_VARIABLE)) out = out.replaceAll(variable, param);
  return out;
}

/** Unknown param names, with a suggestion when only the case differs. */
function unknownParam(given: readonly string[], known: readonly string[]): string | undefined {
  const unknown = given.find((name) => !known.includes(name));
  if (unknown === undefined) return undefined;
  const near = known.find((name) => name.toLowerCase() === unknown.toLowerCase());
  const hint = near === undefined ? '' : ` (did you mean ${near}?)`;
  return `Unknown --param ${unknown}${hint}. Known params: ${known.join(', ')}.`;
}

/** A CloudFormation rule (infra/rules.yml). */
export interface CfnRule {
  RuleCondition?: unknown;
  Assertions: ReadonlyArray<{ Assert: unknown; AssertDescription?: string }>;
}

/**
 * Evaluates a rule expression on the params: `Ref` (a template parameter, read from its param),
 * `Fn::Equals`, `Fn::Not`, `Fn::And`, `Fn::Or` and literals, the functions infra/rules.yml uses.
 */
export function evaluateRuleExpression(expression: unknown, params: Params): unknown {
  if (expression === null || typeof expression !== 'object') return expression;
  const [[fn, args] = []] = Object.entries(expression);
  const list = Array.isArray(args) ? args : [args];
  const values = () => list.map((arg: unknown) => evaluateRuleExpression(arg, params));
  switch (fn) {
    case 'Ref':
      return params[paramOfCfnParameter(String(args))] ?? '';
    case 'Fn::Equals': {
      const [a, b] = values();
      return String(a) === String(b);
    }
    case 'Fn::Not':
      return !values()[0];
    case 'Fn::And':
      return values().every(Boolean);
    case 'Fn::Or':
      return values().some(Boolean);
    default:
      throw new Error(`rule function ${String(fn)} is not supported by the local check`);
  }
}

function ruleProblem(rules: Readonly<Record<string, CfnRule>>, params: Params): string | undefined {
  for (const [name, rule] of Object.entries(rules)) {
    if (rule.RuleCondition !== undefined && !evaluateRuleExpression(rule.RuleCondition, params)) continue;
    const failed = rule.Assertions.find((assertion) => !evaluateRuleExpression(assertion.Assert, params));
    if (failed !== undefined)
      return `Invalid params (rule ${name}): ${failed.AssertDescription ?? 'refused'}.`;
  }
  return undefined;
}

/** What {@link checkStackParams} looks at. */
export interface StackParamsInput {
  /** The params serverless.yml declares (`params.default` and the stage's own). */
  known: readonly string[];
  /** The names given with `--param` on the command line. */
  given: readonly string[];
  /** The effective value of every param (command line over stage over default). */
  values: Params;
  /** The template's `Parameters` (infra/parameters.yml), with their constraints. */
  cfnParameters: Readonly<Record<string, CfnParameter>>;
  /** The template's `Rules` (infra/rules.yml). */
  rules?: Readonly<Record<string, CfnRule>>;
}

/**
 * Checks the params of a stack before it is packaged. Returns the first problem as one line that
 * names the param and the values it accepts, or `undefined` when CloudFormation and the functions
 * would both accept them.
 */
export function checkStackParams(input: StackParamsInput): string | undefined {
  const unknown = unknownParam(input.given, input.known);
  if (unknown !== undefined) return unknown;
  for (const [logicalId, parameter] of Object.entries(input.cfnParameters)) {
    const param = paramOfCfnParameter(logicalId);
    const value = input.values[param];
    if (value === undefined) continue;
    const problem = cfnConstraintProblem(parameter, value);
    if (problem !== undefined) return `Invalid --param ${param}=${value}: allowed is ${problem}.`;
  }
  const rule = ruleProblem(input.rules ?? {}, input.values);
  if (rule !== undefined) return rule;
  try {
    parseConfig(lambdaEnvFromParams(input.values));
  } catch (error) {
    if (!isIrsaError(error)) throw error;
    return `Invalid params: ${inParamTerms(error.message)} ${inParamTerms(error.fix)}`;
  }
  return undefined;
}
