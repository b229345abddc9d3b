/** A minimal Lambda context for invoking handlers in-process (tests and the steady-state bench). */
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';

/** A context whose `getRemainingTimeInMillis` always answers `remainingMs`. */
export function lambdaContext(options: { remainingMs?: number; functionName?: string } = {}): Context {
  const functionName = options.functionName ?? 'irsa-anywhere-test-rotate';
  const remainingMs = options.remainingMs ?? 60_000;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:111122223333:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'stream',
    getRemainingTimeInMillis: () => remainingMs,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
