import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  GetOpenIDConnectProviderCommand,
  type GetOpenIDConnectProviderCommandOutput,
  GetRoleCommand,
  type GetRoleCommandOutput,
  IAMClient,
  ListOpenIDConnectProvidersCommand,
  type ListOpenIDConnectProvidersCommandOutput,
} from '@aws-sdk/client-iam';
import {
  AssumeRoleWithWebIdentityCommand,
  type AssumeRoleWithWebIdentityCommandOutput,
  STSClient,
} from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { decodeTokenUnverified } from '#core/verify-token.ts';
import { checkAlarmTopic } from '#scripts/lib/doctor/checks/alarms.ts';
import { checkAssume } from '#scripts/lib/doctor/checks/assume.ts';
import { checkIamProvider } from '#scripts/lib/doctor/checks/iam.ts';
import { checkStack } from '#scripts/lib/doctor/checks/setup.ts';
import { checkTrustPolicy, parseRoleArn } from '#scripts/lib/doctor/checks/trust.ts';
import type { DoctorDeps } from '#scripts/lib/doctor/types.ts';
import { stackDescription } from '../stack/fixtures.ts';
import { context, fakeFetch, line, mintToken, offlineDeps, recorded } from './helpers.ts';

const ISSUER = 'https://oidc.example.com/c1';
const PROVIDER_ARN = 'arn:aws:iam::111122223333:oidc-provider/oidc.example.com/c1';
const ROLE_ARN = 'arn:aws:iam::111122223333:role/web';
const iam = mockClient(IAMClient);
const sts = mockClient(STSClient);
const cfn = mockClient(CloudFormationClient);

function awsDeps(): DoctorDeps {
  const deps = offlineDeps(fakeFetch({}));
  delete deps.awsUnavailable;
  return {
    ...deps,
    aws: {
      iam: new IAMClient({ region: 'us-east-1' }),
      sts: new STSClient({ region: 'us-east-1' }),
      cfn: new CloudFormationClient({ region: 'us-east-1' }),
    },
  };
}

beforeEach(() => {
  iam.reset();
  sts.reset();
  cfn.reset();
  iam
    .on(ListOpenIDConnectProvidersCommand)
    .resolves(recorded<ListOpenIDConnectProvidersCommandOutput>('iam-list-providers.json'));
  iam
    .on(GetOpenIDConnectProviderCommand)
    .resolves(recorded<GetOpenIDConnectProviderCommandOutput>('iam-get-provider.json'));
  iam.on(GetRoleCommand).resolves(recorded<GetRoleCommandOutput>('iam-get-role.json'));
});

