import { createHash } from 'node:crypto';
import { CopyObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { JOURNAL_METADATA_KEY, publicObjectKeys, S3Publisher } from '#adapters/aws/s3-publisher.ts';
import { awsError } from './aws-fakes.ts';

const s3 = mockClient(S3Client);
const docs = { jwks: '{"keys":[]}', discovery: '{"issuer":"https://x"}' };
const sha = (text: string) => createHash('sha256').update(text).digest('base64');
const JWKS = 'openid/v1/jwks';
const DISCOVERY = '.well-known/openid-configuration';

function publisher(options: { prefix?: string; jwksMaxAgeSeconds?: number } = {}): S3Publisher {
  return new S3Publisher({ s3: new S3Client({ region: 'us-east-1' }), bucket: 'public', ...options });
}

beforeEach(() => s3.reset());

describe('S3Publisher', () => {
  it('inspects both documents with ChecksumMode: ETag, S3 checksum and the keyset journal', async () => {
    s3.on(HeadObjectCommand, { Key: JWKS })
      .resolves({ ETag: '"j"', ChecksumSHA256: sha(docs.jwks), Metadata: { sha256: 'forged' } })
      .on(HeadObjectCommand, { Key: DISCOVERY })
      .resolves({ ETag: '"d"', Metadata: { [JOURNAL_METADATA_KEY]: 'journal' } });
    expect(await publisher().inspect()).toEqual({
      jwks: { etag: '"j"', sha256: sha(docs.jwks) },
      // Written without a checksum: no digest, so it never matches (user metadata is ignored).
      discovery: { etag: '"d"' },
      keysetJournal: 'journal',
    });
    expect(s3).toReceiveCommandWith(HeadObjectCommand, { Key: JWKS, ChecksumMode: 'ENABLED' });
  });

  it('writes the JWKS before the discovery document, with a SHA-256 checksum and If-None-Match when absent', async () => {
    s3.on(HeadObjectCommand).rejects(awsError('NotFound', 404));
    s3.on(PutObjectCommand).resolves({ ETag: '"new"' });
    const result = await publisher().publish(docs);
    expect(result.changed).toBe(true);
    expect(result.live.jwks).toEqual({ etag: '"new"', sha256: sha(docs.jwks) });
    const puts = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    expect(puts.map((p) => p.Key)).toEqual([JWKS, DISCOVERY]);
    expect(puts[0]).toMatchObject({
      Bucket: 'public',
      Body: docs.jwks,
      ContentType: 'application/json',
      CacheControl: 'public, max-age=300',
      ChecksumAlgorithm: 'SHA256',
      IfNoneMatch: '*',
    });
    expect(puts[0]?.Metadata).toBeUndefined();
  });

  it('skips both writes when the S3 checksums match the new bytes', async () => {
    const expected = {
      jwks: { etag: '"j"', sha256: sha(docs.jwks) },
      discovery: { etag: '"d"', sha256: sha(docs.discovery) },
    };
    const result = await publisher().publish(docs, expected);
    expect(result).toEqual({ changed: false, live: expected });
    expect(s3).not.toReceiveCommand(PutObjectCommand);
  });

  it('rewrites only the document whose bytes changed, conditional on the ETag seen', async () => {
    s3.on(PutObjectCommand).resolves({ ETag: '"j2"' });
    const expected = {
      jwks: { etag: '"j"', sha256: sha('old') },
      discovery: { etag: '"d"', sha256: sha(docs.discovery) },
    };
    expect((await publisher().publish(docs, expected)).changed).toBe(true);
    expect(s3).toReceiveCommandTimes(PutObjectCommand, 1);
    expect(s3).toReceiveCommandWith(PutObjectCommand, { Key: JWKS, IfMatch: '"j"' });
  });

  it('a document changed since it was seen is PUBLISH_CONFLICT, and discovery is not written', async () => {
    s3.on(PutObjectCommand).rejects(awsError('PreconditionFailed', 412));
    const expected = { jwks: { etag: '"j"' }, discovery: { etag: '"d"' } };
    await expect(publisher().publish(docs, expected)).rejects.toMatchObject({ code: 'PUBLISH_CONFLICT' });
    expect(s3).toReceiveCommandTimes(PutObjectCommand, 1);
  });

  it('records the keyset journal on the discovery object: a copy onto itself, conditional on its ETag', async () => {
    s3.on(CopyObjectCommand).resolves({
      CopyObjectResult: { ETag: '"d"', ChecksumSHA256: sha(docs.discovery) },
    });
    const expected = { jwks: { etag: '"j"' }, discovery: { etag: '"d"', sha256: sha(docs.discovery) } };
    const live = await publisher({ prefix: 'team-a' }).recordKeysetJournal('digest', expected);
    expect(live.keysetJournal).toBe('digest');
    expect(s3).toReceiveCommandWith(CopyObjectCommand, {
      Bucket: 'public',
      Key: `team-a/${DISCOVERY}`,
      CopySource: `public/team-a/${DISCOVERY}`,
      CopySourceIfMatch: '"d"',
      MetadataDirective: 'REPLACE',
      Metadata: { [JOURNAL_METADATA_KEY]: 'digest' },
      CacheControl: 'public, max-age=300',
      ChecksumAlgorithm: 'SHA256',
    });
  });

  it('puts the documents below the issuer path prefix', async () => {
    s3.on(HeadObjectCommand).rejects(awsError('NotFound', 404));
    s3.on(PutObjectCommand).resolves({ ETag: '"e"' });
    await publisher({ prefix: 'team-a' }).publish(docs);
    const keys = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Key);
    expect(keys).toEqual([`team-a/${JWKS}`, `team-a/${DISCOVERY}`]);
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
