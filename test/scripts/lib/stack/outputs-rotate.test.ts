import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { isIrsaError } from '#core/errors.ts';
import { describeStackOutputs } from '#scripts/lib/stack/outputs.ts';
import { formatRotateResult, invokeRotate, rotatePayload } from '#scripts/lib/stack/rotate.ts';
import { parseRotateEvent } from '../../../../functions/rotate/app.ts';
import { stackDescription } from './fixtures.ts';

const cfnMock = mockClient(CloudFormationClient);
const lambdaMock = mockClient(LambdaClient);
const cfn = new CloudFormationClient({ region: 'us-east-1' });
const lambda = new LambdaClient({ region: 'us-east-1' });

async function code(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (isIrsaError(error)) return error.code;
    throw error;
  }
  throw new Error('expected a failure');
}

beforeEach(() => {
  cfnMock.reset();
  lambdaMock.reset();
});

describe('describeStackOutputs', () => {
  it('types the outputs by OutputKey', async () => {
    cfnMock.on(DescribeStacksCommand).resolves(stackDescription());
    const outputs = await describeStackOutputs(cfn, 'irsa-anywhere-c1');
    expect(cfnMock.commandCalls(DescribeStacksCommand).map((c) => c.args[0].input)).toEqual([
      { StackName: 'irsa-anywhere-c1' },
    ]);
    expect(outputs).toMatchObject({
      issuerUrl: 'https://d111.cloudfront.net/c1',
      jwksUri: 'https://d111.cloudfront.net/c1/openid/v1/jwks',
      oidcProviderArn: 'arn:aws:iam::111122223333:oidc-provider/d111.cloudfront.net/c1',
      stateBucketName: 'irsa-c1-state',
      rotateFunctionName: 'irsa-anywhere-c1-rotate',
      nodePolicyArn: 'arn:aws:iam::111122223333:policy/irsa-c1-node',
    });
  });

  it('names the missing outputs', async () => {
    cfnMock.on(DescribeStacksCommand).resolves(stackDescription({ drop: ['RotateFunctionName', 'JwksUri'] }));
    await expect(describeStackOutputs(cfn, 'irsa-anywhere-c1')).rejects.toThrow(
      /JwksUri, RotateFunctionName/,
    );
  });

  it('maps a missing stack, a stack mid-rollback and a bad name to their codes', async () => {
    const notFound = Object.assign(new Error('Stack with id nope does not exist'), {
      name: 'ValidationError',
    });
    cfnMock.on(DescribeStacksCommand).rejects(notFound);
    expect(await code(describeStackOutputs(cfn, 'nope'))).toBe('STACK_NOT_FOUND');
    cfnMock.on(DescribeStacksCommand).resolves(stackDescription({ status: 'UPDATE_ROLLBACK_IN_PROGRESS' }));
    expect(await code(describeStackOutputs(cfn, 'irsa-anywhere-c1'))).toBe('STACK_NOT_READY');
    cfnMock.on(DescribeStacksCommand).resolves(stackDescription({ status: 'ROLLBACK_COMPLETE' }));
    expect(await code(describeStackOutputs(cfn, 'irsa-anywhere-c1'))).toBe('STACK_NOT_READY');
    expect(await code(describeStackOutputs(cfn, 'bad name'))).toBe('FLAG_INVALID');
    cfnMock.on(DescribeStacksCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDenied' }));
    expect(await code(describeStackOutputs(cfn, 'irsa-anywhere-c1'))).toBe('STACK_DESCRIBE_FAILED');
  });

  it('accepts an UPDATE_COMPLETE stack', async () => {
    cfnMock.on(DescribeStacksCommand).resolves(stackDescription({ status: 'UPDATE_COMPLETE' }));
    expect((await describeStackOutputs(cfn, 'irsa-anywhere-c1')).stackStatus).toBe('UPDATE_COMPLETE');
  });
});

describe('rotate against the stack', () => {
  const kid = 'A'.repeat(43);

  it('builds the payload from the flags', () => {
    expect(rotatePayload({})).toEqual({});
    expect(rotatePayload({ now: true })).toEqual({ now: true });
    expect(rotatePayload({ revoke: kid })).toEqual({ revoke: kid });
    expect(() => rotatePayload({ now: true, revoke: kid })).toThrow(/cannot be combined/);
    expect(() => rotatePayload({ revoke: 'short' })).toThrow(/not a kid/);
  });

  it('invokes the function synchronously with the payload and returns its report', async () => {
    const report = { steps: [{ action: { type: 'rotate-now' }, kid }], wrote: true, published: true };
    lambdaMock
      .on(InvokeCommand)
      .resolves({ StatusCode: 200, Payload: new TextEncoder().encode(JSON.stringify(report)) as never });
    expect(await invokeRotate(lambda, 'irsa-anywhere-c1-rotate', { now: true })).toEqual(report);
    const sent = lambdaMock.commandCalls(InvokeCommand)[0]?.args[0].input;
    expect(sent?.FunctionName).toBe('irsa-anywhere-c1-rotate');
    expect(sent?.InvocationType).toBe('RequestResponse');
    expect(JSON.parse(new TextDecoder().decode(sent?.Payload as Uint8Array))).toEqual({ now: true });
    // The payload is exactly what the rotate Lambda parses.
    expect(parseRotateEvent(rotatePayload({ now: true }))).toEqual({ rotateNow: true });
    expect(parseRotateEvent(rotatePayload({ revoke: kid }))).toEqual({ revoke: kid });
    expect(parseRotateEvent(rotatePayload({}))).toEqual({});
  });

  it('prints the report as one line per step', () => {
    const text = formatRotateResult({
      steps: [{ action: 'rotate-now', kid, reason: 'operator asked' }],
      activeKid: kid,
      nextTransition: { at: '2026-01-08T00:00:00.000Z', description: 'create the next key' },
    });
    expect(text.split('\n')).toEqual([
      `rotate-now ${kid}: operator asked`,
      `active key: ${kid}`,
      'next: 2026-01-08T00:00:00.000Z create the next key',
    ]);
    expect(formatRotateResult({ steps: [], activeKid: kid })).toMatch(/^nothing to do/);
  });

  it('reports the function error message', async () => {
    const failure = { errorType: 'IrsaError', errorMessage: 'STATE_CONFLICT: lost the race' };
    lambdaMock.on(InvokeCommand).resolves({
      StatusCode: 200,
      FunctionError: 'Unhandled',
      Payload: new TextEncoder().encode(JSON.stringify(failure)) as never,
    });
    await expect(invokeRotate(lambda, 'f', {})).rejects.toThrow(
      /The rotate function failed: STATE_CONFLICT: lost the race/,
    );
    lambdaMock.on(InvokeCommand).rejects(new Error('AccessDeniedException'));
    expect(await code(invokeRotate(lambda, 'f', {}))).toBe('ROTATE_INVOKE_FAILED');
  });
});