describe('iam.provider and iam.audience', () => {
  it('find the provider by URL (stored without https://) and the audience among its client IDs', async () => {
    const ctx = context({ issuer: ISSUER }, awsDeps(), { issuer: ISSUER });
    const lines = await checkIamProvider(ctx);
    expect(line(lines, 'iam.provider')).toMatchObject({ status: 'PASS', detail: PROVIDER_ARN });
    expect(line(lines, 'iam.audience').status).toBe('PASS');
    expect(iam.commandCalls(GetOpenIDConnectProviderCommand).map((c) => c.args[0].input)).toEqual([
      { OpenIDConnectProviderArn: PROVIDER_ARN },
    ]);
    expect(ctx.provider).toEqual({ arn: PROVIDER_ARN, clientIds: ['sts.amazonaws.com'] });
  });

  it('fail with the STS wording when no provider matches, and point at a near miss', async () => {
    iam.on(ListOpenIDConnectProvidersCommand).resolves({ OpenIDConnectProviderList: [] });
    let lines = await checkIamProvider(context({}, awsDeps(), { issuer: ISSUER }));
    expect(line(lines, 'iam.provider')).toMatchObject({
      status: 'FAIL',
      detail: expect.stringContaining(`No OpenIDConnect provider found in your account for ${ISSUER}`),
      fix: expect.stringContaining(`create-open-id-connect-provider --url ${ISSUER}`),
    });
    iam
      .on(ListOpenIDConnectProvidersCommand)
      .resolves(recorded<ListOpenIDConnectProvidersCommandOutput>('iam-list-providers-trailing-slash.json'));
    lines = await checkIamProvider(context({}, awsDeps(), { issuer: ISSUER }));
    expect(line(lines, 'iam.provider').detail).toContain('differs in case or trailing slash');
  });

  it('fail the audience with "Incorrect token audience" and the command that adds it', async () => {
    iam
      .on(GetOpenIDConnectProviderCommand)
      .resolves(recorded<GetOpenIDConnectProviderCommandOutput>('iam-get-provider-other-audience.json'));
    const lines = await checkIamProvider(context({}, awsDeps(), { issuer: ISSUER }));
    expect(line(lines, 'iam.audience')).toMatchObject({
      status: 'FAIL',
      detail: expect.stringContaining('Incorrect token audience'),
      fix: `aws iam add-client-id-to-open-id-connect-provider --open-id-connect-provider-arn ${PROVIDER_ARN} --client-id sts.amazonaws.com`,
    });
  });

  it('skip with a reason without credentials, for a loopback issuer, and when credentials are refused', async () => {
    let lines = await checkIamProvider(context({}, offlineDeps(fakeFetch({})), { issuer: ISSUER }));
    expect(line(lines, 'iam.provider')).toMatchObject({
      status: 'SKIP',
      detail: expect.stringMatching(/^no AWS credentials .*IAM checks skipped/),
    });
    lines = await checkIamProvider(
      context({}, awsDeps(), { issuer: 'http://127.0.0.1:8080', loopback: true }),
    );
    expect(line(lines, 'iam.provider').detail).toMatch(/loopback/);
    iam
      .on(ListOpenIDConnectProvidersCommand)
      .rejects(Object.assign(new Error('Could not load credentials'), { name: 'CredentialsProviderError' }));
    lines = await checkIamProvider(context({}, awsDeps(), { issuer: ISSUER }));
    expect(line(lines, 'iam.provider').status).toBe('SKIP');
  });
});

describe('trust.role and trust.policy', () => {
  async function trust(token: string, roleArn = ROLE_ARN) {
    const ctx = context({ roleArn }, awsDeps(), {
      issuer: ISSUER,
      decoded: decodeTokenUnverified(token),
      provider: { arn: PROVIDER_ARN, clientIds: ['sts.amazonaws.com'] },
    });
    return checkTrustPolicy(ctx);
  }

  it('pass when the URL-encoded trust policy allows the token', async () => {
    const lines = await trust(await mintToken({ iss: ISSUER }));
    expect(iam.commandCalls(GetRoleCommand).map((c) => c.args[0].input)).toEqual([{ RoleName: 'web' }]);
    expect(line(lines, 'trust.role').status).toBe('PASS');
    expect(line(lines, 'trust.policy').status).toBe('PASS');
  });

  it('fail with the STS wording and the condition that does not match', async () => {
    iam.on(GetRoleCommand).resolves(recorded<GetRoleCommandOutput>('iam-get-role-other-sa.json'));
    const policy = line(await trust(await mintToken({ iss: ISSUER })), 'trust.policy');
    expect(policy.status).toBe('FAIL');
    expect(policy.detail).toContain('Not authorized to perform sts:AssumeRoleWithWebIdentity');
    expect(policy.detail).toContain('system:serviceaccount:apps:worker');
    expect(policy.detail).toContain('system:serviceaccount:apps:web');
  });

  it('fail a missing role and a malformed ARN; skip without --role-arn', async () => {
    iam.on(GetRoleCommand).rejects(
      Object.assign(new Error('The role with name web cannot be found.'), {
        name: 'NoSuchEntityException',
      }),
    );
    expect(line(await trust(await mintToken({ iss: ISSUER })), 'trust.role')).toMatchObject({
      status: 'FAIL',
      fix: expect.stringContaining('--role-name'),
    });
    expect(line(await trust(await mintToken({ iss: ISSUER }), 'role/web'), 'trust.role').status).toBe('FAIL');
    const none = await checkTrustPolicy(context({}, awsDeps(), { issuer: ISSUER }));
    expect(line(none, 'trust.policy')).toMatchObject({
      status: 'SKIP',
      detail: expect.stringContaining('no --role-arn'),
    });
  });

  it('parses role ARNs with paths and partitions', () => {
    expect(parseRoleArn('arn:aws-us-gov:iam::111122223333:role/team/a/web')).toEqual({
      partition: 'aws-us-gov',
      accountId: '111122223333',
      roleName: 'web',
    });
    expect(parseRoleArn('arn:aws:iam::1111:role/web')).toBeUndefined();
  });
});

