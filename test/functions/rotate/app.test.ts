import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { composeRotation } from '#adapters/compose.ts';
import { parseConfig } from '#core/config.ts';
import {
  METRICS_NAMESPACE,
  makeHandler,
  parseRotateEvent,
  type RotateResult,
} from '../../../functions/rotate/app.ts';
import { lambdaContext } from '../../support/lambda-context.ts';
import { AwsWorld } from './aws-world.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const ISSUER = 'https://oidc.example.com/prod';
const BUCKETS = { state: 'state-bucket', public: 'public-bucket', prefix: 'prod' };
const world = new AwsWorld();
let now = new Date('2026-03-01T00:00:00Z');

function setup(keySpec: 'RSA_2048' | 'ECC_NIST_P256' = 'ECC_NIST_P256') {
  const config = parseConfig({
    CLUSTER_NAME: 'prod',
    ISSUER_URL: ISSUER,
    STATE_BUCKET: BUCKETS.state,
    PUBLIC_BUCKET: BUCKETS.public,
    KEY_SPEC: keySpec,
  });
  const logger = new Logger({ serviceName: 'test', logLevel: 'SILENT' });
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'test' });
  const stepMetrics: string[] = [];
  vi.spyOn(metrics, 'singleMetric').mockImplementation(() => {
    const single = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'test' });
    vi.spyOn(single, 'addDimension').mockImplementation((_name, value) => {
      stepMetrics.push(value);
      return single;
    });
    vi.spyOn(single, 'addMetric').mockImplementation(() => single);
    return single;
  });
  const addMetric = vi.spyOn(metrics, 'addMetric');
  vi.spyOn(metrics, 'publishStoredMetrics').mockImplementation(() => metrics);
  const logError = vi.spyOn(logger, 'error');
  const handler = makeHandler({
    rotation: { ...composeRotation(config, world.clients), clock: () => now },
    logger,
    metrics,
  });
  const invoke = (event: unknown = {}) => handler(event, lambdaContext()) as Promise<RotateResult>;
  return { invoke, addMetric, stepMetrics, logError };
}

const metricValue = (spy: ReturnType<typeof setup>['addMetric'], name: string) =>
  spy.mock.calls.filter((call) => call[0] === name).map((call) => call[2]);

beforeEach(() => {
  world.reset();
  now = new Date('2026-03-01T00:00:00Z');
});
afterEach(() => vi.restoreAllMocks());

describe('rotate handler: happy path', () => {
  it('bootstraps an RSA key, publishes JWKS then discovery, and reports metrics', async () => {
    const { invoke, addMetric, stepMetrics } = setup('RSA_2048');
    const result = await invoke({ source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} });
    expect(result.steps.map((s) => s.action)).toEqual(['bootstrap', 'publish']);
    expect(result.activeKid).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(result.wrote && result.published).toBe(true);
    const keyset = world.assertConsistent(BUCKETS, ISSUER);
    expect(keyset.keys[0]?.kid).toBe(result.activeKid);
    // JWKS is written before discovery.
    const puts = world.s3Mock.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Key);
    expect(puts.indexOf('prod/openid/v1/jwks')).toBeLessThan(
      puts.indexOf('prod/.well-known/openid-configuration'),
    );
    expect(world.object(BUCKETS.public, 'prod/openid/v1/jwks')).toMatchObject({
      contentType: 'application/json',
      cacheControl: 'public, max-age=300',
    });
    expect(stepMetrics).toEqual(['bootstrap', 'publish']);
    expect(metricValue(addMetric, 'ActiveKeyAgeSeconds')).toEqual([0]);
    expect(metricValue(addMetric, 'RotationError')).toEqual([]);
    const kmsKey = [...world.keys.values()][0];
    expect(kmsKey?.tags).toEqual({
      'irsa-anywhere:cluster': 'prod',
      'irsa-anywhere:managed-by': 'irsa-anywhere',
      'irsa-anywhere:kid': result.activeKid,
    });
  });

  it('steady state: one S3 GET and nothing else', async () => {
    const { invoke, addMetric } = setup();
    await invoke();
    world.calls.length = 0;
    now = new Date(now.getTime() + HOUR);
    const result = await invoke();
    expect(world.calls).toEqual(['s3:GetObject']);
    expect(result).toMatchObject({ steps: [], wrote: false, published: false });
    expect(metricValue(addMetric, 'ActiveKeyAgeSeconds').at(-1)).toBe(3600);
  });

  it('rotates on schedule: pending key, promotion, retirement, deletion after retention', async () => {
    const { invoke } = setup();
    const first = await invoke();
    const seen: string[] = [];
    for (let hour = 1; hour <= 24 * 10; hour += 1) {
      now = new Date(Date.parse('2026-03-01T00:00:00Z') + hour * HOUR);
      const result = await invoke();
      seen.push(...result.steps.map((s) => s.action));
      world.assertConsistent(BUCKETS, ISSUER);
    }
    expect(seen).toContain('create-pending');
    expect(seen).toContain('promote');
    expect(seen).toContain('delete');
    expect(seen).toContain('destroy');
    const firstKey = [...world.keys.entries()].find(
      ([, k]) => k.tags['irsa-anywhere:kid'] === first.activeKid,
    );
    expect(firstKey?.[1]).toMatchObject({ state: 'PendingDeletion', deletionWindow: 7 });
  });
});

