/**
 * `status --stack`, `rotate --stack` and `trust-policy --role-name` through the real CLI, with the
 * AWS SDK clients mocked and the JWKS fetch stubbed.
 */
import { execFileSync } from 'node:child_process';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetFunctionConfigurationCommand, InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { buildJwks } from '#core/jwks.ts';
import { serializeKeyset } from '#core/keyset-parse.ts';
import { body } from '../../../functions/adapters/aws/aws-fakes.ts';
import { runCli } from '../../../support/run-cli.ts';
import { EC_KID, keysetFixture, RSA_KID, stackDescription } from './fixtures.ts';

const cfn = mockClient(CloudFormationClient);
const s3 = mockClient(S3Client);
const lambda = mockClient(LambdaClient);

beforeEach(() => {
  cfn.reset();
  s3.reset();
  lambda.reset();
  cfn.on(DescribeStacksCommand).resolves(stackDescription());
  s3.on(GetObjectCommand).resolves({ Body: body(serializeKeyset(keysetFixture())), ETag: '"e"' });
  lambda
    .on(GetFunctionConfigurationCommand)
    .rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
  vi.stubGlobal('fetch', async (url: string) => {
    expect(url).toBe('https://d111.cloudfront.net/c1/openid/v1/jwks');
    return new Response(JSON.stringify(buildJwks(keysetFixture().keys)), { status: 200 });
  });
});

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('status --stack', () => {
  it('shows the keys of the deployed stack and that the published JWKS matches', async () => {
    const { code, stdout, stderr } = await runCli(
      'status',
      '--stack',
      'irsa-anywhere-c1',
      '--region',
      'us-east-1',
      '--at',
      '2026-01-06T12:00:00Z',
    );
    expect(code).toBe(0);
    expect(stdout).toContain(`${RSA_KID}  RS256  active`);
    expect(stdout).toContain(`${EC_KID}  ES256  pending`);
    expect(stdout).toMatch(/published: +OK/);
    expect(stderr).toMatch(/note: could not read the rotate function's settings/);
  });

  it('fails with the stack error and exit 1 when the stack does not exist', async () => {
    cfn
      .on(DescribeStacksCommand)
      .rejects(Object.assign(new Error('Stack with id nope does not exist'), { name: 'ValidationError' }));
    const { code, stderr } = await runCli('status', '--stack', 'nope', '--region', 'us-east-1');
    expect(code).toBe(1);
    expect(stderr).toMatch(/^error STACK_NOT_FOUND/);
  });
});

describe('rotate --stack', () => {
  it('invokes the rotate function with {"now": true}', async () => {
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      Payload: new TextEncoder().encode(
        JSON.stringify({
          steps: [{ action: 'rotate-now', kid: EC_KID, reason: 'operator' }],
          activeKid: EC_KID,
        }),
      ),
    } as never);
    const { code, stdout } = await runCli(
      'rotate',
      '--stack',
      'irsa-anywhere-c1',
      '--region',
      'us-east-1',
      '--now',
    );
    expect(code).toBe(0);
    expect(stdout).toContain(`rotate-now ${EC_KID}: operator`);
    const input = lambda.commandCalls(InvokeCommand)[0]?.args[0].input;
    expect(JSON.parse(new TextDecoder().decode(input?.Payload as Uint8Array))).toEqual({ now: true });
  });
});

describe('trust-policy --role-name', () => {
  it('prints an aws iam create-role command whose document is the trust policy', async () => {
    const args = [
      'trust-policy',
      '--issuer',
      'https://oidc.example.com/c1',
      '--account-id',
      '111122223333',
      '--namespace',
      'apps',
      '--service-account',
      'web',
    ];
    const plain = await runCli(...args);
    const withRole = await runCli(...args, '--role-name', 'web-s3');
    expect(withRole.code).toBe(0);
    expect(
      withRole.stdout.startsWith("aws iam create-role --role-name 'web-s3' --assume-role-policy-document '"),
    ).toBe(true);
    // What a shell passes to aws is exactly the policy printed without --role-name.
    const doc = withRole.stdout
      .trim()
      .replace(/^aws iam create-role --role-name 'web-s3' --assume-role-policy-document /, '');
    const seen = execFileSync('sh', ['-c', `printf %s ${doc}`]).toString();
    expect(JSON.parse(seen)).toEqual(JSON.parse(plain.stdout));
  });
});
