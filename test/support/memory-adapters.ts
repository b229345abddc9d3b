/**
 * In-memory implementations of the core ports, for tests, the rotation simulation and benchmarks.
 * They behave like the real adapters where it matters:
 * - {@link MemoryKeysetStore} stores the serialised text and parses it on every read (so every
 *   write round-trips through `serializeKeyset`/`parseKeyset`), and enforces compare-and-swap with
 *   opaque version strings (`"v1"`, `"v2"`, …) exactly like S3 `If-Match` / `If-None-Match: *`.
 * - {@link MemoryKeyBackend} generates real key pairs with node:crypto (RSA 2048, EC P-256), can
 *   sign with them (it is also a SigningBackend), and refuses to sign with a destroyed key.
 * - {@link MemoryPublisher} records every publish with its parsed JWKS and kids.
 * Every adapter counts its calls (`calls`) and accepts a {@link PortHook} that runs before and
 * after each call: throw from it to simulate a crash (before: the call never happened; after: it
 * happened but the caller never heard back). {@link crashAtCall} builds such a hook.
 * Test-only: production code must never import this file.
 */
import { createHash, createPublicKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { IrsaError } from '#core/errors.ts';
import type { Jwks } from '#core/jwks.ts';
import type { KeyLocation, KeyRecord, KeySpec, KeyState, Keyset } from '#core/keyset.ts';
import { ALG_FOR_SPEC } from '#core/keyset.ts';
import { parseKeyset, serializeKeyset } from '#core/keyset-parse.ts';
import { kidFromSpki } from '#core/kid.ts';
import type {
  CreatedKey,
  CreateOptions,
  FoundKey,
  KeyBackend,
  KeysetStore,
  KeyToDestroy,
  LiveDocument,
  LiveDocuments,
  PublicDocuments,
  Publisher,
  SigningBackend,
  VersionedKeyset,
} from '#core/ports.ts';

/** One port call as seen by a {@link PortHook}. */
export interface PortCall {
  port: 'store' | 'keys' | 'publisher';
  op: 'read' | 'write' | 'create' | 'label' | 'destroy' | 'sign' | 'publish';
  phase: 'before' | 'after';
  /** The key concerned, for `label`, `destroy`, `sign` (and `create` after the fact). */
  kid?: string;
}

/** Runs around every port call; throw from it to inject a failure. */
export type PortHook = (call: PortCall) => void;

/** The error {@link crashAtCall} throws, so tests can tell injected crashes from real failures. */
export class InjectedCrash extends Error {
  constructor(readonly call: PortCall) {
    super(`injected crash ${call.phase} ${call.port}.${call.op}`);
  }
}

/**
 * A hook that throws {@link InjectedCrash} at the `n`-th hook event (1-based, counting `before`
 * and `after` events of every port sharing the hook) and never again. `fired()` says whether it did.
 */
export function crashAtCall(n: number): PortHook & { fired(): boolean } {
  let count = 0;
  let fired = false;
  const hook = (call: PortCall): void => {
    count += 1;
    if (count === n) {
      fired = true;
      throw new InjectedCrash(call);
    }
  };
  return Object.assign(hook, { fired: () => fired });
}

/** A KeysetStore held in memory with real compare-and-swap semantics. */
export class MemoryKeysetStore implements KeysetStore {
  /** Calls made, and writes refused for a stale version. */
  readonly calls = { read: 0, write: 0, conflicts: 0 };
  /** Every successful write, oldest first. */
  readonly history: Array<{ version: string; text: string }> = [];
  hook: PortHook | undefined;
  private text: string | null = null;
  private version: string | null = null;
  private counter = 0;

  constructor(options: { initial?: Keyset; hook?: PortHook } = {}) {
    this.hook = options.hook;
    if (options.initial !== undefined) this.setRaw(serializeKeyset(options.initial));
  }

  /** Replaces the stored text as a hand edit would (no CAS, any text, even corrupt), bumping the version. */
  setRaw(text: string): void {
    this.text = text;
    this.counter += 1;
    this.version = `v${this.counter}`;
  }

  /** The stored text, or null when nothing is stored. */
  raw(): string | null {
    return this.text;
  }

  /** The stored keyset, parsed (throws KEYSET_CORRUPT like `read`), without counting a call. */
  peek(): Keyset | null {
    return this.text === null ? null : parseKeyset(this.text);
  }

  async read(): Promise<VersionedKeyset | null> {
    this.calls.read += 1;
    this.hook?.({ port: 'store', op: 'read', phase: 'before' });
    const result =
      this.text === null || this.version === null
        ? null
        : {
            keyset: parseKeyset(this.text),
            version: this.version,
            sha256: createHash('sha256').update(this.text).digest('base64'),
          };
    this.hook?.({ port: 'store', op: 'read', phase: 'after' });
    return result;
  }

  async write(keyset: Keyset, expectedVersion: string | null): Promise<string> {
    this.calls.write += 1;
    this.hook?.({ port: 'store', op: 'write', phase: 'before' });
    if (expectedVersion !== this.version) {
      this.calls.conflicts += 1;
      throw new IrsaError(
        'STATE_CONFLICT',
        `keyset.json changed since it was read (expected ${expectedVersion ?? 'no document'}, found ${this.version ?? 'no document'}).`,
        'Another rotation run wrote first; run again.',
      );
    }
    const text = serializeKeyset(keyset);
    parseKeyset(text); // a store never accepts a document it could not read back
    this.setRaw(text);
    const version = this.version as string;
    this.history.push({ version, text });
    this.hook?.({ port: 'store', op: 'write', phase: 'after' });
    return version;
  }
}

/** A key held by {@link MemoryKeyBackend}. */
export interface MemoryKey {
  location: KeyLocation & { type: 'kms' };
  spec: KeySpec;
  privateKey: KeyObject;
  /** Set by `label`. */
  kid?: string;
  /** The intent it was created for. */
  intent?: string;
  destroyed: boolean;
}

/** A KeyBackend and SigningBackend with real node:crypto keys, located as `{ type: 'kms', keyId: 'memory-key-N' }`. */
export class MemoryKeyBackend implements KeyBackend, SigningBackend {
  readonly calls = { create: 0, label: 0, destroy: 0, sign: 0 };
  /** Every key ever created, by keyId. */
  readonly keys = new Map<string, MemoryKey>();
  hook: PortHook | undefined;
  private counter = 0;

  constructor(options: { hook?: PortHook } = {}) {
    this.hook = options.hook;
  }

  async create(spec: KeySpec, options: CreateOptions = {}): Promise<CreatedKey> {
    this.calls.create += 1;
    this.hook?.({ port: 'keys', op: 'create', phase: 'before' });
    const pair =
      spec === 'RSA_2048'
        ? generateKeyPairSync('rsa', { modulusLength: 2048 })
        : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    this.counter += 1;
    const location = { type: 'kms' as const, keyId: `memory-key-${this.counter}` };
    this.keys.set(location.keyId, {
      location,
      spec,
      privateKey: pair.privateKey,
      destroyed: false,
      ...(options.intent === undefined ? {} : { intent: options.intent }),
    });
    const publicKeySpki = new Uint8Array(pair.publicKey.export({ type: 'spki', format: 'der' }));
    this.hook?.({ port: 'keys', op: 'create', phase: 'after' });
    return { location: { ...location }, publicKeySpki };
  }

  async label(location: KeyLocation, kid: string): Promise<void> {
    this.calls.label += 1;
    this.hook?.({ port: 'keys', op: 'label', phase: 'before', kid });
    const key = this.find(location);
    key.kid = kid;
    this.hook?.({ port: 'keys', op: 'label', phase: 'after', kid });
  }

  /** Live keys created for `intent` (what a tag search would find). */
  async findIntentKeys(intent: string): Promise<FoundKey[]> {
    return [...this.keys.values()]
      .filter((key) => key.intent === intent && !key.destroyed)
      .map((key) => {
        const spki = createPublicKeyDer(key.privateKey);
        return { kid: kidFromSpki(spki), location: { ...key.location }, publicKeySpki: spki };
      });
  }

  async destroy(record: KeyToDestroy): Promise<void> {
    this.calls.destroy += 1;
    this.hook?.({ port: 'keys', op: 'destroy', phase: 'before', kid: record.kid });
    this.find(record.location).destroyed = true;
    this.hook?.({ port: 'keys', op: 'destroy', phase: 'after', kid: record.kid });
  }

  async sign(record: KeyRecord, signingInput: Uint8Array): Promise<Uint8Array> {
    this.calls.sign += 1;
    this.hook?.({ port: 'keys', op: 'sign', phase: 'before', kid: record.kid });
    const key = this.find(record.location);
    if (key.destroyed) throw new Error(`memory key ${record.kid} is destroyed`);
    const signature =
      key.spec === 'RSA_2048'
        ? sign('sha256', signingInput, key.privateKey)
        : sign('sha256', signingInput, { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
    this.hook?.({ port: 'keys', op: 'sign', phase: 'after', kid: record.kid });
    return new Uint8Array(signature);
  }

  /** Keys created and not destroyed. */
  live(): MemoryKey[] {
    return [...this.keys.values()].filter((key) => !key.destroyed);
  }

  private find(location: KeyLocation): MemoryKey {
    const key = location.type === 'kms' ? this.keys.get(location.keyId) : undefined;
    if (key === undefined) throw new Error(`no memory key at ${JSON.stringify(location)}`);
    return key;
  }
}

function createPublicKeyDer(privateKey: KeyObject): Uint8Array {
  return new Uint8Array(createPublicKey(privateKey).export({ type: 'spki', format: 'der' }));
}

/** One call to {@link MemoryPublisher.publish} that went through. */
export interface PublishedRecord {
  documents: PublicDocuments;
  jwks: Jwks;
  /** Kids in the JWKS, in published order. */
  kids: string[];
  issuer: string;
  /** The publisher's clock at the time, when it was given one. */
  at?: Date;
  changed: boolean;
}

/** A Publisher that keeps every publish; `last` is what the world currently sees. */
export class MemoryPublisher implements Publisher {
  readonly calls = { publish: 0 };
  readonly published: PublishedRecord[] = [];
  hook: PortHook | undefined;
  private readonly clock: (() => Date) | undefined;

  constructor(options: { hook?: PortHook; clock?: () => Date } = {}) {
    this.hook = options.hook;
    this.clock = options.clock;
  }

  /** The documents currently public, or undefined before the first publish. */
  get last(): PublishedRecord | undefined {
    return this.published.at(-1);
  }

  /** The live documents (the last publish), as a store with digests would report them. */
  async inspect(): Promise<LiveDocuments> {
    const last = this.last;
    return { jwks: liveOf(last?.documents.jwks), discovery: liveOf(last?.documents.discovery) };
  }

  async publish(
    documents: PublicDocuments,
    expected?: LiveDocuments,
  ): Promise<{ changed: boolean; live: LiveDocuments }> {
    this.calls.publish += 1;
    this.hook?.({ port: 'publisher', op: 'publish', phase: 'before' });
    // Conditional like S3 If-Match: a document this publish would change must still be the one seen.
    const now = await this.inspect();
    for (const name of ['jwks', 'discovery'] as const) {
      const changes = now[name]?.sha256 !== liveOf(documents[name])?.sha256;
      if (expected !== undefined && changes && (expected[name]?.etag ?? null) !== (now[name]?.etag ?? null)) {
        throw new IrsaError(
          'PUBLISH_CONFLICT',
          `The public ${name} changed since this run read it.`,
          'Another run published in between; re-read and re-plan.',
        );
      }
    }
    const jwks = JSON.parse(documents.jwks) as Jwks;
    const discovery = JSON.parse(documents.discovery) as { issuer: string };
    const changed =
      this.last === undefined ||
      this.last.documents.jwks !== documents.jwks ||
      this.last.documents.discovery !== documents.discovery;
    const record: PublishedRecord = {
      documents: { ...documents },
      jwks,
      kids: jwks.keys.map((key) => key.kid),
      issuer: discovery.issuer,
      changed,
    };
    const at = this.clock?.();
    if (at !== undefined) record.at = at;
    this.published.push(record);
    this.hook?.({ port: 'publisher', op: 'publish', phase: 'after' });
    return { changed, live: { jwks: liveOf(documents.jwks), discovery: liveOf(documents.discovery) } };
  }
}

function liveOf(text: string | undefined): LiveDocument | null {
  if (text === undefined) return null;
  const sha256 = createHash('sha256').update(text).digest('base64');
  return { etag: sha256, sha256 };
}

/**
 * A key record for tests, with a freshly generated P-256 key (real SPKI, real kid) unless `spec`
 * says RSA_2048. Fields of `overrides` win; `kid` and `publicKeySpki` always match each other.
 */
export function testKeyRecord(
  overrides: Partial<Omit<KeyRecord, 'kid' | 'publicKeySpki'>> & { state: KeyState },
): KeyRecord {
  const spec = overrides.keySpec ?? 'ECC_NIST_P256';
  const pair =
    spec === 'RSA_2048'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const spki = pair.publicKey.export({ type: 'spki', format: 'der' });
  const kid = kidFromSpki(new Uint8Array(spki));
  return {
    alg: ALG_FOR_SPEC[spec],
    keySpec: spec,
    location: { type: 'kms', keyId: `test-${kid.slice(0, 8)}` },
    createdAt: '2026-01-01T00:00:00.000Z',
    ...overrides,
    kid,
    publicKeySpki: spki.toString('base64'),
  };
}
