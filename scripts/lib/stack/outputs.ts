/**
 * A deployed stack's outputs, read through CloudFormation DescribeStacks and typed by OutputKey.
 * The stack is the only place the CLI learns bucket names, the issuer and the rotate function.
 */
import {
  type CloudFormationClient,
  DescribeStacksCommand,
  type DescribeStacksCommandOutput,
} from '@aws-sdk/client-cloudformation';
import { awsErrorName } from '#adapters/aws/aws-errors.ts';
import { IrsaError, isIrsaError } from '#core/errors.ts';

/** What the stack tells us, by its OutputKeys. */
export interface StackOutputs {
  stackName: string;
  stackStatus: string;
  /** `IssuerUrl` */
  issuerUrl: string;
  /** `JwksUri` */
  jwksUri: string;
  /** `OidcProviderArn` */
  oidcProviderArn: string;
  /** `StateBucketName` */
  stateBucketName: string;
  /** `RotateFunctionName` */
  rotateFunctionName: string;
  /** `PublicBucketName`, when the stack has one. */
  publicBucketName?: string;
  /** `NodePolicyArn`, the policy to attach to control-plane nodes. */
  nodePolicyArn?: string;
  /** Every output, by OutputKey. */
  all: Record<string, string>;
  /** The stack's CloudFormation parameters, by ParameterKey (e.g. `AlarmTopicArn`). */
  parameters: Record<string, string>;
}

const REQUIRED = {
  issuerUrl: 'IssuerUrl',
  jwksUri: 'JwksUri',
  oidcProviderArn: 'OidcProviderArn',
  stateBucketName: 'StateBucketName',
  rotateFunctionName: 'RotateFunctionName',
} as const;

const STACK_NAME = /^[A-Za-z][-A-Za-z0-9]{0,127}$/;
const STACK_ARN =
  /^arn:aws[a-z-]*:cloudformation:[a-z0-9-]+:\d{12}:stack\/[A-Za-z][-A-Za-z0-9]{0,127}\/[-a-f0-9]+$/;

/** Checks a `--stack` value: a CloudFormation stack name or stack ARN. Throws `FLAG_INVALID`. */
export function validateStackName(stackName: string): string {
  if (!STACK_NAME.test(stackName) && !STACK_ARN.test(stackName)) {
    throw new IrsaError(
      'FLAG_INVALID',
      `--stack "${stackName}" is not a CloudFormation stack name (a letter, then letters, digits and "-", at most 128).`,
      'Pass the stack name serverless deployed, e.g. --stack irsa-anywhere-<cluster>.',
    );
  }
  return stackName;
}

/**
 * Reads the stack's outputs. Throws `STACK_NOT_FOUND` when there is no such stack in the region,
 * `STACK_NOT_READY` while it is being created, rolled back or deleted, and `STACK_OUTPUT_MISSING`
 * naming each missing OutputKey.
 */
export async function describeStackOutputs(
  cfn: CloudFormationClient,
  stackName: string,
): Promise<StackOutputs> {
  const { status, all, parameters } = await describeReadyStack(cfn, stackName, Object.values(REQUIRED));
  const result: StackOutputs = {
    stackName,
    stackStatus: status,
    issuerUrl: all.IssuerUrl ?? '',
    jwksUri: all.JwksUri ?? '',
    oidcProviderArn: all.OidcProviderArn ?? '',
    stateBucketName: all.StateBucketName ?? '',
    rotateFunctionName: all.RotateFunctionName ?? '',
    all,
    parameters,
  };
  if (all.PublicBucketName !== undefined) result.publicBucketName = all.PublicBucketName;
  if (all.NodePolicyArn !== undefined) result.nodePolicyArn = all.NodePolicyArn;
  return result;
}

/**
 * DescribeStacks for one stack that must be usable (a `*_COMPLETE` status, not deleted or rolled
 * back) and must have each of the `required` OutputKeys. Returns its status, every output and
 * every parameter (by ParameterKey).
 * Throws `STACK_NOT_FOUND`, `STACK_DESCRIBE_FAILED`, `STACK_NOT_READY` or `STACK_OUTPUT_MISSING`.
 */
export async function describeReadyStack(
  cfn: CloudFormationClient,
  stackName: string,
  required: readonly string[],
): Promise<{ status: string; all: Record<string, string>; parameters: Record<string, string> }> {
  validateStackName(stackName);
  let response: DescribeStacksCommandOutput;
  try {
    response = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
  } catch (error) {
    if (
      awsErrorName(error) === 'ValidationError' &&
      /does not exist/i.test(String((error as Error).message))
    ) {
      throw new IrsaError(
        'STACK_NOT_FOUND',
        `CloudFormation stack "${stackName}" does not exist in this account and region.`,
        'Check --stack and the region (AWS_REGION / --region); `npx serverless deploy --stage <cluster>` creates it.',
        { cause: error },
      );
    }
    // The CLI's factory already said what is wrong (AWS_REGION_MISSING).
    if (isIrsaError(error)) throw error;
    throw new IrsaError(
      'STACK_DESCRIBE_FAILED',
      `Could not describe stack "${stackName}": ${(error as Error).message}`,
      'Check your AWS credentials and that they allow cloudformation:DescribeStacks.',
      { cause: error },
    );
  }
  const stack = response.Stacks?.[0];
  if (stack === undefined) {
    throw new IrsaError(
      'STACK_NOT_FOUND',
      `CloudFormation returned no stack named "${stackName}".`,
      'Check --stack and the region.',
    );
  }
  const status = stack.StackStatus ?? 'UNKNOWN';
  if (!/_COMPLETE$/.test(status) || status.startsWith('DELETE') || status === 'ROLLBACK_COMPLETE') {
    throw new IrsaError(
      'STACK_NOT_READY',
      `Stack "${stackName}" is ${status}; its outputs are not usable.`,
      status.includes('ROLLBACK') || status.startsWith('DELETE')
        ? 'Look at the stack events in the CloudFormation console, fix the cause and deploy again.'
        : 'Wait for the deployment to finish, then run the command again.',
      { detail: { status } },
    );
  }
  const all: Record<string, string> = {};
  for (const output of stack.Outputs ?? []) {
    if (output.OutputKey !== undefined && output.OutputValue !== undefined)
      all[output.OutputKey] = output.OutputValue;
  }
  const missing = required.filter((key) => all[key] === undefined || all[key] === '');
  if (missing.length > 0) {
    throw new IrsaError(
      'STACK_OUTPUT_MISSING',
      `Stack "${stackName}" has no output ${missing.join(', ')}.`,
      'Deploy the current version of irsa-anywhere (`npx serverless deploy --stage <cluster>`); older stacks lack these outputs.',
      { detail: { missing } },
    );
  }
  const parameters: Record<string, string> = {};
  for (const parameter of stack.Parameters ?? []) {
    if (parameter.ParameterKey !== undefined)
      parameters[parameter.ParameterKey] = parameter.ResolvedValue ?? parameter.ParameterValue ?? '';
  }
  return { status, all, parameters };
}
