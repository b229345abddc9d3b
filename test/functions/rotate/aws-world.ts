/**
 * A small stateful fake of the S3 and KMS APIs the Lambdas use, on top of aws-sdk-client-mock:
 * objects with ETags and conditional writes, KMS keys with real key pairs, and fault injection
 * ("fail the n-th AWS call once"). Used by the rotate and bootstrap handler tests.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import {
  CreateKeyCommand,
  DescribeKeyCommand,
  GetPublicKeyCommand,
  KMSClient,
  ScheduleKeyDeletionCommand,
  type Tag,
  TagResourceCommand,
} from '@aws-sdk/client-kms';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { expect } from 'vitest';
import type { AwsClients } from '#adapters/compose.ts';
import { type Keyset, PUBLISHED_STATES } from '#core/keyset.ts';
import { parseKeyset } from '#core/keyset-parse.ts';
import { kidFromSpki } from '#core/kid.ts';
import { awsError, body } from '../adapters/aws/aws-fakes.ts';

interface StoredObject {
  body: Uint8Array;
  etag: string;
  metadata: Record<string, string>;
  cacheControl: string | undefined;
  contentType: string | undefined;
}

interface FakeKey {
  spki: Uint8Array;
  spec: string;
  tags: Record<string, string>;
  state: 'Enabled' | 'PendingDeletion';
  deletionWindow?: number;
}

function bytes(value: unknown): Uint8Array {
  if (typeof value === 'string') return new TextEncoder().encode(value);
  if (value instanceof Uint8Array) return value;
  throw new Error('fake S3 only stores strings and bytes');
}

/** One fake AWS account: buckets, KMS keys, a call log and an optional one-shot fault. */
export class AwsWorld {
  readonly s3Mock = mockClient(S3Client);
  readonly kmsMock = mockClient(KMSClient);
  readonly clients: AwsClients = {
    s3: new S3Client({ region: 'us-east-1' }),
    kms: new KMSClient({ region: 'us-east-1' }),
  };
  readonly objects = new Map<string, StoredObject>();
  readonly keys = new Map<string, FakeKey>();
  readonly calls: string[] = [];
  /** Fail the call with this index in `calls` (once), with `faultError`. */
  failAt: number | undefined;
  faultError: () => Error = () => awsError('InternalError', 500, 'injected fault');
  /** Runs just before a keyset.json PutObject is applied (to simulate a concurrent writer). */
  beforeKeysetPut: (() => void) | undefined;
  #etag = 0;

  constructor() {
    this.reset();
  }

  reset(): void {
    this.s3Mock.reset();
    this.kmsMock.reset();
    this.objects.clear();
    this.keys.clear();
    this.calls.length = 0;
    this.failAt = undefined;
    this.beforeKeysetPut = undefined;
    this.#install();
  }

