import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { IAMClient } from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { checkFleet } from '#scripts/lib/doctor/checks/fleet.ts';
import { checkStack } from '#scripts/lib/doctor/checks/setup.ts';
import type { DoctorDeps } from '#scripts/lib/doctor/types.ts';
import { OUTPUTS } from '../stack/fixtures.ts';
import { context, fakeFetch, line, offlineDeps } from './helpers.ts';

const cfn = mockClient(CloudFormationClient);
const FLEET = 'irsa-anywhere-fleet-prod';

function awsDeps(): DoctorDeps {
  const deps = offlineDeps(fakeFetch({}));
  delete deps.awsUnavailable;
  const region = { region: 'us-east-1' };
  return {
    ...deps,
    aws: { iam: new IAMClient(region), sts: new STSClient(region), cfn: new CloudFormationClient(region) },
  };
}

function stack(name: string, outputs: Record<string, string>) {
  return {
    Stacks: [
      {
        StackName: name,
        StackStatus: 'UPDATE_COMPLETE' as never,
        CreationTime: new Date('2026-01-01T00:00:00Z'),
        Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
      },
    ],
  };
}

function member(issuer: string, extra: Record<string, string> = {}) {
  return stack('irsa-anywhere-c1', {
    ...OUTPUTS,
    IssuerUrl: issuer,
    JwksUri: `${issuer}/openid/v1/jwks`,
    FleetStack: FLEET,
    ...extra,
  });
}

async function run(memberDescription: ReturnType<typeof stack>) {
  cfn.on(DescribeStacksCommand, { StackName: 'irsa-anywhere-c1' }).resolves(memberDescription);
  const ctx = context({ stack: 'irsa-anywhere-c1' }, awsDeps());
  await checkStack(ctx);
  return checkFleet(ctx);
}

beforeEach(() => {
  cfn.reset();
  cfn
    .on(DescribeStacksCommand, { StackName: FLEET })
    .resolves(stack(FLEET, { FleetIssuerHost: 'oidc.example.com', FleetBucketName: 'fleet-bucket' }));
});

describe('stack.fleet', () => {
  it('passes a member whose issuer is the fleet host plus its cluster path', async () => {
    const lines = await run(member('https://oidc.example.com/c1'));
    expect(line(lines, 'stack.fleet')).toMatchObject({
      status: 'PASS',
      detail: expect.stringContaining(FLEET),
    });
    expect(lines.map((l) => l.id)).toEqual(['stack.fleet']);
  });

  it('fails a member whose issuer is not directly under the fleet host', async () => {
    for (const issuer of ['https://other.example.com/c1', 'https://oidc.example.com/team/c1']) {
      const check = line(await run(member(issuer)), 'stack.fleet');
      expect(check).toMatchObject({ status: 'FAIL', fix: expect.stringContaining(`fleet=${FLEET}`) });
    }
  });

  it('warns while a migration keeps the old standalone issuer', async () => {
    const lines = await run(
      member('https://oidc.example.com/c1', { StandaloneIssuerUrl: 'https://d111.cloudfront.net' }),
    );
    expect(line(lines, 'stack.fleet-migration')).toMatchObject({
      status: 'WARN',
      detail: expect.stringContaining('https://d111.cloudfront.net'),
    });
  });

  it('fails when the fleet stack cannot be read', async () => {
    cfn
      .on(DescribeStacksCommand, { StackName: FLEET })
      .rejects(
        Object.assign(new Error(`Stack with id ${FLEET} does not exist`), { name: 'ValidationError' }),
      );
    const check = line(await run(member('https://oidc.example.com/c1')), 'stack.fleet');
    expect(check).toMatchObject({ status: 'FAIL', detail: expect.stringContaining('STACK_NOT_FOUND') });
  });

  it('says nothing for a standalone stack', async () => {
    cfn
      .on(DescribeStacksCommand, { StackName: 'irsa-anywhere-c1' })
      .resolves(stack('irsa-anywhere-c1', OUTPUTS));
    const ctx = context({ stack: 'irsa-anywhere-c1' }, awsDeps());
    await checkStack(ctx);
    expect(await checkFleet(ctx)).toEqual([]);
  });
});
