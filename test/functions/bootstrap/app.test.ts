import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Logger } from '@aws-lambda-powertools/logger';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { composeAws } from '#adapters/compose.ts';
import { parseConfig } from '#core/config.ts';
import type { KeysetStore } from '#core/ports.ts';
import {
  type BootstrapWiring,
  type CustomResourceEvent,
  type CustomResourceResponse,
  makeHandler,
  physicalResourceId,
} from '../../../functions/bootstrap/app.ts';
import { putOnce } from '../../../functions/bootstrap/https-put.ts';
import { lambdaContext } from '../../support/lambda-context.ts';
import { AwsWorld } from '../rotate/aws-world.ts';

const BUCKETS = { state: 'state-bucket', public: 'public-bucket' };
const STACK_ID = 'arn:aws:cloudformation:us-east-1:111122223333:stack/irsa-anywhere-prod/x';
const world = new AwsWorld();

function setup(
  options: {
    issuer?: string;
    store?: KeysetStore;
    remainingMs?: number;
    put?: () => Promise<void>;
    sweep?: BootstrapWiring['sweep'];
    safetyMarginMs?: number;
  } = {},
) {
  const issuer = options.issuer ?? 'https://d111.cloudfront.net';
  const config = parseConfig({
    CLUSTER_NAME: 'prod',
    ISSUER_URL: issuer,
    STATE_BUCKET: BUCKETS.state,
    PUBLIC_BUCKET: BUCKETS.public,
    KEY_SPEC: 'ECC_NIST_P256',
  });
  const ports = composeAws(config, world.clients);
  const store = options.store ?? ports.store;
  const answers: Array<{ url: string; body: CustomResourceResponse }> = [];
  const logger = new Logger({ serviceName: 'test', logLevel: 'SILENT' });
  const handler = makeHandler({
    load: () => ({
      rotation: {
        ...ports,
        store,
        policy: config.policy,
        cluster: 'prod',
        issuer,
        clock: () => new Date('2026-03-01T00:00:00Z'),
      },
      store,
      keys: ports.keys,
      ...(options.sweep === undefined ? {} : { sweep: options.sweep }),
    }),
    put:
      options.put ??
      (async (url, body) => {
        answers.push({ url, body: JSON.parse(body) as CustomResourceResponse });
      }),
    logger,
    // Authenticity is tested in test/security/attacks.test.ts; here every event is genuine.
    authenticity: { stackId: STACK_ID, stackStatus: async () => 'DELETE_IN_PROGRESS' },
    ...(options.safetyMarginMs === undefined ? {} : { safetyMarginMs: options.safetyMarginMs }),
  });
  const invoke = (event: unknown) =>
    handler(event, lambdaContext({ remainingMs: options.remainingMs ?? 60_000 }));
  return { invoke, answers, logger };
}

function event(
  type: CustomResourceEvent['RequestType'],
  extra: Partial<CustomResourceEvent> = {},
): CustomResourceEvent {
  return {
    RequestType: type,
    ResponseURL: 'https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/presigned',
    StackId: STACK_ID,
    RequestId: 'req-1',
    LogicalResourceId: 'Bootstrap',
    ...(type === 'Create' ? {} : { PhysicalResourceId: physicalResourceId('prod') }),
    ...extra,
  };
}

beforeEach(() => world.reset());
afterEach(() => vi.restoreAllMocks());

