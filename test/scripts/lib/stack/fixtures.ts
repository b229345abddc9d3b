/** Recorded-shape CloudFormation responses for the stack tests. */
import type { DescribeStacksCommandOutput } from '@aws-sdk/client-cloudformation';

export const OUTPUTS: Record<string, string> = {
  IssuerUrl: 'https://d111.cloudfront.net/c1',
  JwksUri: 'https://d111.cloudfront.net/c1/openid/v1/jwks',
  OidcProviderArn: 'arn:aws:iam::111122223333:oidc-provider/d111.cloudfront.net/c1',
  StateBucketName: 'irsa-c1-state',
  PublicBucketName: 'irsa-c1-public',
  NodePolicyArn: 'arn:aws:iam::111122223333:policy/irsa-c1-node',
  RotateFunctionName: 'irsa-anywhere-c1-rotate',
};

/** A DescribeStacks response for stack irsa-anywhere-c1. */
export function stackDescription(
  options: { status?: string; drop?: string[] } = {},
): DescribeStacksCommandOutput {
  return {
    $metadata: {},
    Stacks: [
      {
        StackName: 'irsa-anywhere-c1',
        StackStatus: (options.status ?? 'CREATE_COMPLETE') as never,
        CreationTime: new Date('2026-01-01T00:00:00Z'),
        Outputs: Object.entries(OUTPUTS)
          .filter(([key]) => !(options.drop ?? []).includes(key))
          .map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
      },
    ],
  };
}
