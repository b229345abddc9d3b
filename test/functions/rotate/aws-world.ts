/**
 * The rotate and bootstrap handler tests' view of one fake AWS account: a thin layer over the
 * shared stateful fake in test/support/aws-fakes.ts (objects with ETags and conditional writes,
 * KMS keys with real key pairs) that gives the handler one process's clients, a call log, a
 * one-shot fault by call position and a hook before keyset.json writes.
 */
import { expect } from 'vitest';
import type { AwsClients } from '#adapters/compose.ts';
import { type Keyset, PUBLISHED_STATES } from '#core/keyset.ts';
import { parseKeyset } from '#core/keyset-parse.ts';
import { kidFromSpki } from '#core/kid.ts';
import { awsError, FakeAws, type FakeKmsKey, type FakeObject } from '../../support/aws-fakes.ts';

/** One fake AWS account seen by one process: its clients, call log and an optional one-shot fault. */
export class AwsWorld {
  readonly aws = new FakeAws();
  readonly #process = this.aws.process();
  readonly clients: AwsClients = this.#process;
  readonly s3Mock = this.#process.s3Mock;
  readonly kmsMock = this.#process.kmsMock;
  /** Every AWS call the handler made, in order (tests may truncate it). */
  readonly calls = this.#process.calls;
  faultError: () => Error = () => awsError('InternalError', 500, 'injected fault');
  /** Runs just before a keyset.json PutObject is applied (to simulate a concurrent writer). */
  beforeKeysetPut: (() => void) | undefined;

  constructor() {
    this.#process.beforePut = (_bucket, key) => {
      if (key === 'keyset.json') this.beforeKeysetPut?.();
    };
  }

  /** Fail the call with this index in `calls` (once), with `faultError`; undefined once it fired. */
  get failAt(): number | undefined {
    return this.#process.armed;
  }

  set failAt(position: number | undefined) {
    if (position === undefined) this.#process.disarm();
    else this.#process.arm(position, 'error', () => this.faultError());
  }

  get keys(): Map<string, FakeKmsKey> {
    return this.aws.state.keys;
  }

  reset(): void {
    this.aws.restore({ objects: new Map(), keys: new Map(), ciphertexts: new Map() });
    this.s3Mock.resetHistory();
    this.kmsMock.resetHistory();
    this.calls.length = 0;
    this.#process.disarm();
    this.faultError = () => awsError('InternalError', 500, 'injected fault');
    this.beforeKeysetPut = undefined;
  }

  /** Puts an object directly (a concurrent writer, or a corrupted keyset). */
  putRaw(bucket: string, key: string, content: string): void {
    this.aws.putObject(bucket, key, content, { contentType: 'application/json' });
  }

  text(bucket: string, key: string): string | undefined {
    return this.aws.text(bucket, key);
  }

  object(bucket: string, key: string): FakeObject | undefined {
    return this.aws.object(bucket, key);
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
