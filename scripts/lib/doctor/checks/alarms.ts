/**
 * `stack.alarms`: the stack's alarms (rotate errors, active key too old) notify someone. Without an
 * `alarmTopicArn` they still change state in CloudWatch, but nobody is told, so a rotation that
 * keeps failing is only noticed when the key ages out or tokens stop working.
 */
import { type CheckResult, type DoctorContext, result } from '../types.ts';

const TITLE = 'Stack alarms notify someone';
const FIX =
  'Redeploy with an SNS topic that reaches a person: npx serverless deploy --stage <cluster> --param="alarmTopicArn=arn:aws:sns:<region>:<account>:<topic>" (and keep every other --param you deployed with).';

/** WARNs when the stack read by `stack.outputs` has no alarm topic; nothing without `--stack`. */
export async function checkAlarmTopic(ctx: DoctorContext): Promise<CheckResult[]> {
  if (ctx.stack === undefined) return [];
  const topic = ctx.stack.parameters.AlarmTopicArn;
  if (topic === undefined) {
    return [
      result(
        'stack.alarms',
        TITLE,
        'WARN',
        'the stack has no AlarmTopicArn parameter (an older version?)',
        FIX,
      ),
    ];
  }
  if (topic === '') {
    return [
      result(
        'stack.alarms',
        TITLE,
        'WARN',
        'no alarm topic configured: rotation failures and a stuck rotation raise alarms that notify nobody',
        FIX,
      ),
    ];
  }
  return [result('stack.alarms', TITLE, 'PASS', `alarms notify ${topic}`)];
}
