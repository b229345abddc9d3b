import { createHash } from 'node:crypto';
import { HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { publicObjectKeys, S3Publisher } from '#adapters/aws/s3-publisher.ts';
import { awsError } from './aws-fakes.ts';

const s3 = mockClient(S3Client);
const docs = { jwks: '{"keys":[]}', discovery: '{"issuer":"https://x"}' };
const sha = (text: string) => createHash('sha256').update(text).digest('hex');

function publisher(options: { prefix?: string; jwksMaxAgeSeconds?: number } = {}): S3Publisher {
  return new S3Publisher({ s3: new S3Client({ region: 'us-east-1' }), bucket: 'public', ...options });
}

beforeEach(() => s3.reset());

describe('S3Publisher', () => {
  it('writes the JWKS before the discovery document, as JSON with Cache-Control and a digest', async () => {
    s3.on(HeadObjectCommand).rejects(awsError('NotFound', 404));
    s3.on(PutObjectCommand).resolves({});
    expect(await publisher().publish(docs)).toEqual({ changed: true });
    const puts = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    expect(puts.map((p) => p.Key)).toEqual(['openid/v1/jwks', '.well-known/openid-configuration']);
    expect(puts[0]).toMatchObject({
      Bucket: 'public',
      Body: docs.jwks,
      ContentType: 'application/json',
      CacheControl: 'public, max-age=300',
      Metadata: { sha256: sha(docs.jwks) },
    });
    expect(puts[1]).toMatchObject({ Body: docs.discovery, Metadata: { sha256: sha(docs.discovery) } });
  });

  it('skips both writes when the stored digests and Cache-Control match', async () => {
    s3.on(HeadObjectCommand, { Key: 'openid/v1/jwks' })
      .resolves({ Metadata: { sha256: sha(docs.jwks) }, CacheControl: 'public, max-age=300' })
      .on(HeadObjectCommand, { Key: '.well-known/openid-configuration' })
      .resolves({ Metadata: { sha256: sha(docs.discovery) }, CacheControl: 'public, max-age=300' });
    expect(await publisher().publish(docs)).toEqual({ changed: false });
    expect(s3).not.toReceiveCommand(PutObjectCommand);
  });

  it('rewrites only the document whose bytes changed', async () => {
    s3.on(HeadObjectCommand, { Key: 'openid/v1/jwks' })
      .resolves({ Metadata: { sha256: sha('old') }, CacheControl: 'public, max-age=300' })
      .on(HeadObjectCommand, { Key: '.well-known/openid-configuration' })
      .resolves({ Metadata: { sha256: sha(docs.discovery) }, CacheControl: 'public, max-age=300' });
    s3.on(PutObjectCommand).resolves({});
    expect(await publisher().publish(docs)).toEqual({ changed: true });
    expect(s3).toReceiveCommandTimes(PutObjectCommand, 1);
    expect(s3).toReceiveCommandWith(PutObjectCommand, { Key: 'openid/v1/jwks' });
  });

  it('rewrites when only the configured max-age changed', async () => {
    s3.on(HeadObjectCommand).resolves({
      Metadata: { sha256: sha(docs.jwks) },
      CacheControl: 'public, max-age=300',
    });
    s3.on(PutObjectCommand).resolves({});
    await publisher({ jwksMaxAgeSeconds: 60 }).publish(docs);
    expect(s3).toReceiveCommandWith(PutObjectCommand, {
      Key: 'openid/v1/jwks',
      CacheControl: 'public, max-age=60',
    });
  });

  it('puts the documents below the issuer path prefix', async () => {
    s3.on(HeadObjectCommand).rejects(awsError('NotFound', 404));
    s3.on(PutObjectCommand).resolves({});
    await publisher({ prefix: 'team-a' }).publish(docs);
    const keys = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Key);
    expect(keys).toEqual(['team-a/openid/v1/jwks', 'team-a/.well-known/openid-configuration']);
  });

  it('does not write discovery when the JWKS write failed', async () => {
    s3.on(HeadObjectCommand).rejects(awsError('NotFound', 404));
    s3.on(PutObjectCommand).rejects(awsError('InternalError', 500));
    await expect(publisher().publish(docs)).rejects.toMatchObject({ name: 'InternalError' });
    expect(s3).toReceiveCommandTimes(PutObjectCommand, 1);
  });

  it('fails on a HEAD error other than not-found instead of guessing', async () => {
    s3.on(HeadObjectCommand).rejects(awsError('Forbidden', 403));
    await expect(publisher().publish(docs)).rejects.toMatchObject({ name: 'Forbidden' });
    expect(s3).not.toReceiveCommand(PutObjectCommand);
  });

  it('refuses an out-of-range max-age', () => {
    expect(() => publisher({ jwksMaxAgeSeconds: -1 })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
  });

  it('normalises prefixes with slashes', () => {
    expect(publicObjectKeys('/a/b/')).toEqual({
      jwks: 'a/b/openid/v1/jwks',
      discovery: 'a/b/.well-known/openid-configuration',
    });
  });
});
