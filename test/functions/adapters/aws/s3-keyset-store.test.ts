import { createHash } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { S3KeysetStore } from '#adapters/aws/s3-keyset-store.ts';
import { isIrsaError } from '#core/errors.ts';
import { emptyKeyset, parseKeyset, serializeKeyset } from '#core/keyset-parse.ts';
import { awsError, body } from './aws-fakes.ts';

const s3 = mockClient(S3Client);
const keyset = emptyKeyset('prod', 'https://oidc.example.com', new Date('2026-01-01T00:00:00Z'));

function store(): S3KeysetStore {
  return new S3KeysetStore({ s3: new S3Client({ region: 'us-east-1' }), bucket: 'state' });
}

beforeEach(() => s3.reset());

describe('S3KeysetStore.read', () => {
  it('returns the parsed keyset with its ETag from keyset.json', async () => {
    s3.on(GetObjectCommand).resolves({ Body: body(serializeKeyset(keyset)), ETag: '"abc"' });
    const read = await store().read();
    expect(read).toEqual({
      keyset,
      version: '"abc"',
      sha256: createHash('sha256').update(serializeKeyset(keyset)).digest('base64'),
    });
    expect(s3).toReceiveCommandWith(GetObjectCommand, {
      Bucket: 'state',
      Key: 'keyset.json',
      ChecksumMode: 'ENABLED',
    });
  });

  it('returns null when the object does not exist (first run)', async () => {
    s3.on(GetObjectCommand).rejects(awsError('NoSuchKey', 404));
    expect(await store().read()).toBeNull();
  });

  it('throws KEYSET_CORRUPT for a document that does not parse, and never writes', async () => {
    s3.on(GetObjectCommand).resolves({ Body: body('{"version":1,'), ETag: '"abc"' });
    await expect(store().read()).rejects.toMatchObject({ code: 'KEYSET_CORRUPT' });
    expect(s3).not.toReceiveCommand(PutObjectCommand);
  });

  it('rethrows access errors rather than treating them as a missing keyset', async () => {
    s3.on(GetObjectCommand).rejects(awsError('AccessDenied', 403));
    await expect(store().read()).rejects.toMatchObject({ name: 'AccessDenied' });
  });

  it('honours a custom object key', async () => {
    s3.on(GetObjectCommand).rejects(awsError('NoSuchKey', 404));
    await new S3KeysetStore({
      s3: new S3Client({ region: 'us-east-1' }),
      bucket: 'b',
      key: 'x/k.json',
    }).read();
    expect(s3).toReceiveCommandWith(GetObjectCommand, { Bucket: 'b', Key: 'x/k.json' });
  });
});

describe('S3KeysetStore.write', () => {
  it('creates with If-None-Match: * when no version was read', async () => {
    s3.on(PutObjectCommand).resolves({ ETag: '"new"' });
    expect(await store().write(keyset, null)).toBe('"new"');
    expect(s3).toReceiveCommandWith(PutObjectCommand, {
      Bucket: 'state',
      Key: 'keyset.json',
      IfNoneMatch: '*',
      ContentType: 'application/json',
    });
    const sent = s3.commandCalls(PutObjectCommand)[0]?.args[0].input;
    expect(sent?.IfMatch).toBeUndefined();
    expect(parseKeyset(String(sent?.Body))).toEqual(keyset);
  });

  it('replaces with If-Match: <etag read>', async () => {
    s3.on(PutObjectCommand).resolves({ ETag: '"v2"' });
    expect(await store().write(keyset, '"v1"')).toBe('"v2"');
    expect(s3).toReceiveCommandWith(PutObjectCommand, { IfMatch: '"v1"' });
    expect(s3.commandCalls(PutObjectCommand)[0]?.args[0].input.IfNoneMatch).toBeUndefined();
  });

  it.each([
    ['PreconditionFailed', 412],
    ['ConditionalRequestConflict', 409],
  ])('maps %s (%i) to STATE_CONFLICT', async (name, status) => {
    s3.on(PutObjectCommand).rejects(awsError(name, status));
    const error = await store()
      .write(keyset, '"v1"')
      .catch((e: unknown) => e);
    expect(isIrsaError(error, 'STATE_CONFLICT')).toBe(true);
  });

  it('passes other failures through unchanged', async () => {
    s3.on(PutObjectCommand).rejects(awsError('SlowDown', 503));
    await expect(store().write(keyset, null)).rejects.toMatchObject({ name: 'SlowDown' });
  });
});