  #gate(name: string): void {
    this.calls.push(name);
    if (this.failAt !== undefined && this.calls.length - 1 === this.failAt) {
      this.failAt = undefined;
      throw this.faultError();
    }
  }

  /** Puts an object directly (a concurrent writer, or a corrupted keyset). */
  putRaw(bucket: string, key: string, content: string): void {
    this.#etag += 1;
    this.objects.set(`${bucket}/${key}`, {
      body: bytes(content),
      etag: `"e${this.#etag}"`,
      metadata: {},
      cacheControl: undefined,
      contentType: 'application/json',
    });
  }

  text(bucket: string, key: string): string | undefined {
    const object = this.objects.get(`${bucket}/${key}`);
    return object === undefined ? undefined : new TextDecoder().decode(object.body);
  }

  object(bucket: string, key: string): StoredObject | undefined {
    return this.objects.get(`${bucket}/${key}`);
  }

  #install(): void {
    const notFound = () => awsError('NoSuchKey', 404);
    this.s3Mock.on(GetObjectCommand).callsFake(async (input) => {
      this.#gate('s3:GetObject');
      const object = this.objects.get(`${input.Bucket}/${input.Key}`);
      if (object === undefined) throw notFound();
      return { Body: body(object.body), ETag: object.etag };
    });
    this.s3Mock.on(HeadObjectCommand).callsFake(async (input) => {
      this.#gate('s3:HeadObject');
      const object = this.objects.get(`${input.Bucket}/${input.Key}`);
      if (object === undefined) throw awsError('NotFound', 404);
      return { ETag: object.etag, Metadata: object.metadata, CacheControl: object.cacheControl };
    });
    this.s3Mock.on(PutObjectCommand).callsFake(async (input) => {
      this.#gate('s3:PutObject');
      const id = `${input.Bucket}/${input.Key}`;
      if (input.Key === 'keyset.json') this.beforeKeysetPut?.();
      const existing = this.objects.get(id);
      if (input.IfNoneMatch === '*' && existing !== undefined) throw awsError('PreconditionFailed', 412);
      if (input.IfMatch !== undefined && existing?.etag !== input.IfMatch)
        throw awsError('PreconditionFailed', 412);
      this.#etag += 1;
      const etag = `"e${this.#etag}"`;
      this.objects.set(id, {
        body: bytes(input.Body),
        etag,
        metadata: { ...(input.Metadata ?? {}) },
        cacheControl: input.CacheControl,
        contentType: input.ContentType,
      });
      return { ETag: etag };
    });
    this.s3Mock.on(DeleteObjectCommand).callsFake(async (input) => {
      this.#gate('s3:DeleteObject');
      this.objects.delete(`${input.Bucket}/${input.Key}`);
      return {};
    });
    this.kmsMock.on(CreateKeyCommand).callsFake(async (input) => {
      this.#gate('kms:CreateKey');
      const spec = input.KeySpec ?? 'SYMMETRIC_DEFAULT';
      const pair =
        spec === 'RSA_2048'
          ? generateKeyPairSync('rsa', { modulusLength: 2048 })
          : generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const keyId = randomUUID();
      const tags = Object.fromEntries((input.Tags ?? []).map((t: Tag) => [t.TagKey ?? '', t.TagValue ?? '']));
      const spki = new Uint8Array(pair.publicKey.export({ format: 'der', type: 'spki' }));
      this.keys.set(keyId, { spki, spec, tags, state: 'Enabled' });
      return { KeyMetadata: { KeyId: keyId, Arn: `arn:aws:kms:us-east-1:111122223333:key/${keyId}` } };
    });
    const key = (id: string | undefined): FakeKey => {
      const found = id === undefined ? undefined : this.keys.get(id);
      if (found === undefined) throw awsError('NotFoundException', 400);
      return found;
    };
    this.kmsMock.on(GetPublicKeyCommand).callsFake(async (input) => {
      this.#gate('kms:GetPublicKey');
      const found = key(input.KeyId);
      return { PublicKey: found.spki, KeySpec: found.spec };
    });
    this.kmsMock.on(TagResourceCommand).callsFake(async (input) => {
      this.#gate('kms:TagResource');
      const found = key(input.KeyId);
      for (const tag of input.Tags ?? []) found.tags[tag.TagKey ?? ''] = tag.TagValue ?? '';
      return {};
    });
    this.kmsMock.on(ScheduleKeyDeletionCommand).callsFake(async (input) => {
      this.#gate('kms:ScheduleKeyDeletion');
      const found = key(input.KeyId);
      if (found.state === 'PendingDeletion') throw awsError('KMSInvalidStateException', 400);
      found.state = 'PendingDeletion';
      found.deletionWindow = input.PendingWindowInDays;
      return {};
    });
    this.kmsMock.on(DescribeKeyCommand).callsFake(async (input) => {
      this.#gate('kms:DescribeKey');
      return { KeyMetadata: { KeyId: input.KeyId, KeyState: key(input.KeyId).state } };
    });
  }

  /** Calls whose name starts with one of the prefixes. */
  count(...names: string[]): number {
    return this.calls.filter((call) => names.includes(call)).length;
  }

  /**
   * The invariants that must hold after any successful run: keyset parses, exactly one active
   * key, the published JWKS holds exactly the published-state keys, and every published kid is
   * base64url(SHA-256(SPKI)) of the public key KMS holds for it.
   */
  assertConsistent(bucket: { state: string; public: string; prefix?: string }, issuer: string): Keyset {
    const text = this.text(bucket.state, 'keyset.json');
    expect(text).toBeDefined();
    const keyset = parseKeyset(text ?? '');
    const active = keyset.keys.filter((k) => k.state === 'active');
    expect(active).toHaveLength(1);
    const base = bucket.prefix === undefined || bucket.prefix === '' ? '' : `${bucket.prefix}/`;
    const jwks = JSON.parse(this.text(bucket.public, `${base}openid/v1/jwks`) ?? 'null') as {
      keys: Array<{ kid: string }>;
    };
    const discovery = JSON.parse(
      this.text(bucket.public, `${base}.well-known/openid-configuration`) ?? 'null',
    ) as {
      issuer: string;
      jwks_uri: string;
    };
    expect(discovery.issuer).toBe(issuer);
    expect(discovery.jwks_uri).toBe(`${issuer}/openid/v1/jwks`);
    const expected = keyset.keys.filter((k) => PUBLISHED_STATES.has(k.state)).map((k) => k.kid);
    expect(jwks.keys.map((k) => k.kid).sort()).toEqual([...expected].sort());
    for (const record of keyset.keys) {
      if (record.location.type !== 'kms' || !PUBLISHED_STATES.has(record.state)) continue;
      const kmsKey = this.keys.get(record.location.keyId);
      expect(kmsKey?.state).toBe('Enabled');
      expect(kidFromSpki(kmsKey?.spki ?? new Uint8Array())).toBe(record.kid);
    }
    return keyset;
  }
}

/** A minimal Lambda context. */
export function lambdaContext(remainingMs = 60_000): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'irsa-anywhere-test-rotate',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:111122223333:function:irsa-anywhere-test-rotate',
    memoryLimitInMB: '256',
    awsRequestId: randomUUID(),
    logGroupName: '/aws/lambda/irsa-anywhere-test-rotate',
    logStreamName: 'stream',
    getRemainingTimeInMillis: () => remainingMs,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
