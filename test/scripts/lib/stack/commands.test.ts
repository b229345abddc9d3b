import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetFunctionConfigurationCommand, InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { buildJwks } from '#core/jwks.ts';
import { serializeKeyset } from '#core/keyset-parse.ts';
import { rotateStackCommand, type StackClients, statusStackCommand } from '#scripts/lib/stack/commands.ts';
import { body } from '../../../functions/adapters/aws/aws-fakes.ts';
import { EC_KID, keysetFixture, RSA_KID, stackDescription } from './fixtures.ts';

const cfn = mockClient(CloudFormationClient);
const s3 = mockClient(S3Client);
const lambda = mockClient(LambdaClient);
const clients = (): StackClients => ({
  cfn: new CloudFormationClient({ region: 'us-east-1' }),
  s3: new S3Client({ region: 'us-east-1' }),
  lambda: new LambdaClient({ region: 'us-east-1' }),
});
const ENV = {
  CLUSTER_NAME: 'c1',
  ISSUER_URL: 'https://d111.cloudfront.net/c1',
  STATE_BUCKET: 'irsa-c1-state',
  PUBLIC_BUCKET: 'irsa-c1-public',
  KEY_MODE: 'kms',
  PUBLISH_LEAD_HOURS: '48',
};

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (s: string) => out.push(s), err: (s: string) => err.push(s) }, out, err };
}

beforeEach(() => {
  cfn.reset();
  s3.reset();
  lambda.reset();
  cfn.on(DescribeStacksCommand).resolves(stackDescription());
  s3.on(GetObjectCommand).resolves({ Body: body(serializeKeyset(keysetFixture())), ETag: '"e"' });
});

describe('status --stack', () => {
  it("uses the rotate function's own policy for the next transition", async () => {
    lambda.on(GetFunctionConfigurationCommand).resolves({ Environment: { Variables: ENV } });
    const { io, out, err } = capture();
    await statusStackCommand(
      io,
      { stack: 'irsa-anywhere-c1', json: true, now: new Date('2026-01-06T12:00:00Z') },
      clients(),
      async () => buildJwks(keysetFixture().keys),
    );
    const report = JSON.parse(out.join('\n')) as {
      nextTransition: { at: string };
      keys: Array<{ kid: string }>;
      published: { matches: boolean };
    };
    // Pending key published 2026-01-06T00:00:05Z + the function's 48 h publish lead.
    expect(report.nextTransition.at).toBe('2026-01-08T00:00:05.000Z');
    expect(report.keys.map((k) => k.kid)).toEqual([RSA_KID, EC_KID]);
    expect(report.published.matches).toBe(true);
    expect(err).toEqual([]);
  });

  it('falls back to the default policy, saying so, when the function settings cannot be read', async () => {
    lambda
      .on(GetFunctionConfigurationCommand)
      .rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));
    const { io, out, err } = capture();
    await statusStackCommand(
      io,
      { stack: 'irsa-anywhere-c1', now: new Date('2026-01-06T12:00:00Z') },
      clients(),
      async () => ({ keys: [] }),
    );
    expect(out.join('\n')).toMatch(/next: +2026-01-07T00:00:05.000Z/);
    expect(out.join('\n')).toMatch(/published: +MISMATCH/);
    expect(err.join('\n')).toMatch(/note: could not read the rotate function's settings \(not authorized\)/);
  });
});

describe('rotate --stack', () => {
  it('invokes the function named by the stack with the payload and prints its steps', async () => {
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      Payload: new TextEncoder().encode(
        JSON.stringify({
          steps: [{ action: 'revoke', kid: RSA_KID, reason: 'operator' }],
          activeKid: EC_KID,
        }),
      ),
    } as never);
    const { io, out } = capture();
    await rotateStackCommand(io, { stack: 'irsa-anywhere-c1', revoke: RSA_KID }, clients());
    const input = lambda.commandCalls(InvokeCommand)[0]?.args[0].input;
    expect(input?.FunctionName).toBe('irsa-anywhere-c1-rotate');
    expect(JSON.parse(new TextDecoder().decode(input?.Payload as Uint8Array))).toEqual({ revoke: RSA_KID });
    expect(out).toEqual([`revoke ${RSA_KID}: operator\nactive key: ${EC_KID}`]);
  });

  it('rejects bad flags before calling AWS', async () => {
    await expect(
      rotateStackCommand(capture().io, { stack: 'irsa-anywhere-c1', now: true, revoke: RSA_KID }, clients()),
    ).rejects.toThrow(/cannot be combined/);
    expect(cfn.commandCalls(DescribeStacksCommand)).toHaveLength(0);
  });
});
