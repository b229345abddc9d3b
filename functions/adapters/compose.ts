/**
 * The one place that constructs AWS SDK clients and picks adapters for a configuration. Handlers
 * call it once at init (module scope of handler.ts), never per invocation. Clients honour the
 * standard SDK environment (`AWS_REGION`, `AWS_ENDPOINT_URL` for emulators such as moto).
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { KMSClient } from '@aws-sdk/client-kms';
import { ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { S3Client } from '@aws-sdk/client-s3';
import { type Env, parseConfig, type StackConfig } from '#core/config.ts';
import { isIrsaError } from '#core/errors.ts';
import type { KeyBackend, KeysetStore, Publisher } from '#core/ports.ts';
import type { RotationDeps } from '#core/rotation-run.ts';
import { cloudFrontInvalidator, documentPaths } from './aws/cloudfront-invalidator.ts';
import { keyAuthority } from './aws/kms-key-policy.ts';
import { KmsKeys } from './aws/kms-keys.ts';
import { KmsWrappedKeys } from './aws/kms-wrapped-keys.ts';
import { S3KeysetStore } from './aws/s3-keyset-store.ts';
import { S3Publisher } from './aws/s3-publisher.ts';
import { type SweepReport, sweepStack } from './aws/stack-sweep.ts';

/** The SDK clients the Lambdas use. */
export interface AwsClients {
  s3: S3Client;
  kms: KMSClient;
  /** KMS with a single attempt, for CreateKey: a retry after a timeout could create a second key. */
  kmsCreate?: KMSClient;
  /** `tag:GetResources`: the key an abandoned intent left, and the stack-removal sweep. */
  tagging?: ResourceGroupsTaggingAPIClient;
}

/** Options for {@link createAwsClients}; everything else comes from the SDK's own environment. */
export interface AwsClientOptions {
  region?: string;
  /** Overrides `AWS_ENDPOINT_URL` (tests against moto). */
  endpoint?: string;
  /** Per-attempt deadline; overrides {@link LAMBDA_AWS_DEADLINES} `requestTimeoutMs` (tests). */
  requestTimeoutMs?: number;
}

/**
 * Deadlines of every AWS call the Lambdas make. Each attempt FAILS (`TimeoutError`) after
 * `requestTimeoutMs`, connection included: in @smithy/node-http-handler 4.x a bare
 * `requestTimeout` only logs a warning, `throwOnRequestTimeout: true` makes it destroy the request
 * and reject. A call gives up after `maxAttempts` attempts, so a hung KMS or S3 endpoint costs at
 * most {@link worstCaseCallMs} per call, well inside the rotate (120 s) and bootstrap (300 s)
 * Lambda timeouts (test/functions/adapters/deadlines.test.ts reads them from serverless.yml): the
 * run fails cleanly with an error and the next scheduled run repairs.
 */
export const LAMBDA_AWS_DEADLINES = {
  requestTimeoutMs: 5_000,
  connectionTimeoutMs: 3_000,
  maxAttempts: 3,
  /**
   * Upper bound of the SDK's wait between two attempts: its throttling back-off (at most 1 s, then
   * 2 s, for 3 attempts) plus the 5 s it may add for a server's Retry-After hint.
   */
  maxBackoffMs: 7_000,
} as const;

/** The longest one AWS call can take before it fails: every attempt times out, plus back-off. */
export function worstCaseCallMs(requestTimeoutMs: number = LAMBDA_AWS_DEADLINES.requestTimeoutMs): number {
  const { maxAttempts, maxBackoffMs } = LAMBDA_AWS_DEADLINES;
  return maxAttempts * requestTimeoutMs + (maxAttempts - 1) * maxBackoffMs;
}

/**
 * Builds the S3 and KMS clients once. Throttling (KMS asymmetric quotas are shared per account)
 * is retried by the SDK with adaptive back-off; every attempt has a deadline that fails it
 * ({@link LAMBDA_AWS_DEADLINES}).
 */
export function createAwsClients(options: AwsClientOptions = {}): AwsClients {
  const common = lambdaClientConfig(options);
  return {
    s3: new S3Client({ ...common, ...(options.endpoint === undefined ? {} : { forcePathStyle: true }) }),
    kms: new KMSClient(common),
    // One attempt: an SDK retry after a timeout could create a second key (the intent covers the first).
    kmsCreate: new KMSClient({ ...common, maxAttempts: 1 }),
    tagging: new ResourceGroupsTaggingAPIClient(common),
  };
}

/** The configuration every Lambda SDK client gets: region/endpoint, retries and real deadlines. */
function lambdaClientConfig(options: AwsClientOptions) {
  return {
    maxAttempts: LAMBDA_AWS_DEADLINES.maxAttempts,
    retryMode: 'adaptive',
    requestHandler: {
      requestTimeout: options.requestTimeoutMs ?? LAMBDA_AWS_DEADLINES.requestTimeoutMs,
      connectionTimeout: LAMBDA_AWS_DEADLINES.connectionTimeoutMs,
      throwOnRequestTimeout: true,
    },
    ...(options.region === undefined ? {} : { region: options.region }),
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
  };
}