describe('rotate handler: operator payloads', () => {
  it('{"now": true} makes a new key active at once', async () => {
    const { invoke } = setup();
    const first = await invoke();
    const result = await invoke({ now: true });
    expect(result.activeKid).not.toBe(first.activeKid);
    const keyset = world.assertConsistent(BUCKETS, ISSUER);
    expect(keyset.keys.find((k) => k.kid === first.activeKid)?.state).toBe('retired');
  });

  it('{"revoke": kid} removes the key from the JWKS at once', async () => {
    const { invoke } = setup();
    const first = await invoke();
    const result = await invoke({ revoke: first.activeKid });
    expect(result.activeKid).not.toBe(first.activeKid);
    const jwks = world.text(BUCKETS.public, 'prod/openid/v1/jwks') ?? '';
    expect(jwks).not.toContain(first.activeKid ?? 'x');
    world.assertConsistent(BUCKETS, ISSUER);
  });

  it.each([
    [{ now: 'yes' }],
    [{ revoke: 'not-a-kid' }],
    [{ now: true, revoke: 'a'.repeat(43) }],
    [{ rotate: true }],
    [[1, 2]],
    ['now'],
  ])('refuses the payload %j before any AWS call', async (payload) => {
    const { invoke, logError, addMetric } = setup();
    await expect(invoke(payload)).rejects.toMatchObject({ code: 'INVOKE_PAYLOAD_INVALID' });
    expect(world.calls).toEqual([]);
    expect(logError).toHaveBeenCalledWith(
      'rotation failed',
      expect.objectContaining({ code: 'INVOKE_PAYLOAD_INVALID' }),
    );
    expect(metricValue(addMetric, 'RotationError')).toEqual([1]);
  });

  it('parses scheduled events, empty payloads and operator payloads', () => {
    expect(parseRotateEvent({ source: 'aws.events', 'detail-type': 'Scheduled Event', now: 'x' })).toEqual(
      {},
    );
    expect(parseRotateEvent(null)).toEqual({});
    expect(parseRotateEvent({})).toEqual({});
    expect(parseRotateEvent({ now: true })).toEqual({ rotateNow: true });
    const kid = 'A'.repeat(43);
    expect(parseRotateEvent({ revoke: kid })).toEqual({ revoke: kid });
  });
});

