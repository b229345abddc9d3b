/**
 * The IAM and trust-policy checks against moto_server's IAM (real API shapes: provider URL stored
 * without https://, GetRole's URL-encoded policy document). Skipped loudly without moto_server.
 */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CreateOpenIDConnectProviderCommand, CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTrustPolicy } from '#core/trust-policy.ts';
import { decodeTokenUnverified } from '#core/verify-token.ts';
import { checkIamProvider } from '#scripts/lib/doctor/checks/iam.ts';
import { checkTrustPolicy } from '#scripts/lib/doctor/checks/trust.ts';
import type { DoctorDeps } from '#scripts/lib/doctor/types.ts';
import { type Moto, motoAvailable, startMoto } from '../../../functions/rotate/moto-server.ts';
import { context, fakeFetch, line, mintToken, offlineDeps } from './helpers.ts';

const HAVE_MOTO = motoAvailable('doctor IAM checks against moto');
const ISSUER = 'https://oidc.example.com/c1';
const OTHER_AUDIENCE = 'https://oidc.example.com/c2';

describe.skipIf(!HAVE_MOTO)('doctor IAM checks against moto_server', () => {
  let moto: Moto;
  let deps: DoctorDeps;
  let iam: IAMClient;
  let providerArn: string;

  beforeAll(async () => {
    moto = await startMoto();
    const config = {
      region: 'us-east-1',
      endpoint: moto.endpoint,
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    };
    iam = new IAMClient(config);
    deps = {
      ...offlineDeps(fakeFetch({})),
      aws: { iam, sts: new STSClient(config), cfn: new CloudFormationClient(config) },
    };
    const created = await iam.send(
      new CreateOpenIDConnectProviderCommand({ Url: ISSUER, ClientIDList: ['sts.amazonaws.com'] }),
    );
    await iam.send(new CreateOpenIDConnectProviderCommand({ Url: OTHER_AUDIENCE, ClientIDList: ['my-app'] }));
    providerArn = created.OpenIDConnectProviderArn ?? '';
    const policy = buildTrustPolicy({
      providerArn,
      issuer: ISSUER,
      serviceAccounts: [{ namespace: 'apps', serviceAccount: 'web' }],
    });
    await iam.send(
      new CreateRoleCommand({ RoleName: 'web', AssumeRolePolicyDocument: JSON.stringify(policy) }),
    );
  }, 60_000);

  afterAll(async () => {
    await moto?.stop();
  });

  it('finds the provider by URL and its audience; fails a provider without sts.amazonaws.com', async () => {
    let lines = await checkIamProvider(context({}, deps, { issuer: ISSUER }));
    expect(line(lines, 'iam.provider')).toMatchObject({ status: 'PASS', detail: providerArn });
    expect(line(lines, 'iam.audience').status).toBe('PASS');
    lines = await checkIamProvider(context({}, deps, { issuer: OTHER_AUDIENCE }));
    expect(line(lines, 'iam.provider').status).toBe('PASS');
    expect(line(lines, 'iam.audience')).toMatchObject({
      status: 'FAIL',
      detail: expect.stringContaining('[my-app]'),
    });
  });

  it('fails an issuer the account has no provider for', async () => {
    const lines = await checkIamProvider(context({}, deps, { issuer: 'https://oidc.example.com/other' }));
    expect(line(lines, 'iam.provider')).toMatchObject({
      status: 'FAIL',
      detail: expect.stringContaining('No OpenIDConnect provider found'),
    });
  });

  it("evaluates the role's stored trust policy: the named service account passes, another fails", async () => {
    const trust = async (sub: string) => {
      const ctx = context({ roleArn: 'arn:aws:iam::123456789012:role/web' }, deps, {
        issuer: ISSUER,
        provider: { arn: providerArn, clientIds: ['sts.amazonaws.com'] },
        decoded: decodeTokenUnverified(await mintToken({ iss: ISSUER, sub })),
      });
      return line(await checkTrustPolicy(ctx), 'trust.policy');
    };
    expect((await trust('system:serviceaccount:apps:web')).status).toBe('PASS');
    expect(await trust('system:serviceaccount:apps:other')).toMatchObject({
      status: 'FAIL',
      detail: expect.stringContaining('apps:other'),
    });
  });
});
