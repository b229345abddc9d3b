/**
 * Real deadlines on the Lambdas' AWS calls: against an endpoint that accepts the connection and
 * never answers (the way a stalled KMS or S3 front end looks), a call must FAIL within its deadline
 * instead of running until the Lambda is killed. And the worst case of one call must fit inside the
 * Lambda timeouts that serverless.yml sets.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { DescribeKeyCommand } from '@aws-sdk/client-kms';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import {
  createAwsClients,
  LAMBDA_AWS_DEADLINES,
  stackStatusReader,
  worstCaseCallMs,
} from '#adapters/compose.ts';

const DEADLINE_MS = 400;
let server: Server;
let endpoint: string;
const sockets: Socket[] = [];
let connections = 0;

beforeAll(async () => {
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'testing');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'testing');
  server = createServer((socket) => {
    connections += 1;
    sockets.push(socket); // read nothing, answer nothing
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  endpoint = `http://127.0.0.1:${address.port}`;
});

afterAll(async () => {
  vi.unstubAllEnvs();
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => server.close(resolve));
});

async function timed(call: () => Promise<unknown>): Promise<{ ms: number; error: unknown }> {
  const started = performance.now();
  try {
    await call();
  } catch (error) {
    return { ms: performance.now() - started, error };
  }
  throw new Error('the call to a hung endpoint succeeded');
}

describe('Lambda AWS clients against a hung endpoint', () => {
  const clients = () => createAwsClients({ endpoint, region: 'us-east-1', requestTimeoutMs: DEADLINE_MS });

  it('a hung KMS call fails with TimeoutError within attempts × deadline', async () => {
    connections = 0;
    const { ms, error } = await timed(() =>
      clients().kms.send(new DescribeKeyCommand({ KeyId: 'alias/irsa-anywhere' })),
    );
    expect((error as Error).name).toBe('TimeoutError');
    expect(ms).toBeGreaterThanOrEqual(DEADLINE_MS * LAMBDA_AWS_DEADLINES.maxAttempts - 50);
    expect(ms).toBeLessThan(worstCaseCallMs(DEADLINE_MS) + 1_000);
    expect(connections).toBeGreaterThanOrEqual(1);
  });

  it('a hung S3 call fails with TimeoutError within attempts × deadline', async () => {
    const { ms, error } = await timed(() =>
      clients().s3.send(new GetObjectCommand({ Bucket: 'state-bucket', Key: 'keyset.json' })),
    );
    expect((error as Error).name).toBe('TimeoutError');
    expect(ms).toBeLessThan(worstCaseCallMs(DEADLINE_MS) + 1_000);
  });

  it('a hung CloudFormation call (the bootstrap Delete check) fails within its deadline', async () => {
    const read = stackStatusReader({ endpoint, region: 'us-east-1', requestTimeoutMs: DEADLINE_MS });
    const { ms, error } = await timed(() =>
      read('arn:aws:cloudformation:us-east-1:111122223333:stack/irsa-anywhere-prod/x'),
    );
    expect((error as Error).name).toBe('TimeoutError');
    expect(ms).toBeLessThan(worstCaseCallMs(DEADLINE_MS) + 1_000);
  });
});

describe('deadline budget', () => {
  const functions = (
    parse(readFileSync('serverless.yml', 'utf8'), { logLevel: 'error' }) as {
      functions: Record<string, { timeout: number }>;
    }
  ).functions;

  it.each(['rotate', 'bootstrap'])(
    'the worst case of one hung call fits well inside the %s timeout',
    (fn) => {
      const timeoutMs = (functions[fn]?.timeout ?? 0) * 1000;
      expect(timeoutMs).toBeGreaterThan(0);
      // Leave room for the structured error log (rotate) or the 15 s answer margin (bootstrap).
      expect(worstCaseCallMs() * 2).toBeLessThanOrEqual(timeoutMs);
    },
  );
});
