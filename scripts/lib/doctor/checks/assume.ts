/**
 * `--assume`: calls STS AssumeRoleWithWebIdentity with the token for real, and when STS refuses,
 * points at the check that explains its message.
 */
import { AssumeRoleWithWebIdentityCommand } from '@aws-sdk/client-sts';
import { hintForStsError } from '../sts-errors.ts';
import { type CheckResult, type DoctorContext, result } from '../types.ts';
import { awsErrorText } from './aws-errors.ts';

const TITLE = 'STS AssumeRoleWithWebIdentity succeeds (--assume)';

/** `sts.assume`. */
export async function checkAssume(ctx: DoctorContext): Promise<CheckResult[]> {
  const skip = (reason: string, fix = '') => [result('sts.assume', TITLE, 'SKIP', reason, fix)];
  if (ctx.options.assume !== true) return skip('not requested: pass --assume to call STS for real');
  if (ctx.options.roleArn === undefined)
    return skip('--assume needs --role-arn', 'Pass --role-arn arn:aws:iam::<account>:role/<name>.');
  if (ctx.token === undefined)
    return skip('--assume needs a token (--token, or --kubeconfig with --namespace/--service-account)');
  if (ctx.loopback) return skip('the issuer is a local loopback URL that STS cannot reach');
  const sts = ctx.deps.aws?.sts;
  if (sts === undefined) return skip(`no AWS SDK available (${ctx.deps.awsUnavailable ?? 'no region'})`);
  try {
    const out = await sts.send(
      new AssumeRoleWithWebIdentityCommand({
        RoleArn: ctx.options.roleArn,
        RoleSessionName: 'irsa-anywhere-doctor',
        WebIdentityToken: ctx.token,
        DurationSeconds: 900,
      }),
    );
    return [
      result(
        'sts.assume',
        TITLE,
        'PASS',
        `assumed ${out.AssumedRoleUser?.Arn ?? ctx.options.roleArn} (credentials discarded)`,
      ),
    ];
  } catch (error) {
    const text = awsErrorText(error);
    const hint = hintForStsError(text);
    return [
      result(
        'sts.assume',
        TITLE,
        'FAIL',
        text,
        hint === undefined
          ? 'Read the failing checks above; each names what STS checks.'
          : `${hint.cause} See the check(s) ${hint.checks.join(', ')} above.`,
      ),
    ];
  }
}