/**
 * The status of one stack (CloudFormation DescribeStacks), for the bootstrap function's check that
 * a Delete event comes while its own stack is really being deleted. Undefined when not found.
 */
export function stackStatusReader(
  options: AwsClientOptions = {},
): (stackId: string) => Promise<string | undefined> {
  const client = new CloudFormationClient(lambdaClientConfig(options));
  return async (stackId) => {
    const out = await client.send(new DescribeStacksCommand({ StackName: stackId }));
    return out.Stacks?.[0]?.StackStatus;
  };
}

/**
 * Invalidation of the two public documents in this stack's own distribution (DISTRIBUTION_ID), or
 * undefined when the configuration does not name one (then a revoke waits for the cache max-age).
 */
export function composeInvalidator(
  config: StackConfig,
  clients: AwsClients,
  options: AwsClientOptions = {},
): ((reference: string) => Promise<string | undefined>) | undefined {
  if (config.distributionId === undefined) return undefined;
  // The credentials the other clients use (the Lambda role's, from the environment).
  const invalidate = cloudFrontInvalidator(config.distributionId, {
    credentials: () => clients.kms.config.credentials(),
    ...(options.requestTimeoutMs === undefined ? {} : { timeoutMs: options.requestTimeoutMs }),
  });
  const paths = documentPaths(config.publicPrefix);
  return (reference) => invalidate(paths, reference);
}

/** The ports rotation needs, wired for a configuration. */
export interface AwsPorts {
  store: KeysetStore;
  keys: KeyBackend;
  publisher: Publisher;
}

/** Picks the adapters for the configured key mode and gives each its client. */
export function composeAws(config: StackConfig, clients: AwsClients): AwsPorts {
  const store = new S3KeysetStore({ s3: clients.s3, bucket: config.stateBucket });
  const publisher = new S3Publisher({
    s3: clients.s3,
    bucket: config.publicBucket,
    prefix: config.publicPrefix,
    jwksMaxAgeSeconds: config.policy.jwksMaxAgeSeconds,
  });
  return { store, keys: keyBackend(config, clients), publisher };
}

/**
 * The KMS deletion window: the configured one, raised (up to the 30-day maximum) to cover the
 * retention, so a key scheduled on stack removal outlives every token it may have signed.
 */
export function deletionWindowDays(config: StackConfig): number {
  const retentionDays = Math.ceil(config.policy.retentionSeconds / 86_400);
  return Math.min(30, Math.max(config.keyDeletionWindowDays, retentionDays));
}

/**
 * The stack-removal sweep for a configuration (stack-sweep.ts), with the deletion window that
 * covers the retention; undefined without a tagging client.
 */
export function composeSweep(
  config: StackConfig,
  clients: AwsClients,
): (() => Promise<SweepReport>) | undefined {
  const { tagging } = clients;
  if (tagging === undefined) return undefined;
  return () =>
    sweepStack({
      kms: clients.kms,
      s3: clients.s3,
      tagging,
      cluster: config.cluster,
      stateBucket: config.stateBucket,
      deletionWindowDays: deletionWindowDays(config),
    });
}

function keyBackend(config: StackConfig, clients: AwsClients): KeyBackend {
  if (config.keyMode === 'kms') {
    const authority = keyAuthority(config.cluster, config.functionRoleArns);
    return new KmsKeys({
      kms: clients.kms,
      ...(clients.kmsCreate === undefined ? {} : { kmsCreate: clients.kmsCreate }),
      ...(clients.tagging === undefined ? {} : { tagging: clients.tagging }),
      cluster: config.cluster,
      // Raised to cover the retention: a scheduled key must outlive every token it may have signed.
      deletionWindowDays: deletionWindowDays(config),
      ...(authority === undefined ? {} : { authority }),
    });
  }
  return new KmsWrappedKeys({
    kms: clients.kms,
    s3: clients.s3,
    bucket: config.stateBucket,
    cluster: config.cluster,
    wrappingKeyId: config.wrappingKeyId,
  });
}

/**
 * Parses the configuration at Lambda init. A bad setting is logged as one structured line naming
 * the variable (before any logger exists) and rethrown, so the init fails loudly.
 */
export function loadConfig(env: Env): StackConfig {
  try {
    return parseConfig(env);
  } catch (error) {
    const line = isIrsaError(error)
      ? {
          level: 'ERROR',
          message: 'configuration invalid',
          code: error.code,
          error: error.message,
          fix: error.fix,
        }
      : { level: 'ERROR', message: 'configuration invalid', error: String(error) };
    console.error(JSON.stringify(line));
    throw error;
  }
}

/** Everything `runRotation` needs for a configuration, with the wall clock (the Lambdas' wiring). */
export function composeRotation(
  config: StackConfig,
  clients: AwsClients,
): Omit<RotationDeps, 'onStep'> & AwsPorts {
  return {
    ...composeAws(config, clients),
    policy: config.policy,
    cluster: config.cluster,
    issuer: config.issuer,
    clock: () => new Date(),
  };
}
