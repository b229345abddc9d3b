/**
 * IAM OIDC provider: STS looks the token's `iss` up among the account's providers (the URL stored
 * without `https://`, compared exactly) and then requires the token's `aud` in its client IDs.
 */

import { GetOpenIDConnectProviderCommand, ListOpenIDConnectProvidersCommand } from '@aws-sdk/client-iam';
import { isAwsError } from '#adapters/aws/aws-errors.ts';
import { issuerHostPath } from '#core/issuer.ts';
import { type CheckResult, type DoctorContext, result } from '../types.ts';
import { awsErrorKind, awsErrorText } from './aws-errors.ts';

const T = {
  provider: 'IAM OIDC provider exists for the issuer URL',
  audience: 'IAM OIDC provider lists the audience as a client ID',
};

function skipBoth(reason: string, fix = ''): CheckResult[] {
  return [
    result('iam.provider', T.provider, 'SKIP', reason, fix),
    result('iam.audience', T.audience, 'SKIP', reason, fix),
  ];
}

/** `iam.provider`, `iam.audience`. */
export async function checkIamProvider(ctx: DoctorContext): Promise<CheckResult[]> {
  const issuer = ctx.issuer;
  if (issuer === undefined || ctx.issuerProblem !== undefined)
    return skipBoth(`skipped: ${ctx.issuerProblem ?? 'no issuer'}`);
  if (ctx.loopback)
    return skipBoth('the issuer is a local loopback URL that AWS cannot reach: IAM checks skipped');
  const aws = ctx.deps.aws;
  if (aws === undefined) {
    return skipBoth(
      `no AWS credentials (${ctx.deps.awsUnavailable ?? 'none found'}): IAM checks skipped`,
      'Configure AWS credentials for the account (AWS_PROFILE or AWS_ACCESS_KEY_ID), or pass --stack.',
    );
  }
  const hostPath = issuerHostPath(issuer);
  let arn = ctx.stack?.oidcProviderArn;
  try {
    if (arn === undefined) {
      const listed = await aws.iam.send(new ListOpenIDConnectProvidersCommand({}));
      const arns = (listed.OpenIDConnectProviderList ?? []).map((entry) => entry.Arn ?? '');
      arn = arns.find((candidate) => candidate.endsWith(`:oidc-provider/${hostPath}`));
      if (arn === undefined) {
        const near = arns.find((candidate) => {
          const tail = candidate.slice(candidate.indexOf(':oidc-provider/') + ':oidc-provider/'.length);
          return tail.toLowerCase().replace(/\/+$/, '') === hostPath.toLowerCase();
        });
        const detail =
          near === undefined
            ? `STS answers "No OpenIDConnect provider found in your account for ${issuer}": none of the ${arns.length} provider(s) is ${hostPath}`
            : `STS answers "No OpenIDConnect provider found in your account for ${issuer}": the account has ${near}, which differs in case or trailing slash, and IAM compares exactly`;
        return [
          result(
            'iam.provider',
            T.provider,
            'FAIL',
            detail,
            `Create it: aws iam create-open-id-connect-provider --url ${issuer} --client-id-list ${ctx.audience} (the irsa-anywhere stack creates it for you).`,
          ),
          result('iam.audience', T.audience, 'SKIP', 'skipped: no provider'),
        ];
      }
    }
    const provider = await aws.iam.send(
      new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn }),
    );
    const url = provider.Url ?? '';
    const clientIds = provider.ClientIDList ?? [];
    ctx.provider = { arn, clientIds };
    const lines: CheckResult[] = [];
    if (url.replace(/^https:\/\//, '') !== hostPath) {
      lines.push(
        result(
          'iam.provider',
          T.provider,
          'FAIL',
          `${arn} has URL "${url}", not "${hostPath}"`,
          `Recreate the provider with --url ${issuer}.`,
        ),
      );
    } else {
      lines.push(result('iam.provider', T.provider, 'PASS', arn));
    }
    lines.push(
      clientIds.includes(ctx.audience)
        ? result('iam.audience', T.audience, 'PASS', `client IDs: ${clientIds.join(', ')}`)
        : result(
            'iam.audience',
            T.audience,
            'FAIL',
            `client IDs are [${clientIds.join(', ')}], without "${ctx.audience}"; STS answers "Incorrect token audience"`,
            `aws iam add-client-id-to-open-id-connect-provider --open-id-connect-provider-arn ${arn} --client-id ${ctx.audience}`,
          ),
    );
    return lines;
  } catch (error) {
    const kind = awsErrorKind(error);
    if (kind === 'credentials') {
      return skipBoth(
        `no usable AWS credentials (${awsErrorText(error)}): IAM checks skipped`,
        'Configure AWS credentials for the account that holds the OIDC provider.',
      );
    }
    if (kind === 'denied') {
      return skipBoth(
        `not allowed to read IAM OIDC providers (${awsErrorText(error)})`,
        'Use credentials allowed iam:ListOpenIDConnectProviders and iam:GetOpenIDConnectProvider.',
      );
    }
    if (isAwsError(error, ['NoSuchEntityException'])) {
      return [
        result(
          'iam.provider',
          T.provider,
          'FAIL',
          `${arn ?? 'the provider'} does not exist; STS answers "No OpenIDConnect provider found in your account for ${issuer}"`,
          'Redeploy the stack, or create the provider: aws iam create-open-id-connect-provider --url <issuer> --client-id-list sts.amazonaws.com.',
        ),
        result('iam.audience', T.audience, 'SKIP', 'skipped: no provider'),
      ];
    }
    return [
      result(
        'iam.provider',
        T.provider,
        'FAIL',
        awsErrorText(error),
        'Check the AWS region, network and credentials, then run doctor again.',
      ),
      result('iam.audience', T.audience, 'SKIP', 'skipped: no provider'),
    ];
  }
}
