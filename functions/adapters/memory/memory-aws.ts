/**
 * The in-memory AWS adapter: a stateful stand-in for the S3 and KMS calls the rotate path makes,
 * kept beside the real adapters (as pod-identity-webhook keeps a fake beside each cache) for the
 * steady-state benchmark and for crash and fault injection in tests. Real SDK clients are used;
 * a middleware at the `initialize` step answers each command from memory, so nothing reaches the
 * network and no mocking library is needed. S3 objects carry MD5 ETags (as real S3 does) and honour `If-Match` /
 * `If-None-Match: *`; KMS asymmetric keys are real node:crypto key pairs with states; Encrypt and
 * Decrypt enforce the encryption context. Each "process" gets its own mocked clients over the
 * shared state, so one process can die or stall while another runs, and faults are armed per
 * process by call position. test/support/aws-fakes.ts adds aws-sdk-client-mock call history.
 */
import { createHash, generateKeyPairSync, type KeyObject, randomBytes, randomUUID } from 'node:crypto';
import {
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GetKeyPolicyCommand,
  GetPublicKeyCommand,
  KMSClient,
  ListKeysCommand,
  ListResourceTagsCommand,
  PutKeyPolicyCommand,
  ScheduleKeyDeletionCommand,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-kms';
import {
  GetResourcesCommand,
  ResourceGroupsTaggingAPIClient,
} from '@aws-sdk/client-resource-groups-tagging-api';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { KeySpec } from '#core/keyset.ts';
import { answerFromMemory, CommandRouter } from './command-router.ts';
import { awsError, body } from './sdk-shapes.ts';

export { awsError, body };

/** What KMS puts on a key created without a policy: the account root may do anything. */
export const DEFAULT_KEY_POLICY = {
  Version: '2012-10-17',
  Id: 'key-default-1',
  Statement: [
    {
      Sid: 'Enable IAM User Permissions',
      Effect: 'Allow',
      Principal: { AWS: 'arn:aws:iam::111122223333:root' },
      Action: 'kms:*',
      Resource: '*',
    },
  ],
};

/** How a call fails. `timeout-after` and `death` happen after the call took effect. */
export type FaultKind = 'error' | 'timeout-before' | 'timeout-after' | 'death';

/** Thrown into a process that "died": it never hears back, and makes no further calls. */
export class ProcessDeath extends Error {
  constructor(readonly position: number) {
    super(`injected process death after call ${position}`);
  }
}

/** A stored object. */
export interface FakeObject {
  body: Uint8Array;
  etag: string;
  metadata: Record<string, string>;
  cacheControl: string | undefined;
  contentType: string | undefined;
  /** The SHA-256 S3 computed (base64), when the writer asked for one (`ChecksumAlgorithm: SHA256`). */
  checksumSha256?: string;
}

/** A KMS key: asymmetric (with a real key pair) or symmetric (a wrapping key). */
export interface FakeKmsKey {
  spec: string;
  state: 'Enabled' | 'PendingDeletion';
  tags: Record<string, string>;
  privateKey?: KeyObject;
  spki?: Uint8Array;
  /** PendingWindowInDays of the ScheduleKeyDeletion call, once scheduled. */
  deletionWindow?: number;
  /** The key policy (JSON) given at CreateKey or PutKeyPolicy; undefined = the KMS default policy. */
  policy?: string;
  /** The Description given at CreateKey. */
  description?: string;
  /** When CreateKey ran (wall clock of the test process). */
  creationDate?: Date;
}

interface Ciphertext {
  keyId: string;
  context: Record<string, string>;
  plaintext: Uint8Array;
}

/** The shared state of one fake account. */
interface State {
  objects: Map<string, FakeObject>;
  keys: Map<string, FakeKmsKey>;
  ciphertexts: Map<string, Ciphertext>;
}

function cloneState(state: State): State {
  return {
    objects: new Map([...state.objects].map(([id, o]) => [id, { ...o, metadata: { ...o.metadata } }])),
    keys: new Map([...state.keys].map(([id, k]) => [id, { ...k, tags: { ...k.tags } }])),
    ciphertexts: new Map(state.ciphertexts),
  };
}

function bytes(value: unknown): Uint8Array {
  if (typeof value === 'string') return new TextEncoder().encode(value);
  if (value instanceof Uint8Array) return value;
  throw new Error('the fake S3 stores strings and bytes only');
}

/** One fake AWS account shared by any number of processes. */
export class FakeAws {
  state: State = { objects: new Map(), keys: new Map(), ciphertexts: new Map() };

  /** Copies the whole account state (to restore a scenario's starting point). */
  snapshot(): State {
    return cloneState(this.state);
  }

  restore(snapshot: State): void {
    this.state = cloneState(snapshot);
  }

  /** Creates the symmetric wrapping key (file mode) and returns its id. */
  createWrappingKey(): string {
    const keyId = randomUUID();
    this.state.keys.set(keyId, { spec: 'SYMMETRIC_DEFAULT', state: 'Enabled', tags: {} });
    return keyId;
  }

  /** Adds an asymmetric signing key directly (another team's key, or one of an older release). */
  addSigningKey(options: { spec?: KeySpec; tags: Record<string, string>; policy?: string }): string {
    const spec = options.spec ?? 'ECC_NIST_P256';
    const pair =
      spec === 'RSA_2048'
        ? generateKeyPairSync('rsa', { modulusLength: 2048 })
        : generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const keyId = randomUUID();
    this.state.keys.set(keyId, {
      spec,
      state: 'Enabled',
      tags: { ...options.tags },
      privateKey: pair.privateKey,
      spki: new Uint8Array(pair.publicKey.export({ format: 'der', type: 'spki' })),
      ...(options.policy === undefined ? {} : { policy: options.policy }),
    });
    return keyId;
  }

  object(bucket: string, key: string): FakeObject | undefined {
    return this.state.objects.get(`${bucket}/${key}`);
  }

  text(bucket: string, key: string): string | undefined {
    const object = this.object(bucket, key);
    return object === undefined ? undefined : new TextDecoder().decode(object.body);
  }

  /** Writes an object directly, outside any process (a concurrent writer, or a corrupted file). */
  putObject(
    bucket: string,
    key: string,
    content: string | Uint8Array,
    options: {
      metadata?: Record<string, string>;
      cacheControl?: string;
      contentType?: string;
      /** Ask "S3" to compute and keep the body's SHA-256, as `ChecksumAlgorithm: SHA256` does. */
      checksumSha256?: boolean;
    } = {},
  ): string {
    const body = bytes(content);
    const etag = `"${createHash('md5').update(body).digest('hex')}"`;
    this.state.objects.set(`${bucket}/${key}`, {
      body,
      etag,
      metadata: { ...(options.metadata ?? {}) },
      cacheControl: options.cacheControl,
      contentType: options.contentType,
      ...(options.checksumSha256 === true
        ? { checksumSha256: createHash('sha256').update(body).digest('base64') }
        : {}),
    });
    return etag;
  }

  /** Every private key this account holds or has wrapped, as PKCS#8 DER (to scan logs for them). */
  privateKeys(): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const key of this.state.keys.values()) {
      if (key.privateKey !== undefined)
        out.push(new Uint8Array(key.privateKey.export({ type: 'pkcs8', format: 'der' })));
    }
    for (const entry of this.state.ciphertexts.values()) out.push(entry.plaintext);
    return out;
  }

  /** Decrypts a stored ciphertext the way KMS would, checking key and context. */
  decrypt(blob: Uint8Array, keyId: string, context: Record<string, string>): Uint8Array {
    const entry = this.state.ciphertexts.get(Buffer.from(blob).toString('hex'));
    if (entry === undefined || entry.keyId !== keyId) throw awsError('InvalidCiphertextException', 400);
    const a = JSON.stringify(Object.entries(entry.context).sort());
    const b = JSON.stringify(Object.entries(context).sort());
    if (a !== b) throw awsError('InvalidCiphertextException', 400);
    return entry.plaintext;
  }

  /** A process: its own S3 and KMS clients over this account, with an optional fault. */
  process(): FakeProcess {
    return new FakeProcess(this);
  }
}

