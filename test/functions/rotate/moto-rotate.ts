/**
 * The rotate handler on moto_server, shared by the moto end-to-end tests: a moto server with the
 * given buckets and Lambda-like environment, the handler wired the way handler.ts wires it, and a
 * reader for the objects it writes.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { CreateBucketCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { vi } from 'vitest';
import { type AwsClients, composeRotation, createAwsClients } from '#adapters/compose.ts';
import type { StackConfig } from '#core/config.ts';
import { METRICS_NAMESPACE, makeHandler, type RotateResult } from '../../../functions/rotate/app.ts';
import { lambdaContext } from '../../support/lambda-context.ts';
import { startMoto } from './moto-server.ts';

/** A running moto with SDK clients on it; `stop` also restores the environment. */
export interface MotoWorld {
  clients: AwsClients;
  stop(): Promise<void>;
  /** An object's body as text. */
  text(bucket: string, key: string): Promise<string>;
}

/** Starts moto, sets the environment a Lambda would have, and creates `buckets`. */
export async function startMotoWorld(buckets: readonly string[]): Promise<MotoWorld> {
  const moto = await startMoto();
  const saved = { ...process.env };
  process.env.AWS_ACCESS_KEY_ID = 'testing';
  process.env.AWS_SECRET_ACCESS_KEY = 'testing';
  process.env.AWS_REGION = 'us-east-1';
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const clients = createAwsClients({ endpoint: moto.endpoint, region: 'us-east-1' });
  for (const bucket of buckets) await clients.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  return {
    clients,
    stop: async () => {
      process.env = saved;
      await moto.stop();
    },
    text: async (bucket, key) => {
      const out = await clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return (await out.Body?.transformToString()) ?? '';
    },
  };
}

/** The rotate handler wired the way handler.ts does, on `clients`, at `clock`. */
export function motoRotateHandler(config: StackConfig, clients: AwsClients, clock: () => Date) {
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'test' });
  vi.spyOn(metrics, 'publishStoredMetrics').mockImplementation(() => metrics);
  const handler = makeHandler({
    rotation: { ...composeRotation(config, clients), clock },
    logger: new Logger({ serviceName: 'test', logLevel: 'SILENT' }),
    metrics,
  });
  return (event: unknown = {}) => handler(event, lambdaContext()) as Promise<RotateResult>;
}
