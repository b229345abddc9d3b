/**
 * `audit --trust`: reads each annotated role (IAM GetRole, once per role) and evaluates its trust
 * policy with the core evaluator for the service accounts that name it. Findings only: a role that
 * cannot be read is a warning, a policy that does not admit a service account is an error.
 */

import { GetRoleCommand, type IAMClient } from '@aws-sdk/client-iam';
import { isAwsError } from '#adapters/aws/aws-errors.ts';
import { DEFAULT_AUDIENCE } from '#core/token-claims.ts';
import { evaluateTrustPolicy, oidcProviderArn } from '#core/trust-policy.ts';
import { awsErrorText } from '../doctor/checks/aws-errors.ts';
import { parseRoleArn } from '../doctor/checks/trust.ts';
import type { Finding } from './evaluate.ts';
import type { IrsaServiceAccount } from './model.ts';

/** Trust findings for `serviceAccounts` against `issuer`. */
export async function trustFindings(
  iam: Pick<IAMClient, 'send'>,
  issuer: string,
  serviceAccounts: readonly IrsaServiceAccount[],
): Promise<Finding[]> {
  const findings: Finding[] = [];
  const policies = new Map<string, Promise<string>>();
  for (const sa of serviceAccounts) {
    const role = parseRoleArn(sa.roleArn);
    if (role === undefined) continue; // ROLE_ARN_MALFORMED already says so.
    const object = `serviceaccount/${sa.namespace}/${sa.name}`;
    let document: string;
    try {
      let pending = policies.get(role.roleName);
      if (pending === undefined) {
        pending = iam
          .send(new GetRoleCommand({ RoleName: role.roleName }))
          .then((out) => out.Role?.AssumeRolePolicyDocument ?? '');
        policies.set(role.roleName, pending);
      }
      document = await pending;
    } catch (error) {
      const missing = isAwsError(error, ['NoSuchEntityException']);
      findings.push({
        id: missing ? 'TRUST_POLICY_DENIES' : 'TRUST_NOT_CHECKED',
        severity: missing ? 'error' : 'warning',
        object,
        detail: missing
          ? `role ${role.roleName} does not exist`
          : `cannot read role ${role.roleName}: ${awsErrorText(error)}`,
        fix: missing
          ? `Create it: irsa-anywhere trust-policy --issuer ${issuer} --account-id ${role.accountId} --namespace ${sa.namespace} --service-account ${sa.name} --role-name ${role.roleName}`
          : 'Use AWS credentials allowed iam:GetRole on the roles, or run without --trust.',
      });
      continue;
    }
    const claims = {
      sub: `system:serviceaccount:${sa.namespace}:${sa.name}`,
      aud: sa.audience ?? DEFAULT_AUDIENCE,
    };
    try {
      const verdict = evaluateTrustPolicy(document, {
        providerArn: oidcProviderArn(role.accountId, issuer, role.partition),
        issuer,
        claims,
      });
      if (!verdict.allowed) {
        findings.push({
          id: 'TRUST_POLICY_DENIES',
          severity: 'error',
          object,
          detail: `the trust policy of ${role.roleName} does not admit ${claims.sub}: ${verdict.reasons.join(' ')}`,
          fix: `irsa-anywhere trust-policy --issuer ${issuer} --account-id ${role.accountId} --namespace ${sa.namespace} --service-account ${sa.name} prints a policy that does.`,
        });
      }
    } catch (error) {
      findings.push({
        id: 'TRUST_NOT_CHECKED',
        severity: 'warning',
        object,
        detail: `the trust policy of ${role.roleName} could not be evaluated: ${error instanceof Error ? error.message : String(error)}`,
        fix: 'Check the role trust policy by hand (aws iam get-role).',
      });
    }
  }
  return findings;
}