/** One process's clients, call log and fault plan. */
export class FakeProcess {
  readonly s3 = new S3Client({
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
  });
  readonly kms = new KMSClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
  });
  /** The single-attempt CreateKey client of `createAwsClients`: here the same in-memory client. */
  readonly kmsCreate = this.kms;
  readonly tagging = new ResourceGroupsTaggingAPIClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
  });
  /** The in-memory answer to each S3, KMS and tagging command (also used to drive client mocks in tests). */
  readonly s3Router = new CommandRouter();
  readonly kmsRouter = new CommandRouter();
  readonly taggingRouter = new CommandRouter();
  readonly calls: string[] = [];
  /** Set when the process died: later calls never reach AWS. */
  dead = false;
  /** Runs inside every PutObject, before its conditions are checked (to simulate a concurrent writer). */
  beforePut: ((bucket: string, key: string) => void) | undefined;
  #fault: { position: number; kind: FaultKind; error: (() => Error) | undefined } | undefined;
  #pause: { position: number; until: Promise<void>; reached: () => void } | undefined;

  constructor(private readonly aws: FakeAws) {
    this.#install();
    answerFromMemory(this.s3, this.s3Router);
    answerFromMemory(this.kms, this.kmsRouter);
    answerFromMemory(this.tagging, this.taggingRouter);
  }

  /**
   * Fails call number `position` (0-based in `calls`) once, in the way `kind` says; an `error`
   * fault throws `error()` when given (an SDK-shaped InternalError otherwise).
   */
  arm(position: number, kind: FaultKind, error?: () => Error): void {
    this.#fault = { position, kind, error };
  }

  /** The position of the armed fault that has not fired yet, if any. */
  get armed(): number | undefined {
    return this.#fault?.position;
  }

  disarm(): void {
    this.#fault = undefined;
  }

  /**
   * Stalls this process right after call `position` took effect, until `until` resolves.
   * Returns a promise that resolves when the stall begins.
   */
  pauseAfter(position: number, until: Promise<void>): Promise<void> {
    return new Promise((resolve) => {
      this.#pause = { position, until, reached: resolve };
    });
  }

  async #call<T>(name: string, effect: () => T): Promise<T> {
    if (this.dead) throw new ProcessDeath(-1);
    const position = this.calls.length;
    this.calls.push(name);
    const armed = this.#fault?.position === position ? this.#fault : undefined;
    if (armed !== undefined) this.#fault = undefined;
    const fault = armed?.kind;
    if (fault === 'error') throw armed?.error?.() ?? awsError('InternalError', 500, 'injected service error');
    if (fault === 'timeout-before')
      throw Object.assign(new Error('injected timeout (request not applied)'), { name: 'TimeoutError' });
    const result = effect();
    if (fault === 'timeout-after')
      throw Object.assign(new Error('injected timeout (request applied)'), { name: 'TimeoutError' });
    if (fault === 'death') {
      this.dead = true;
      throw new ProcessDeath(position);
    }
    const pause = this.#pause;
    if (pause?.position === position) {
      this.#pause = undefined;
      pause.reached();
      await pause.until;
    }
    return result;
  }

  #install(): void {
    const aws = this.aws;
    const s3 = this.s3Router;
    const kms = this.kmsRouter;
    const objects = () => aws.state.objects;
    const keys = () => aws.state.keys;
    s3.on(GetObjectCommand).callsFake((input) =>
      this.#call('s3:GetObject', () => {
        const object = objects().get(`${input.Bucket}/${input.Key}`);
        if (object === undefined) throw awsError('NoSuchKey', 404);
        const checksum = input.ChecksumMode === 'ENABLED' ? object.checksumSha256 : undefined;
        return {
          Body: body(object.body),
          ETag: object.etag,
          ...(checksum === undefined ? {} : { ChecksumSHA256: checksum }),
        };
      }),
    );
    s3.on(HeadObjectCommand).callsFake((input) =>
      this.#call('s3:HeadObject', () => {
        const object = objects().get(`${input.Bucket}/${input.Key}`);
        if (object === undefined) throw awsError('NotFound', 404);
        const checksum = input.ChecksumMode === 'ENABLED' ? object.checksumSha256 : undefined;
        return {
          ETag: object.etag,
          Metadata: { ...object.metadata },
          CacheControl: object.cacheControl,
          ...(checksum === undefined ? {} : { ChecksumSHA256: checksum }),
        };
      }),
    );
    s3.on(CopyObjectCommand).callsFake((input) =>
      this.#call('s3:CopyObject', () => {
        const source = decodeURIComponent(input.CopySource ?? '');
        const object = objects().get(source);
        if (object === undefined) throw awsError('NoSuchKey', 404);
        if (input.CopySourceIfMatch !== undefined && object.etag !== input.CopySourceIfMatch)
          throw awsError('PreconditionFailed', 412);
        const replace = input.MetadataDirective === 'REPLACE';
        const etag = aws.putObject(input.Bucket ?? '', input.Key ?? '', object.body, {
          metadata: replace ? (input.Metadata ?? {}) : object.metadata,
          cacheControl: replace ? input.CacheControl : object.cacheControl,
          contentType: replace ? input.ContentType : object.contentType,
          checksumSha256: input.ChecksumAlgorithm === 'SHA256' || object.checksumSha256 !== undefined,
        });
        const copied = objects().get(`${input.Bucket}/${input.Key}`);
        return {
          CopyObjectResult: {
            ETag: etag,
            ...(copied?.checksumSha256 === undefined ? {} : { ChecksumSHA256: copied.checksumSha256 }),
          },
        };
      }),
    );
    s3.on(ListObjectsV2Command).callsFake((input) =>
      this.#call('s3:ListObjectsV2', () => {
        const prefix = `${input.Bucket}/${input.Prefix ?? ''}`;
        const keys = [...objects().keys()]
          .filter((id) => id.startsWith(prefix))
          .sort()
          .map((id) => ({ Key: id.slice(`${input.Bucket}/`.length) }));
        return { Contents: keys, IsTruncated: false, KeyCount: keys.length };
      }),
    );
    s3.on(PutObjectCommand).callsFake((input) =>
      this.#call('s3:PutObject', () => {
        this.beforePut?.(input.Bucket ?? '', input.Key ?? '');
        const existing = objects().get(`${input.Bucket}/${input.Key}`);
        if (input.IfNoneMatch === '*' && existing !== undefined) throw awsError('PreconditionFailed', 412);
        if (input.IfMatch !== undefined && existing?.etag !== input.IfMatch)
          throw awsError('PreconditionFailed', 412);
        const sent = bytes(input.Body);
        const sha256 = createHash('sha256').update(sent).digest('base64');
        if (input.ChecksumSHA256 !== undefined && input.ChecksumSHA256 !== sha256)
          throw awsError('BadDigest', 400);
        const checksumSha256 = input.ChecksumAlgorithm === 'SHA256' || input.ChecksumSHA256 !== undefined;
        const etag = aws.putObject(input.Bucket ?? '', input.Key ?? '', sent, {
          metadata: input.Metadata,
          cacheControl: input.CacheControl,
          contentType: input.ContentType,
          checksumSha256,
        });
        return { ETag: etag, ...(checksumSha256 ? { ChecksumSHA256: sha256 } : {}) };
      }),
    );
    s3.on(DeleteObjectCommand).callsFake((input) =>
      this.#call('s3:DeleteObject', () => {
        objects().delete(`${input.Bucket}/${input.Key}`);
        return {};
      }),
    );
    const key = (id: string | undefined): FakeKmsKey => {
      const found = id === undefined ? undefined : keys().get(id);
      if (found === undefined) throw awsError('NotFoundException', 400);
      return found;
    };
    kms.on(CreateKeyCommand).callsFake((input) =>
      this.#call('kms:CreateKey', () => {
        const spec = input.KeySpec ?? 'SYMMETRIC_DEFAULT';
        const pair =
          spec === 'RSA_2048'
            ? generateKeyPairSync('rsa', { modulusLength: 2048 })
            : generateKeyPairSync('ec', { namedCurve: 'P-256' });
        const keyId = randomUUID();
        const tags = Object.fromEntries(
          (input.Tags ?? []).map((t: { TagKey?: string; TagValue?: string }) => [
            t.TagKey ?? '',
            t.TagValue ?? '',
          ]),
        );
        const spki = new Uint8Array(pair.publicKey.export({ format: 'der', type: 'spki' }));
        keys().set(keyId, {
          spec,
          state: 'Enabled',
          tags,
          privateKey: pair.privateKey,
          spki,
          ...(input.Policy === undefined ? {} : { policy: input.Policy }),
          ...(input.Description === undefined ? {} : { description: input.Description }),
          creationDate: new Date(),
        });
        return { KeyMetadata: { KeyId: keyId, Arn: `arn:aws:kms:us-east-1:111122223333:key/${keyId}` } };
      }),
    );
    kms.on(GetPublicKeyCommand).callsFake((input) =>
      this.#call('kms:GetPublicKey', () => {
        const found = key(input.KeyId);
        if (found.state !== 'Enabled') throw awsError('KMSInvalidStateException', 400);
        return { PublicKey: found.spki, KeySpec: found.spec };
      }),
    );
    kms.on(TagResourceCommand).callsFake((input) =>
      this.#call('kms:TagResource', () => {
        const found = key(input.KeyId);
        for (const tag of input.Tags ?? []) found.tags[tag.TagKey ?? ''] = tag.TagValue ?? '';
        return {};
      }),
    );
    kms.on(UntagResourceCommand).callsFake((input) =>
      this.#call('kms:UntagResource', () => {
        const found = key(input.KeyId);
        for (const tagKey of input.TagKeys ?? []) delete found.tags[tagKey];
        return {};
      }),
    );
    kms.on(ListResourceTagsCommand).callsFake((input) =>
      this.#call('kms:ListResourceTags', () => ({
        Tags: Object.entries(key(input.KeyId).tags).map(([TagKey, TagValue]) => ({ TagKey, TagValue })),
        Truncated: false,
      })),
    );
    kms.on(GetKeyPolicyCommand).callsFake((input) =>
      this.#call('kms:GetKeyPolicy', () => ({
        Policy: key(input.KeyId).policy ?? JSON.stringify(DEFAULT_KEY_POLICY),
        PolicyName: 'default',
      })),
    );
    kms.on(PutKeyPolicyCommand).callsFake((input) =>
      this.#call('kms:PutKeyPolicy', () => {
        const found = key(input.KeyId);
        found.policy = input.Policy;
        return {};
      }),
    );
    kms.on(ScheduleKeyDeletionCommand).callsFake((input) =>
      this.#call('kms:ScheduleKeyDeletion', () => {
        const found = key(input.KeyId);
        if (found.state === 'PendingDeletion') throw awsError('KMSInvalidStateException', 400);
        found.state = 'PendingDeletion';
        found.deletionWindow = input.PendingWindowInDays;
        return { KeyId: input.KeyId };
      }),
    );
    kms.on(DescribeKeyCommand).callsFake((input) =>
      this.#call('kms:DescribeKey', () => ({
        KeyMetadata: {
          KeyId: input.KeyId,
          KeyState: key(input.KeyId).state,
          Description: key(input.KeyId).description,
          CreationDate: key(input.KeyId).creationDate,
        },
      })),
    );
    kms.on(ListKeysCommand).callsFake(() =>
      this.#call('kms:ListKeys', () => ({
        Keys: [...keys().keys()].map((keyId) => ({
          KeyId: keyId,
          KeyArn: `arn:aws:kms:us-east-1:111122223333:key/${keyId}`,
        })),
        Truncated: false,
      })),
    );
    kms.on(EncryptCommand).callsFake((input) =>
      this.#call('kms:Encrypt', () => {
        const found = key(input.KeyId);
        if (found.spec !== 'SYMMETRIC_DEFAULT' || found.state !== 'Enabled')
          throw awsError('KMSInvalidStateException', 400);
        const blob = randomBytes(48);
        aws.state.ciphertexts.set(blob.toString('hex'), {
          keyId: input.KeyId ?? '',
          context: { ...(input.EncryptionContext ?? {}) },
          plaintext: new Uint8Array(input.Plaintext ?? new Uint8Array()),
        });
        return { CiphertextBlob: new Uint8Array(blob), KeyId: input.KeyId };
      }),
    );
    this.taggingRouter.on(GetResourcesCommand).callsFake((input) =>
      this.#call('tag:GetResources', () => {
        const filters = input.TagFilters ?? [];
        const list = [...keys()]
          .filter(([, found]) =>
            filters.every((filter: { Key?: string; Values?: string[] }) => {
              const value = found.tags[filter.Key ?? ''];
              return value !== undefined && (filter.Values === undefined || filter.Values.includes(value));
            }),
          )
          .map(([keyId, found]) => ({
            ResourceARN: `arn:aws:kms:us-east-1:111122223333:key/${keyId}`,
            Tags: Object.entries(found.tags).map(([Key, Value]) => ({ Key, Value })),
          }));
        return { ResourceTagMappingList: list, PaginationToken: '' };
      }),
    );
    kms.on(DecryptCommand).callsFake((input) =>
      this.#call('kms:Decrypt', () => ({
        Plaintext: aws.decrypt(
          input.CiphertextBlob ?? new Uint8Array(),
          input.KeyId ?? '',
          input.EncryptionContext ?? {},
        ),
        KeyId: input.KeyId,
      })),
    );
  }
}