describe('rotate handler: failures', () => {
  it('never replaces a corrupt keyset: fails with KEYSET_CORRUPT, logs it, writes nothing', async () => {
    const { invoke, logError, addMetric } = setup();
    world.putRaw(BUCKETS.state, 'keyset.json', '{"version": 1, "keys": "oops"}');
    await expect(invoke()).rejects.toMatchObject({ code: 'KEYSET_CORRUPT' });
    expect(world.calls).toEqual(['s3:GetObject']);
    expect(world.text(BUCKETS.state, 'keyset.json')).toBe('{"version": 1, "keys": "oops"}');
    expect(logError).toHaveBeenCalledWith(
      'rotation failed',
      expect.objectContaining({ code: 'KEYSET_CORRUPT' }),
    );
    expect(metricValue(addMetric, 'RotationError')).toEqual([1]);
  });

  it('KMS throttling fails the run loudly and the next run completes', async () => {
    const { invoke, logError } = setup();
    world.failAt = 1; // GetObject, then CreateKey
    world.faultError = () =>
      Object.assign(new Error('Rate exceeded'), {
        name: 'ThrottlingException',
        $metadata: { httpStatusCode: 400 },
      });
    await expect(invoke()).rejects.toMatchObject({ name: 'ThrottlingException' });
    expect(logError).toHaveBeenCalled();
    expect(world.text(BUCKETS.state, 'keyset.json')).toBeUndefined();
    await invoke();
    world.assertConsistent(BUCKETS, ISSUER);
  });

  it('a lost compare-and-swap race re-reads, re-plans and destroys the key it created for nothing', async () => {
    const { invoke } = setup();
    await invoke();
    now = new Date(now.getTime() + 6.5 * DAY); // a pending key is due
    let raced = false;
    world.beforeKeysetPut = () => {
      if (raced) return;
      raced = true;
      // Another run rewrote the document meanwhile (same keys, new bytes): the ETag changes, our If-Match loses.
      world.putRaw(BUCKETS.state, 'keyset.json', `${world.text(BUCKETS.state, 'keyset.json') ?? ''}\n`);
    };
    const result = await invoke();
    expect(raced).toBe(true);
    expect(result.steps.map((s) => s.action)).toContain('create-pending');
    const keyset = world.assertConsistent(BUCKETS, ISSUER);
    expect(keyset.keys.filter((k) => k.state === 'pending')).toHaveLength(1);
    expect([...world.keys.values()].filter((k) => k.state === 'PendingDeletion')).toHaveLength(1);
  });
});

describe('rotate handler: every AWS call failing once, at each step, is repaired by the next run', () => {
  const phases: Array<{ name: string; at: number }> = [
    { name: 'bootstrap', at: 0 },
    { name: 'create-pending', at: 6.5 * DAY },
    { name: 'promote', at: 7.6 * DAY },
    { name: 'delete and destroy', at: 9 * DAY },
  ];
  const start = Date.parse('2026-03-01T00:00:00Z');

  for (const [index, phase] of phases.entries()) {
    it(`during ${phase.name}`, async () => {
      const { invoke } = setup();
      const prepare = async () => {
        world.reset();
        for (const earlier of phases.slice(0, index)) {
          now = new Date(start + earlier.at);
          await invoke();
        }
        now = new Date(start + phase.at);
        world.calls.length = 0;
      };
      await prepare();
      await invoke();
      const clean = [...world.calls];
      expect(clean.length).toBeGreaterThan(1);
      if (phase.name === 'delete and destroy') expect(clean).toContain('kms:ScheduleKeyDeletion');
      for (let failAt = 0; failAt < clean.length; failAt += 1) {
        await prepare();
        world.failAt = failAt;
        await expect(invoke(), `fault at call ${failAt} (${clean[failAt]})`).rejects.toThrow();
        await invoke();
        const keyset = world.assertConsistent(BUCKETS, ISSUER);
        expect(keyset.keys.length).toBeGreaterThan(0);
        world.calls.length = 0;
        await invoke();
        expect(world.calls, `steady after fault at ${failAt}`).toEqual(['s3:GetObject']);
      }
    });
  }
});
