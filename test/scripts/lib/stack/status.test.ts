import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { buildJwks } from '#core/jwks.ts';
import { serializeKeyset } from '#core/keyset-parse.ts';
import { DEFAULT_POLICY_INPUT, makePolicy } from '#core/policy.ts';
import { assembleStatus, formatStatus, stackStatus } from '#scripts/lib/stack/status.ts';
import { body } from '../../../functions/adapters/aws/aws-fakes.ts';
import { EC_KID, keysetFixture, RSA_KID, stackDescription } from './fixtures.ts';

const cfnMock = mockClient(CloudFormationClient);
const s3Mock = mockClient(S3Client);
const policy = makePolicy(DEFAULT_POLICY_INPUT);
const now = new Date('2026-01-06T12:00:00Z');

beforeEach(() => {
  cfnMock.reset();
  s3Mock.reset();
  cfnMock.on(DescribeStacksCommand).resolves(stackDescription());
});

describe('stackStatus', () => {
  it('reads the keyset from the state bucket and finds the published JWKS in agreement', async () => {
    const keyset = keysetFixture();
    s3Mock.on(GetObjectCommand).resolves({ Body: body(serializeKeyset(keyset)), ETag: '"e1"' });
    const fetched: string[] = [];
    const report = await stackStatus({
      cfn: new CloudFormationClient({ region: 'us-east-1' }),
      s3: new S3Client({ region: 'us-east-1' }),
      fetchJson: async (url) => {
        fetched.push(url);
        return buildJwks(keyset.keys);
      },
      now,
      stack: 'irsa-anywhere-c1',
      policy,
    });
    expect(s3Mock.commandCalls(GetObjectCommand).map((c) => c.args[0].input)).toEqual([
      { Bucket: 'irsa-c1-state', Key: 'keyset.json', ChecksumMode: 'ENABLED' },
    ]);
    expect(fetched).toEqual(['https://d111.cloudfront.net/c1/openid/v1/jwks']);
    expect(report.keys.map((k) => [k.kid, k.state, k.ageSeconds])).toEqual([
      [RSA_KID, 'active', 5 * 86_400 + 12 * 3600],
      [EC_KID, 'pending', 12 * 3600],
    ]);
    // Pending published 2026-01-06T00:00:05Z + 24 h publish lead.
    expect(report.nextTransition).toEqual({
      at: '2026-01-07T00:00:05.000Z',
      description: expect.stringMatching(/^promote pending key/),
    });
    expect(report.lastPublish).toEqual({ at: '2026-01-06T00:00:05.000Z', kids: [RSA_KID, EC_KID] });
    expect(report.published.matches).toBe(true);
    expect(formatStatus(report)).toMatch(/published: +OK/);
  });

  it('says when the stack was never bootstrapped', async () => {
    s3Mock
      .on(GetObjectCommand)
      .rejects(Object.assign(new Error('nope'), { name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } }));
    await expect(
      stackStatus({
        cfn: new CloudFormationClient({ region: 'us-east-1' }),
        s3: new S3Client({ region: 'us-east-1' }),
        fetchJson: async () => ({ keys: [] }),
        now,
        stack: 'irsa-anywhere-c1',
        policy,
      }),
    ).rejects.toThrow(/never bootstrapped/);
  });
});

describe('assembleStatus', () => {
  const keyset = keysetFixture();
  const base = { keyset, policy, now, jwksUrl: 'https://x/openid/v1/jwks' };

  it('flags a published JWKS that lacks a key or still serves one', () => {
    const onlyActive = { keys: [buildJwks(keyset.keys).keys[0]] };
    const report = assembleStatus({ ...base, published: onlyActive });
    expect(report.published).toMatchObject({ matches: false, missing: [EC_KID], unexpected: [] });
    const stale = { keys: [...buildJwks(keyset.keys).keys, { kid: 'old' }] };
    expect(assembleStatus({ ...base, published: stale }).published).toMatchObject({
      matches: false,
      unexpected: ['old'],
    });
    expect(formatStatus(report)).toContain(`not yet published: ${EC_KID}`);
  });

  it('reports an unreadable JWKS instead of failing', () => {
    const report = assembleStatus({ ...base, published: new Error('HTTP 403') });
    expect(report.published).toMatchObject({ matches: false, error: 'HTTP 403' });
    expect(formatStatus(report)).toMatch(/UNKNOWN .*HTTP 403/);
    expect(assembleStatus({ ...base, published: { nope: 1 } }).published.error).toMatch(/not a JWKS/);
  });
});
