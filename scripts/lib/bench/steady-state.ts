/**
 * `steadyState`: the AWS calls one scheduled run of the rotate Lambda makes when there is nothing
 * to do. The real handler (`makeHandler` from functions/rotate/app.ts, wired with `composeAws`
 * exactly as handler.ts does) runs against S3 and KMS clients mocked with aws-sdk-client-mock: a
 * small stateful fake (objects with ETags and conditional writes, KMS keys with real key pairs).
 * A first run bootstraps the keyset; the next runs have nothing to do and are counted.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import {
  CreateKeyCommand,
  DescribeKeyCommand,
  GetPublicKeyCommand,
  KMSClient,
  ScheduleKeyDeletionCommand,
  TagResourceCommand,
} from '@aws-sdk/client-kms';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { composeRotation } from '#adapters/compose.ts';
import { parseConfig } from '#core/config.ts';
import { makeHandler } from '../../../functions/rotate/app.ts';
import { median } from './stats.ts';

/** AWS calls of one steady-state run. */
export interface SteadyStateFigures {
  s3Get: number;
  s3Put: number;
  kmsCalls: number;
}

const ENV = {
  CLUSTER_NAME: 'bench',
  ISSUER_URL: 'https://oidc.example.com/bench',
  STATE_BUCKET: 'bench-state',
  PUBLIC_BUCKET: 'bench-public',
  KEY_MODE: 'kms',
};

function awsError(name: string, status: number): Error {
  return Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status }, $fault: 'client' });
}

/** The fake account: objects and keys, and a count of every call by name. */
function fakeAws() {
  const s3 = mockClient(S3Client);
  const kms = mockClient(KMSClient);
  const objects = new Map<
    string,
    { body: string; etag: string; metadata: Record<string, string>; cacheControl?: string }
  >();
  const keys = new Map<string, { spki: Uint8Array; spec: string }>();
  const calls = new Map<string, number>();
  let version = 0;
  const count = (name: string) => calls.set(name, (calls.get(name) ?? 0) + 1);
  s3.on(GetObjectCommand).callsFake(async (input) => {
    count('s3:GetObject');
    const object = objects.get(`${input.Bucket}/${input.Key}`);
    if (object === undefined) throw awsError('NoSuchKey', 404);
    return { ETag: object.etag, Body: { transformToString: async () => object.body } };
  });
  s3.on(HeadObjectCommand).callsFake(async (input) => {
    count('s3:HeadObject');
    const object = objects.get(`${input.Bucket}/${input.Key}`);
    if (object === undefined) throw awsError('NotFound', 404);
    return { ETag: object.etag, Metadata: object.metadata, CacheControl: object.cacheControl };
  });
  s3.on(PutObjectCommand).callsFake(async (input) => {
    count('s3:PutObject');
    const id = `${input.Bucket}/${input.Key}`;
    const existing = objects.get(id);
    if (input.IfNoneMatch === '*' && existing !== undefined) throw awsError('PreconditionFailed', 412);
    if (input.IfMatch !== undefined && existing?.etag !== input.IfMatch)
      throw awsError('PreconditionFailed', 412);
    version += 1;
    const etag = `"v${version}"`;
    objects.set(id, {
      body: typeof input.Body === 'string' ? input.Body : new TextDecoder().decode(input.Body as Uint8Array),
      etag,
      metadata: { ...(input.Metadata ?? {}) },
      ...(input.CacheControl === undefined ? {} : { cacheControl: input.CacheControl }),
    });
    return { ETag: etag };
  });
  kms.on(CreateKeyCommand).callsFake(async (input) => {
    const spec = input.KeySpec ?? 'RSA_2048';
    const pair =
      spec === 'RSA_2048'
        ? generateKeyPairSync('rsa', { modulusLength: 2048 })
        : generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const keyId = randomUUID();
    keys.set(keyId, { spki: new Uint8Array(pair.publicKey.export({ format: 'der', type: 'spki' })), spec });
    return { KeyMetadata: { KeyId: keyId, Arn: `arn:aws:kms:us-east-1:111122223333:key/${keyId}` } };
  });
  kms.on(GetPublicKeyCommand).callsFake(async (input) => {
    const key = keys.get(input.KeyId ?? '');
    if (key === undefined) throw awsError('NotFoundException', 400);
    return { PublicKey: key.spki, KeySpec: key.spec };
  });
  kms.on(TagResourceCommand).callsFake(async () => ({}));
  kms
    .on(DescribeKeyCommand)
    .callsFake(async (input) => ({ KeyMetadata: { KeyId: input.KeyId, KeyState: 'Enabled' } }));
  kms.on(ScheduleKeyDeletionCommand).callsFake(async () => ({}));
  return {
    calls,
    /** Every KMS call, mocked command or not. */
    kmsCalls: () => kms.calls().length,
    resetHistory: () => {
      calls.clear();
      kms.resetHistory();
    },
    restore: () => {
      s3.restore();
      kms.restore();
    },
  };
}

function lambdaContext(): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'irsa-anywhere-bench-rotate',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:111122223333:function:irsa-anywhere-bench-rotate',
    memoryLimitInMB: '256',
    awsRequestId: randomUUID(),
    logGroupName: '/aws/lambda/irsa-anywhere-bench-rotate',
    logStreamName: 'bench',
    getRemainingTimeInMillis: () => 60_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/**
 * Runs `body` with Powertools metrics disabled: EMF goes straight to stdout, which --json
 * reserves, and `singleMetric()` builds new instances that read the variable again.
 */
async function withMetricsDisabled<T>(body: () => Promise<T>): Promise<T> {
  const previous = process.env.POWERTOOLS_METRICS_DISABLED;
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  try {
    return await body();
  } finally {
    if (previous === undefined) delete process.env.POWERTOOLS_METRICS_DISABLED;
    else process.env.POWERTOOLS_METRICS_DISABLED = previous;
  }
}

/** Counts the AWS calls of `runs` steady-state rotate runs and returns the median of each count. */
export async function benchSteadyState(options: { runs: number }): Promise<SteadyStateFigures> {
  return withMetricsDisabled(() => countSteadyRuns(options.runs));
}

async function countSteadyRuns(runs: number): Promise<SteadyStateFigures> {
  const aws = fakeAws();
  try {
    const config = parseConfig(ENV);
    const clients = {
      s3: new S3Client({ region: 'us-east-1' }),
      kms: new KMSClient({ region: 'us-east-1' }),
    };
    const handler = makeHandler({
      rotation: composeRotation(config, clients),
      logger: new Logger({ serviceName: 'bench', logLevel: 'SILENT' }),
      metrics: new Metrics({ namespace: 'IrsaAnywhereBench', serviceName: 'bench' }),
    });
    await handler({}, lambdaContext()); // bootstrap: first key, first publish
    const figures: SteadyStateFigures[] = [];
    for (let run = 0; run < runs; run += 1) {
      aws.resetHistory();
      await handler({}, lambdaContext());
      const sum = (prefix: string) =>
        [...aws.calls].filter(([name]) => name.startsWith(prefix)).reduce((total, [, n]) => total + n, 0);
      figures.push({ s3Get: sum('s3:GetObject'), s3Put: sum('s3:PutObject'), kmsCalls: aws.kmsCalls() });
    }
    return {
      s3Get: median(figures.map((f) => f.s3Get)),
      s3Put: median(figures.map((f) => f.s3Put)),
      kmsCalls: median(figures.map((f) => f.kmsCalls)),
    };
  } finally {
    aws.restore();
  }
}
