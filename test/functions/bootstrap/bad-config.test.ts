/**
 * The deployed wiring (functions/bootstrap/handler.ts) with a bad configuration: importing it must
 * not throw, and each request is answered at once, with a real HTTP PUT (putOnce), to a loopback
 * server standing in for CloudFormation's pre-signed response URL. (The event carries a genuine
 * CloudFormation response URL, which the authenticity check requires; the PUT is redirected to the
 * loopback server. DescribeStacks, asked for a Delete, answers DELETE_IN_PROGRESS.) Create/Update: FAILED naming the variable.
 * Delete: SUCCESS, so a rollback or a stack removal is never blocked.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { lambdaContext } from '../../support/lambda-context.ts';

interface Answer {
  Status: string;
  Reason: string;
  PhysicalResourceId: string;
  RequestId: string;
}

const answers: Answer[] = [];
const answeredUrls: string[] = [];
const STACK_ID = 'arn:aws:cloudformation:us-east-1:111122223333:stack/irsa-anywhere-prod/x';
const CFN_RESPONSE_URL =
  'https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/presigned?X-Amz-Signature=x';
let server: Server;
let responseUrl: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += String(chunk);
    });
    req.on('end', () => {
      answers.push(JSON.parse(body) as Answer);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  responseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/presigned?X-Amz-Signature=x`;
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await new Promise((resolve) => server.close(resolve));
});

const GOOD_ENV: Record<string, string> = {
  CLUSTER_NAME: 'prod',
  ISSUER_URL: 'https://d111.cloudfront.net',
  STATE_BUCKET: 'state-bucket',
  PUBLIC_BUCKET: 'public-bucket',
  KEY_MODE: 'kms',
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'testing',
  AWS_SECRET_ACCESS_KEY: 'testing',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  STACK_ID,
};

beforeEach(() => {
  answers.length = 0;
  answeredUrls.length = 0;
  vi.resetModules();
  vi.unstubAllEnvs();
  vi.doMock('../../../functions/bootstrap/https-put.ts', async (importOriginal) => {
    const real = await importOriginal<typeof import('../../../functions/bootstrap/https-put.ts')>();
    return {
      ...real,
      httpsPut: (url: string, body: string) => {
        answeredUrls.push(url);
        return real.putOnce(responseUrl, body, 2_000);
      },
    };
  });
  vi.doMock('#adapters/compose.ts', async (importOriginal) => ({
    ...(await importOriginal<typeof import('#adapters/compose.ts')>()),
    stackStatusReader: () => async () => 'DELETE_IN_PROGRESS',
  }));
  for (const [name, value] of Object.entries(GOOD_ENV)) vi.stubEnv(name, value);
});

function event(type: 'Create' | 'Update' | 'Delete') {
  return {
    RequestType: type,
    ResponseURL: CFN_RESPONSE_URL,
    StackId: STACK_ID,
    RequestId: `req-${type}`,
    LogicalResourceId: 'BootstrapResource',
    ...(type === 'Create' ? {} : { PhysicalResourceId: 'irsa-anywhere-bootstrap-prod' }),
    ResourceProperties: {},
  };
}

async function invokeWith(env: Record<string, string>, type: 'Create' | 'Update' | 'Delete') {
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  // Old wiring parsed the configuration here, at import, and threw: no answer was ever sent.
  const { handler } = await import('../../../functions/bootstrap/handler.ts');
  const started = performance.now();
  await handler(event(type), lambdaContext({ remainingMs: 290_000, functionName: 'bootstrap' }));
  return performance.now() - started;
}

describe('bootstrap with a bad configuration', () => {
  it.each([
    [{ KEY_DELETION_WINDOW_DAYS: '3' }, 'KEY_DELETION_WINDOW_DAYS'],
    [{ PUBLISH_LEAD_HOURS: '0.1' }, 'PUBLISH_LEAD_HOURS'],
    [{ ISSUER_URL: 'https://d111.cloudfront.net/team/..' }, 'ISSUER_URL'],
    [{ KEY_MODE: 'bogus' }, 'KEY_MODE'],
  ])('Create with %o answers FAILED within seconds, naming %s', async (env, variable) => {
    const ms = await invokeWith(env, 'Create');
    expect(ms).toBeLessThan(5_000);
    expect(answers).toHaveLength(1);
    expect(answeredUrls).toEqual([CFN_RESPONSE_URL]);
    expect(answers[0]).toMatchObject({ Status: 'FAILED', RequestId: 'req-Create' });
    expect(answers[0]?.Reason).toContain(variable);
    expect(answers[0]?.PhysicalResourceId).toBe('irsa-anywhere-bootstrap-unconfigured');
  });

  it('Update answers FAILED with the message, keeping the physical id', async () => {
    await invokeWith({ ROTATION_PERIOD_DAYS: 'abc' }, 'Update');
    expect(answers[0]).toMatchObject({
      Status: 'FAILED',
      PhysicalResourceId: 'irsa-anywhere-bootstrap-prod',
    });
    expect(answers[0]?.Reason).toContain('ROTATION_PERIOD_DAYS');
  });

  it('Delete answers SUCCESS so the stack can always be removed', async () => {
    const ms = await invokeWith({ KEY_DELETION_WINDOW_DAYS: '3' }, 'Delete');
    expect(ms).toBeLessThan(5_000);
    expect(answers).toEqual([
      expect.objectContaining({ Status: 'SUCCESS', PhysicalResourceId: 'irsa-anywhere-bootstrap-prod' }),
    ]);
    expect(answers[0]?.Reason).toContain('KEY_DELETION_WINDOW_DAYS');
  });
});
