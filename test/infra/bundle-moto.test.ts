/**
 * Acceptance: the packaged rotate BUNDLE (the .mjs inside rotate.zip that Lambda would run), run in
 * a fresh node process against moto_server through AWS_ENDPOINT_URL, bootstraps a KMS key and
 * publishes a JWKS whose kid matches the KMS public key. Also measures the bundle's import time.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetPublicKeyCommand } from '@aws-sdk/client-kms';
import { CreateBucketCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AwsClients, createAwsClients } from '#adapters/compose.ts';
import { parseKeyset } from '#core/keyset-parse.ts';
import { kidFromSpki } from '#core/kid.ts';
import { type Moto, motoAvailable, startMoto } from '../functions/rotate/moto-server.ts';
import { packageStack, readZip } from './packaging.ts';

const HAVE_MOTO = motoAvailable('the rotate bundle acceptance test against moto');

const RUNNER = `
import { pathToFileURL } from 'node:url';
const started = performance.now();
const { handler } = await import(pathToFileURL(process.argv[2]).href);
const importMs = performance.now() - started;
const context = { functionName: 'rotate', awsRequestId: 'r', invokedFunctionArn: 'arn:aws:lambda:us-east-1:111122223333:function:rotate',
  memoryLimitInMB: '256', functionVersion: '1', logGroupName: 'g', logStreamName: 's', getRemainingTimeInMillis: () => 60000 };
const first = await handler({ source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} }, context);
const second = await handler({}, context);
console.log('RESULT ' + JSON.stringify({ importMs, first, second }));
`;

describe.skipIf(!HAVE_MOTO)('the rotate bundle against moto_server', () => {
  let moto: Moto;
  let clients: AwsClients;
  let bundle: string;
  let dir: string;

  beforeAll(async () => {
    const packaged = packageStack();
    dir = mkdtempSync(join(tmpdir(), 'irsa-bundle-'));
    bundle = join(dir, 'handler.mjs');
    const code = readZip(packaged.zipPath('rotate')).get('functions/rotate/handler.mjs');
    if (code === undefined) throw new Error('rotate.zip has no functions/rotate/handler.mjs');
    writeFileSync(bundle, code);
    writeFileSync(join(dir, 'run.mjs'), RUNNER);
    moto = await startMoto();
    clients = createAwsClients({ endpoint: moto.endpoint, region: 'us-east-1' });
    process.env.AWS_ACCESS_KEY_ID ??= 'testing';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'testing';
    await clients.s3.send(new CreateBucketCommand({ Bucket: 'state-bucket' }));
    await clients.s3.send(new CreateBucketCommand({ Bucket: 'public-bucket' }));
  }, 900_000);

  afterAll(async () => {
    await moto?.stop();
  });

  it('bootstraps a key, publishes a JWKS whose kid matches KMS, and is a no-op on the next run', async () => {
    const env = {
      PATH: process.env.PATH,
      AWS_ENDPOINT_URL: moto.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      CLUSTER_NAME: 'test',
      ISSUER_URL: 'https://oidc.example.com',
      STATE_BUCKET: 'state-bucket',
      PUBLIC_BUCKET: 'public-bucket',
      POWERTOOLS_METRICS_DISABLED: 'true',
    };
    const run = spawnSync(process.execPath, [join(dir, 'run.mjs'), bundle], {
      encoding: 'utf8',
      env,
      timeout: 60_000,
    });
    const line = run.stdout.split('\n').find((l) => l.startsWith('RESULT '));
    if (line === undefined)
      throw new Error(`bundle run failed (${run.status}):\n${run.stdout}\n${run.stderr}`);
    const { importMs, first, second } = JSON.parse(line.slice('RESULT '.length)) as {
      importMs: number;
      first: { steps: Array<{ action: string }>; activeKid: string };
      second: { steps: unknown[]; wrote: boolean };
    };
    console.info(`rotate bundle import time in a fresh node process: ${importMs.toFixed(0)} ms`);
    expect(first.steps.map((s) => s.action)).toEqual(['bootstrap', 'publish']);
    expect(second).toMatchObject({ steps: [], wrote: false });

    const read = async (bucket: string, key: string) =>
      (await (
        await clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
      ).Body?.transformToString()) ?? '';
    const keyset = parseKeyset(await read('state-bucket', 'keyset.json'));
    const jwks = JSON.parse(await read('public-bucket', 'openid/v1/jwks')) as {
      keys: Array<{ kid: string }>;
    };
    const location = keyset.keys[0]?.location;
    if (location?.type !== 'kms') throw new Error('expected a KMS key');
    const kms = await clients.kms.send(new GetPublicKeyCommand({ KeyId: location.keyId }));
    const kid = kidFromSpki(kms.PublicKey ?? new Uint8Array());
    expect(jwks.keys.map((k) => k.kid)).toEqual([kid]);
    expect(first.activeKid).toBe(kid);
  }, 90_000);
});
