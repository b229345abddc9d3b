/**
 * Real deadlines on the CLI's and node agents' AWS calls: against an endpoint that accepts the
 * connection and never answers, a call made with the CLI's request handler FAILS within its
 * deadline instead of hanging the command (issue 12, item 2, CLI side).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { KMSClient, SignCommand } from '@aws-sdk/client-kms';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliAws } from '#scripts/lib/aws-clients.ts';
import { CLI_AWS_DEADLINES, cliRequestHandler } from '#scripts/lib/aws-deadlines.ts';
import { stackClients } from '#scripts/lib/stack/commands.ts';

let server: Server;
let endpoint: string;
const sockets: Socket[] = [];
const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };

beforeAll(async () => {
  server = createServer((socket) => sockets.push(socket)); // read nothing, answer nothing
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  endpoint = `http://127.0.0.1:${address.port}`;
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function elapsed(call: () => Promise<unknown>): Promise<{ ms: number; error: unknown }> {
  const start = performance.now();
  try {
    await call();
    return { ms: performance.now() - start, error: undefined };
  } catch (error) {
    return { ms: performance.now() - start, error };
  }
}

describe('CLI AWS deadlines', () => {
  it('a hung S3 call fails with TimeoutError instead of hanging', async () => {
    const s3 = new S3Client({
      region: 'us-east-1',
      endpoint,
      forcePathStyle: true,
      credentials,
      maxAttempts: 1,
      requestHandler: cliRequestHandler(400),
    });
    const { ms, error } = await elapsed(() =>
      s3.send(new GetObjectCommand({ Bucket: 'b', Key: 'keyset.json' })),
    );
    expect(error).toMatchObject({ name: 'TimeoutError' });
    expect(ms).toBeLessThan(5_000);
  });

  it('a hung KMS Sign fails with TimeoutError instead of hanging', async () => {
    const kms = new KMSClient({
      region: 'us-east-1',
      endpoint,
      credentials,
      maxAttempts: 1,
      requestHandler: cliRequestHandler(400),
    });
    const { error } = await elapsed(() =>
      kms.send(
        new SignCommand({
          KeyId: 'k',
          Message: new Uint8Array(1),
          SigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256',
          MessageType: 'RAW',
        }),
      ),
    );
    expect(error).toMatchObject({ name: 'TimeoutError' });
  });

  it('the clients the commands build carry the deadline (throwOnRequestTimeout on)', async () => {
    const { s3 } = stackClients(cliAws('test', { flag: 'eu-west-1' }));
    const handler = s3.config.requestHandler as unknown as {
      configProvider?: Promise<Record<string, unknown>>;
    };
    const resolved = await handler.configProvider;
    expect(resolved).toMatchObject({
      requestTimeout: CLI_AWS_DEADLINES.requestTimeoutMs,
      throwOnRequestTimeout: true,
    });
  });
});
