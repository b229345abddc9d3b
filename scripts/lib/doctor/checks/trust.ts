/**
 * Trust policy: the role's trust policy (IAM GetRole, URL-encoded) evaluated with core
 * `evaluateTrustPolicy` against the token's claims: Federated principal = the provider ARN, and
 * the StringEquals/StringLike conditions on `<issuer host/path>:sub` and `:aud`.
 */

import { GetRoleCommand } from '@aws-sdk/client-iam';
import { isAwsError } from '#adapters/aws/aws-errors.ts';
import { evaluateTrustPolicy, oidcProviderArn } from '#core/trust-policy.ts';
import { type CheckResult, type DoctorContext, result } from '../types.ts';
import { awsErrorKind, awsErrorText } from './aws-errors.ts';
import { messageOf } from './setup.ts';

const ROLE_ARN = /^arn:(aws[a-z-]*):iam::(\d{12}):role\/(?:[\w+=,.@/-]*\/)?([\w+=,.@-]{1,64})$/;

const T = {
  role: 'IAM role readable (GetRole)',
  policy: 'Role trust policy allows this token (provider principal, :sub and :aud conditions)',
};

/** Splits a role ARN into partition, account and role name; undefined when it is not one. */
export function parseRoleArn(
  arn: string,
): { partition: string; accountId: string; roleName: string } | undefined {
  const match = ROLE_ARN.exec(arn);
  if (match === null) return undefined;
  return { partition: match[1] ?? 'aws', accountId: match[2] ?? '', roleName: match[3] ?? '' };
}

/** `trust.role`, `trust.policy`. */
export async function checkTrustPolicy(ctx: DoctorContext): Promise<CheckResult[]> {
  const skip = (reason: string, fix = ''): CheckResult[] => [
    result('trust.role', T.role, 'SKIP', reason, fix),
    result('trust.policy', T.policy, 'SKIP', reason, fix),
  ];
  const roleArn = ctx.options.roleArn;
  if (roleArn === undefined)
    return skip(
      'no --role-arn given: trust policy not checked',
      'Pass --role-arn arn:aws:iam::<account>:role/<name>.',
    );
  const role = parseRoleArn(roleArn);
  if (role === undefined) {
    return [
      result(
        'trust.role',
        T.role,
        'FAIL',
        `--role-arn "${roleArn}" is not an IAM role ARN`,
        'Pass --role-arn arn:aws:iam::<12-digit account>:role/<name>.',
      ),
      result('trust.policy', T.policy, 'SKIP', 'skipped: no role'),
    ];
  }
  if (ctx.issuer === undefined || ctx.issuerProblem !== undefined)
    return skip(`skipped: ${ctx.issuerProblem ?? 'no issuer'}`);
  if (ctx.loopback)
    return skip('the issuer is a local loopback URL that AWS cannot reach: trust policy not checked');
  const aws = ctx.deps.aws;
  if (aws === undefined)
    return skip(`no AWS credentials (${ctx.deps.awsUnavailable ?? 'none found'}): trust policy not checked`);
  let document: string;
  try {
    const out = await aws.iam.send(new GetRoleCommand({ RoleName: role.roleName }));
    document = out.Role?.AssumeRolePolicyDocument ?? '';
  } catch (error) {
    const kind = awsErrorKind(error);
    if (kind === 'credentials') return skip(`no usable AWS credentials (${awsErrorText(error)})`);
    if (kind === 'denied')
      return skip(
        `not allowed to read the role (${awsErrorText(error)})`,
        'Use credentials allowed iam:GetRole.',
      );
    const missing = isAwsError(error, ['NoSuchEntityException']);
    return [
      result(
        'trust.role',
        T.role,
        'FAIL',
        missing ? `role ${role.roleName} does not exist in account ${role.accountId}` : awsErrorText(error),
        missing
          ? 'Create it: irsa-anywhere trust-policy --namespace <ns> --service-account <sa> --role-name <name>.'
          : 'Check the role ARN and your credentials.',
      ),
      result('trust.policy', T.policy, 'SKIP', 'skipped: no role'),
    ];
  }
  const lines = [result('trust.role', T.role, 'PASS', roleArn)];
  const claims = ctx.decoded?.claims;
  const sub = claims?.sub;
  const aud = claims?.aud;
  const audOk =
    typeof aud === 'string' || (Array.isArray(aud) && aud.every((item) => typeof item === 'string'));
  if (typeof sub !== 'string' || !audOk) {
    lines.push(
      result(
        'trust.policy',
        T.policy,
        'SKIP',
        'no token claims (sub, aud) to evaluate the policy with',
        'Pass --token, or --kubeconfig with --namespace and --service-account.',
      ),
    );
    return lines;
  }
  const providerArn =
    ctx.provider?.arn ??
    ctx.stack?.oidcProviderArn ??
    oidcProviderArn(role.accountId, ctx.issuer, role.partition);
  try {
    const evaluation = evaluateTrustPolicy(document, {
      providerArn,
      issuer: ctx.issuer,
      claims: { sub, aud: aud as string | string[] },
    });
    lines.push(
      evaluation.allowed
        ? result('trust.policy', T.policy, 'PASS', evaluation.reasons.join(' '))
        : result(
            'trust.policy',
            T.policy,
            'FAIL',
            `STS answers "Not authorized to perform sts:AssumeRoleWithWebIdentity": ${evaluation.reasons.join(' ')}`,
            `Regenerate the policy: irsa-anywhere trust-policy --namespace <ns> --service-account <sa> (provider ${providerArn}).`,
          ),
    );
  } catch (error) {
    lines.push(
      result(
        'trust.policy',
        T.policy,
        'FAIL',
        messageOf(error),
        'Fix the trust policy document (aws iam update-assume-role-policy).',
      ),
    );
  }
  return lines;
}
