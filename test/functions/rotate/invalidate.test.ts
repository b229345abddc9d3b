import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { describe, expect, it, vi } from 'vitest';
import {
  cloudFrontInvalidator,
  documentPaths,
  invalidationBody,
} from '#adapters/aws/cloudfront-invalidator.ts';
import { composeInvalidator, composeRotation } from '#adapters/compose.ts';
import { parseConfig } from '#core/config.ts';
import { METRICS_NAMESPACE, makeHandler, type RotateResult } from '../../../functions/rotate/app.ts';
import { FakeAws } from '../../support/aws-fakes.ts';
import { lambdaContext } from '../../support/lambda-context.ts';

const ENV = {
  CLUSTER_NAME: 'prod',
  ISSUER_URL: 'https://oidc.example.com/prod',
  STATE_BUCKET: 'state-bucket',
  PUBLIC_BUCKET: 'public-bucket',
  KEY_SPEC: 'ECC_NIST_P256',
};

function setup(invalidateDocuments?: (reference: string) => Promise<string | undefined>) {
  const aws = new FakeAws();
  const logger = new Logger({ serviceName: 'test', logLevel: 'SILENT' });
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'test' });
  vi.spyOn(metrics, 'publishStoredMetrics').mockImplementation(() => metrics);
  const logError = vi.spyOn(logger, 'error');
  let now = new Date('2026-03-01T00:00:00Z');
  const handler = makeHandler({
    rotation: { ...composeRotation(parseConfig(ENV), aws.process()), clock: () => now },
    logger,
    metrics,
    ...(invalidateDocuments === undefined ? {} : { invalidateDocuments }),
  });
  const invoke = (event: unknown = {}) => {
    now = new Date(now.getTime() + 3_600_000);
    return handler(event, lambdaContext()) as Promise<RotateResult>;
  };
  return { invoke, logError };
}

describe('CloudFront invalidation after a revoke', () => {
  it('a revoke invalidates the two documents once; scheduled and rotate-now runs do not', async () => {
    const references: string[] = [];
    const { invoke } = setup(async (reference) => {
      references.push(reference);
      return 'I1';
    });
    const first = await invoke();
    await invoke({ now: true });
    await invoke();
    expect(references).toEqual([]);
    await invoke({ revoke: first.activeKid });
    expect(references).toHaveLength(1);
    expect(references[0]).toMatch(new RegExp(`^revoke-${first.activeKid}-\\d+$`));
  });

  it('a failed invalidation is logged, and the revoke still succeeds (the edge lags until max-age)', async () => {
    const { invoke, logError } = setup(() => Promise.reject(new Error('throttled')));
    const first = await invoke();
    await invoke({ now: true });
    const revoked = await invoke({ revoke: first.activeKid });
    expect(revoked.published).toBe(true);
    expect(logError).toHaveBeenCalledWith(
      'could not invalidate the edge caches after the revoke',
      expect.anything(),
    );
  });

  it('POSTs a SigV4-signed CreateInvalidation of the two document paths, on the configured distribution only', async () => {
    const seen: Array<{ method?: string; url?: string; auth?: string; body: string }> = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => {
        body += String(chunk);
      });
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, auth: req.headers.authorization, body });
        res.statusCode = 201;
        res.end('<Invalidation><Id>I2EXAMPLE</Id><Status>InProgress</Status></Invalidation>');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const endpoint = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
      const invalidate = cloudFrontInvalidator('EDFDVBD6EXAMPLE', {
        credentials: async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' }),
        endpoint,
      });
      expect(await invalidate(documentPaths('team-a'), 'ref-1')).toBe('I2EXAMPLE');
    } finally {
      server.close();
    }
    expect(seen).toHaveLength(1);
    expect(seen[0]?.method).toBe('POST');
    expect(seen[0]?.url).toBe('/2020-05-31/distribution/EDFDVBD6EXAMPLE/invalidation');
    expect(seen[0]?.auth).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/us-east-1\/cloudfront\/aws4_request/,
    );
    expect(seen[0]?.body).toBe(
      invalidationBody(['/team-a/.well-known/openid-configuration', '/team-a/openid/v1/jwks'], 'ref-1'),
    );
    expect(seen[0]?.body).toContain('<Quantity>2</Quantity>');
    expect(documentPaths('')).toEqual(['/.well-known/openid-configuration', '/openid/v1/jwks']);
  });

  it('without DISTRIBUTION_ID nothing is invalidated (the old variable set still works)', () => {
    const clients = new FakeAws().process();
    expect(composeInvalidator(parseConfig(ENV), clients)).toBeUndefined();
    const configured = parseConfig({ ...ENV, DISTRIBUTION_ID: 'EDFDVBD6EXAMPLE' });
    expect(composeInvalidator(configured, clients)).toBeTypeOf('function');
    expect(() => parseConfig({ ...ENV, DISTRIBUTION_ID: 'not an id' })).toThrow(/DISTRIBUTION_ID/);
  });
});
