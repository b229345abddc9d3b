/** Recorded-shape CloudFormation responses and a keyset for the stack tests. */
import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { DescribeStacksCommandOutput } from '@aws-sdk/client-cloudformation';
import type { Keyset } from '#core/keyset.ts';

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
  options: { status?: string; drop?: string[]; alarmTopicArn?: string } = {},
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
        Parameters: [
          { ParameterKey: 'KeyMode', ParameterValue: 'kms' },
          { ParameterKey: 'AlarmTopicArn', ParameterValue: options.alarmTopicArn ?? '' },
        ],
      },
    ],
  };
}

/** A keyset with an active RSA key and a pending EC key (the test fixture keys), lastPublish holding both. */
export function keysetFixture(): Keyset {
  const spki = (file: string): string =>
    createPublicKey(readFileSync(new URL(`../../../fixtures/keys/${file}`, import.meta.url)))
      .export({ format: 'der', type: 'spki' })
      .toString('base64');
  return {
    version: 1,
    cluster: 'c1',
    issuer: 'https://d111.cloudfront.net/c1',
    keys: [
      {
        kid: RSA_KID,
        alg: 'RS256',
        keySpec: 'RSA_2048',
        state: 'active',
        publicKeySpki: spki('rsa-2048.pub.pem'),
        location: { type: 'kms', keyId: '11111111-2222-3333-4444-555555555555' },
        createdAt: '2026-01-01T00:00:00.000Z',
        publishedAt: '2026-01-01T00:00:05.000Z',
        activatedAt: '2026-01-01T00:00:05.000Z',
      },
      {
        kid: EC_KID,
        alg: 'ES256',
        keySpec: 'ECC_NIST_P256',
        state: 'pending',
        publicKeySpki: spki('ec-p256.pub.pem'),
        location: { type: 'kms', keyId: '66666666-2222-3333-4444-555555555555' },
        createdAt: '2026-01-06T00:00:00.000Z',
        publishedAt: '2026-01-06T00:00:05.000Z',
      },
    ],
    lastPublish: {
      kids: [RSA_KID, EC_KID],
      at: '2026-01-06T00:00:05.000Z',
      issuer: 'https://d111.cloudfront.net/c1',
    },
    updatedAt: '2026-01-06T00:00:05.000Z',
  };
}

export const RSA_KID = '0UT47vY6F01H_HCSL11CTRVgBpEDio8c54oX8Id-6_Y';
export const EC_KID = 'gxGGelS7BnMAN0-VsYRvVj-RAuRAEsAeeJJiZ7JmiLM';