describe('bootstrap custom resource', () => {
  it('Create makes the first active key, publishes, and answers SUCCESS with the kid', async () => {
    const { invoke, answers } = setup();
    await invoke(event('Create'));
    expect(answers).toHaveLength(1);
    expect(answers[0]?.url).toBe(
      'https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/presigned',
    );
    const keyset = world.assertConsistent(BUCKETS, 'https://d111.cloudfront.net');
    expect(answers[0]?.body).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: 'irsa-anywhere-bootstrap-prod',
      StackId: event('Create').StackId,
      RequestId: 'req-1',
      LogicalResourceId: 'Bootstrap',
      Data: { ActiveKid: keyset.keys[0]?.kid, Issuer: 'https://d111.cloudfront.net' },
    });
  });

  it('Update applies a new issuer (custom domain) and republishes', async () => {
    await setup().invoke(event('Create'));
    const { invoke, answers } = setup({ issuer: 'https://oidc.example.com' });
    await invoke(event('Update'));
    expect(answers[0]?.body.Status).toBe('SUCCESS');
    world.assertConsistent(BUCKETS, 'https://oidc.example.com');
  });

  it('a failing Create answers FAILED with the reason (and does not hang the stack)', async () => {
    const { invoke, answers } = setup();
    world.failAt = 1;
    await invoke(event('Create'));
    expect(answers[0]?.body.Status).toBe('FAILED');
    expect(answers[0]?.body.Reason).toContain('injected fault');
    expect(answers[0]?.body.PhysicalResourceId).toBe('irsa-anywhere-bootstrap-prod');
  });

  it('answers before the Lambda timeout when the work hangs', async () => {
    const hanging: KeysetStore = {
      read: () => new Promise(() => undefined),
      write: () => new Promise(() => undefined),
    };
    const { invoke, answers } = setup({ store: hanging, remainingMs: 16_000 });
    const started = Date.now();
    await invoke(event('Create'));
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(answers[0]?.body).toMatchObject({ Status: 'FAILED' });
    expect(answers[0]?.body.Reason).toContain('gave up');

    const deleting = setup({ store: hanging, remainingMs: 16_000 });
    await deleting.invoke(event('Delete'));
    expect(deleting.answers[0]?.body.Status).toBe('SUCCESS');
  });

  it("middy's early timeout answers CloudFormation itself: FAILED, after the work's budget, before the Lambda ends", async () => {
    // The work never settles; only the timeoutEarlyInMillis path can answer. Without it (or if
    // it threw without answering) the invocation would hang until the Lambda is killed.
    const hanging: KeysetStore = {
      read: () => new Promise(() => undefined),
      write: () => new Promise(() => undefined),
    };
    const { invoke, answers } = setup({ store: hanging, remainingMs: 900, safetyMarginMs: 500 });
    const started = Date.now();
    const returned = await invoke(event('Create'));
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(350); // the work had its 400 ms
    expect(elapsed).toBeLessThan(800); // and came well before the Lambda's end (middy's default margin is 5 ms)
    expect(answers).toHaveLength(1);
    expect(answers[0]?.body).toMatchObject({
      Status: 'FAILED',
      PhysicalResourceId: 'irsa-anywhere-bootstrap-prod',
    });
    expect(answers[0]?.body.Reason).toMatch(/gave up 0.5 s before the Lambda timeout/);
    expect(returned).toEqual(answers[0]?.body);
  });

  it('Delete schedules deletion of every KMS key and answers SUCCESS', async () => {
    await setup().invoke(event('Create'));
    const { invoke, answers } = setup();
    await invoke(event('Delete'));
    expect(answers[0]?.body).toMatchObject({ Status: 'SUCCESS', Data: { KeysScheduledForDeletion: '1' } });
    expect([...world.keys.values()].map((k) => k.state)).toEqual(['PendingDeletion']);
  });

  it('Delete never fails: missing keyset, corrupt keyset, KMS refusing', async () => {
    const missing = setup();
    await missing.invoke(event('Delete'));
    expect(missing.answers[0]?.body.Status).toBe('SUCCESS');

    world.putRaw(BUCKETS.state, 'keyset.json', 'not json');
    const corrupt = setup();
    await corrupt.invoke(event('Delete'));
    expect(corrupt.answers[0]?.body.Status).toBe('SUCCESS');

    world.reset();
    await setup().invoke(event('Create'));
    world.failAt = world.calls.length + 1; // GetObject, then ScheduleKeyDeletion fails
    const refusing = setup();
    await refusing.invoke(event('Delete'));
    expect(world.failAt).toBeUndefined(); // the fault was hit
    expect(refusing.answers[0]?.body.Status).toBe('SUCCESS');
  });

  it('Delete also sweeps what carries the stack tags, even when the keyset is unreadable', async () => {
    await setup().invoke(event('Create'));
    let sweeps = 0;
    const sweep = async () => {
      sweeps += 1;
      return {
        keysScheduled: ['arn:aws:kms:us-east-1:1:key/stray'],
        objectsDeleted: [],
        problems: ['key x: denied'],
      };
    };
    const { invoke, answers } = setup({ sweep });
    await invoke(event('Delete'));
    expect(answers[0]?.body).toMatchObject({
      Status: 'SUCCESS',
      Data: { KeysScheduledForDeletion: '1', KeysSwept: '1', ObjectsSwept: '0' },
    });

    world.putRaw(BUCKETS.state, 'keyset.json', 'not json');
    const corrupt = setup({ sweep });
    await corrupt.invoke(event('Delete'));
    expect(corrupt.answers[0]?.body).toMatchObject({
      Status: 'SUCCESS',
      Data: { KeysScheduledForDeletion: '0', KeysSwept: '1' },
    });
    expect(sweeps).toBe(2);
  });

  it('Delete of a physical id this stack never created touches nothing', async () => {
    await setup().invoke(event('Create'));
    world.calls.length = 0;
    const { invoke, answers } = setup();
    await invoke(event('Delete', { PhysicalResourceId: 'something-else' }));
    expect(answers[0]?.body).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'something-else' });
    expect(world.calls).toEqual([]);
  });

  it('ignores events that are not custom resource requests (nothing to answer)', async () => {
    const { invoke, answers } = setup();
    expect(await invoke({ hello: 'world' })).toBeUndefined();
    expect(answers).toEqual([]);
  });

  it('rethrows when the answer cannot be delivered, so the failure is visible', async () => {
    const { invoke } = setup({ put: () => Promise.reject(new Error('connection reset')) });
    await expect(invoke(event('Delete'))).rejects.toThrow('connection reset');
  });
});

describe('putOnce', () => {
  it('PUTs the body with an empty content type, and rejects a non-2xx answer', async () => {
    const received: Array<{ method?: string; type?: string; body: string }> = [];
    let status = 200;
    const server = createServer((req, res) => {
      let data = '';
      req.on('data', (chunk) => {
        data += String(chunk);
      });
      req.on('end', () => {
        received.push({ method: req.method, type: req.headers['content-type'], body: data });
        res.statusCode = status;
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/presigned?sig=x`;
    try {
      await putOnce(url, '{"Status":"SUCCESS"}', 2_000);
      expect(received).toEqual([{ method: 'PUT', type: '', body: '{"Status":"SUCCESS"}' }]);
      status = 403;
      await expect(putOnce(url, '{}', 2_000)).rejects.toThrow('HTTP 403');
    } finally {
      server.close();
    }
  });
});
