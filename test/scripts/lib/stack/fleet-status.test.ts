import {
  CloudFormationClient,
  DescribeStacksCommand,
  ListImportsCommand,
} from '@aws-sdk/client-cloudformation';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { buildJwks } from '#core/jwks.ts';
import { serializeKeyset } from '#core/keyset-parse.ts';
import { statusFleetCommand } from '#scripts/lib/stack/commands.ts';
import { body } from '../../../functions/adapters/aws/aws-fakes.ts';
import { keysetFixture, RSA_KID, stackDescription } from './fixtures.ts';

const cfn = mockClient(CloudFormationClient);
const s3 = mockClient(S3Client);
const lambda = mockClient(LambdaClient);
const cloudwatch = mockClient(CloudWatchClient);
const region = { region: 'us-east-1' };
const clients = () => ({
  cfn: new CloudFormationClient(region),
  s3: new S3Client(region),
  lambda: new LambdaClient(region),
  cloudwatch: new CloudWatchClient(region),
});
const NOW = new Date('2026-01-06T12:00:00Z');

function capture() {
  const out: string[] = [];
  return { io: { out: (s: string) => out.push(s), err: () => undefined }, out };
}

const fleetDescription = {
  Stacks: [
    {
      StackName: 'irsa-anywhere-fleet-prod',
      StackStatus: 'UPDATE_COMPLETE' as never,
      CreationTime: new Date('2026-01-01T00:00:00Z'),
      Outputs: [
        { OutputKey: 'FleetIssuerHost', OutputValue: 'oidc.example.com' },
        { OutputKey: 'FleetBucketName', OutputValue: 'fleet-bucket' },
      ],
    },
  ],
};

beforeEach(() => {
  for (const mock of [cfn, s3, lambda, cloudwatch]) mock.reset();
  cfn.on(DescribeStacksCommand, { StackName: 'irsa-anywhere-fleet-prod' }).resolves(fleetDescription);
  cfn.on(DescribeStacksCommand, { StackName: 'irsa-anywhere-c1' }).resolves(stackDescription());
  cfn
    .on(DescribeStacksCommand, { StackName: 'irsa-anywhere-c2' })
    .rejects(
      Object.assign(new Error('Stack with id irsa-anywhere-c2 does not exist'), { name: 'ValidationError' }),
    );
  s3.on(GetObjectCommand).resolves({ Body: body(serializeKeyset(keysetFixture())), ETag: '"e"' });
  lambda.on(GetFunctionConfigurationCommand).rejects(new Error('no access'));
});

describe('status --fleet', () => {
  it('lists the stacks importing the fleet bucket with issuer, active key, last publish and alarm state', async () => {
    cfn
      .on(ListImportsCommand, { ExportName: 'irsa-anywhere-fleet-prod-Bucket' })
      .resolvesOnce({ Imports: ['irsa-anywhere-c2'], NextToken: 't' })
      .resolvesOnce({ Imports: ['irsa-anywhere-c1'] });
    cloudwatch.on(DescribeAlarmsCommand, { AlarmNamePrefix: 'irsa-anywhere-c1-' }).resolves({
      MetricAlarms: [
        { AlarmName: 'irsa-anywhere-c1-rotate-errors', StateValue: 'ALARM' },
        { AlarmName: 'irsa-anywhere-c1-active-key-too-old', StateValue: 'OK' },
      ],
    });
    cloudwatch
      .on(DescribeAlarmsCommand, { AlarmNamePrefix: 'irsa-anywhere-c2-' })
      .resolves({ MetricAlarms: [] });
    const { io, out } = capture();
    await statusFleetCommand(
      io,
      { fleet: 'irsa-anywhere-fleet-prod', json: true, now: NOW },
      clients(),
      async () => buildJwks(keysetFixture().keys),
    );
    const report = JSON.parse(out.join('\n'));
    expect(report.issuerHost).toBe('oidc.example.com');
    expect(report.bucket).toBe('fleet-bucket');
    expect(report.members).toHaveLength(2);
    const [c1, c2] = report.members;
    expect(c1).toMatchObject({
      stack: 'irsa-anywhere-c1',
      cluster: 'c1',
      issuer: 'https://d111.cloudfront.net/c1',
      activeKid: RSA_KID,
      activeAgeSeconds: 5 * 86_400 + 12 * 3600,
      lastPublishAt: keysetFixture().lastPublish?.at,
      publishedMatches: true,
      alarm: 'ALARM',
      alarming: ['irsa-anywhere-c1-rotate-errors'],
    });
    // An unreadable member is listed with its error; the others are still reported.
    expect(c2).toMatchObject({ stack: 'irsa-anywhere-c2', alarm: 'NONE' });
    expect(c2.error).toMatch(/^STACK_NOT_FOUND/);
  });

  it('prints a table, and says so when the fleet has no members yet', async () => {
    cfn.on(ListImportsCommand).rejects(
      Object.assign(new Error("Export 'irsa-anywhere-fleet-prod-Bucket' is not imported by any stack."), {
        name: 'ValidationError',
      }),
    );
    const { io, out } = capture();
    await statusFleetCommand(io, { fleet: 'irsa-anywhere-fleet-prod', now: NOW }, clients());
    expect(out.join('\n')).toMatch(/issuer: +https:\/\/oidc\.example\.com\/<cluster>/);
    expect(out.join('\n')).toMatch(/members: 0/);
  });

  it('fails with STACK_NOT_FOUND when the fleet stack does not exist', async () => {
    cfn
      .on(DescribeStacksCommand, { StackName: 'nope' })
      .rejects(Object.assign(new Error('Stack with id nope does not exist'), { name: 'ValidationError' }));
    await expect(
      statusFleetCommand(capture().io, { fleet: 'nope', now: NOW }, clients()),
    ).rejects.toMatchObject({
      code: 'STACK_NOT_FOUND',
    });
  });
});