describe('sts.assume', () => {
  async function assume() {
    const ctx = context({ roleArn: ROLE_ARN, assume: true }, awsDeps(), {
      issuer: ISSUER,
      token: await mintToken({ iss: ISSUER }),
    });
    return line(await checkAssume(ctx), 'sts.assume');
  }

  it('passes when STS returns credentials, and says so without printing them', async () => {
    sts
      .on(AssumeRoleWithWebIdentityCommand)
      .resolves(recorded<AssumeRoleWithWebIdentityCommandOutput>('sts-assume-ok.json'));
    const result = await assume();
    expect(result).toMatchObject({
      status: 'PASS',
      detail: expect.stringContaining('assumed-role/web/irsa-anywhere-doctor'),
    });
    expect(result.detail).not.toContain('ASIA');
    expect(sts.commandCalls(AssumeRoleWithWebIdentityCommand)[0]?.args[0].input).toMatchObject({
      RoleArn: ROLE_ARN,
      RoleSessionName: 'irsa-anywhere-doctor',
    });
  });

  it('fails with the STS message and points at the checks that explain it', async () => {
    const error = recorded<{ name: string; message: string }>('sts-error-kid.json');
    sts
      .on(AssumeRoleWithWebIdentityCommand)
      .rejects(Object.assign(new Error(error.message), { name: error.name }));
    const result = await assume();
    expect(result.status).toBe('FAIL');
    expect(result.detail).toContain("Couldn't retrieve verification key");
    expect(result.fix).toContain('token.kid');
  });

  it('is skipped unless --assume is given', async () => {
    const ctx = context({ roleArn: ROLE_ARN }, awsDeps(), { issuer: ISSUER, token: 'x' });
    expect(line(await checkAssume(ctx), 'sts.assume')).toMatchObject({
      status: 'SKIP',
      detail: expect.stringContaining('--assume'),
    });
    expect(sts.commandCalls(AssumeRoleWithWebIdentityCommand)).toHaveLength(0);
  });
});

describe('stack.outputs', () => {
  it('reads the issuer from the stack, and fails a missing stack', async () => {
    cfn.on(DescribeStacksCommand).resolves(stackDescription());
    const ctx = context({ stack: 'irsa-anywhere-c1' }, awsDeps());
    expect(line(await checkStack(ctx), 'stack.outputs').status).toBe('PASS');
    expect(ctx.stack?.issuerUrl).toBe('https://d111.cloudfront.net/c1');
    cfn
      .on(DescribeStacksCommand)
      .rejects(Object.assign(new Error('Stack with id nope does not exist'), { name: 'ValidationError' }));
    const missing = line(await checkStack(context({ stack: 'nope' }, awsDeps())), 'stack.outputs');
    expect(missing).toMatchObject({ status: 'FAIL', detail: expect.stringContaining('STACK_NOT_FOUND') });
  });
});

describe('stack.alarms', () => {
  it('WARNs when the stack has no alarm topic, PASSes when it has one, says nothing without --stack', async () => {
    cfn.on(DescribeStacksCommand).resolves(stackDescription());
    const silent = context({ stack: 'irsa-anywhere-c1' }, awsDeps());
    await checkStack(silent);
    expect(line(await checkAlarmTopic(silent), 'stack.alarms')).toMatchObject({
      status: 'WARN',
      detail: expect.stringContaining('no alarm topic configured'),
      fix: expect.stringContaining('--param="alarmTopicArn=arn:aws:sns:'),
    });

    const topic = 'arn:aws:sns:us-east-1:111122223333:ops';
    cfn.on(DescribeStacksCommand).resolves(stackDescription({ alarmTopicArn: topic }));
    const wired = context({ stack: 'irsa-anywhere-c1' }, awsDeps());
    await checkStack(wired);
    expect(line(await checkAlarmTopic(wired), 'stack.alarms')).toMatchObject({
      status: 'PASS',
      detail: `alarms notify ${topic}`,
    });

    expect(await checkAlarmTopic(context({}, awsDeps()))).toEqual([]);
  });
});
