/**
 * Ports: what the core needs from the outside world. The AWS adapters (S3, KMS) and the local
 * adapters (file system, software keys) implement the same interfaces, so the rotation logic, the
 * signer and the simulation run unchanged in Lambda, on a node, on a laptop and in tests.
 */
import type { KeyLocation, KeyRecord, KeySpec, Keyset } from './keyset.ts';

/** A keyset read together with the version needed to write it back (S3 ETag, or a local digest). */
export interface VersionedKeyset {
  keyset: Keyset;
  version: string;
  /** SHA-256 (standard base64) of the stored bytes, compared with the rotation journal. */
  sha256?: string;
}

/**
 * Where `keyset.json` lives. Writes are compare-and-swap: `expectedVersion` is the version read
 * (S3 `If-Match`), or `null` to create a document that must not exist yet (S3 `If-None-Match: *`).
 * A lost race throws `IrsaError` with code `STATE_CONFLICT`; nothing is overwritten silently.
 * A document that exists but does not parse throws `KEYSET_CORRUPT` and is never replaced.
 */
export interface KeysetStore {
  read(): Promise<VersionedKeyset | null>;
  write(keyset: Keyset, expectedVersion: string | null): Promise<string>;
}

/** A newly created key: where its private half lives, and its public half (DER SPKI). */
export interface CreatedKey {
  location: KeyLocation;
  publicKeySpki: Uint8Array;
}

/** Options of {@link KeyBackend.create}. */
export interface CreateOptions {
  /** The open keyset intent this key is created for; the backend attaches it (KMS tag `irsa-anywhere:intent`). */
  intent?: string;
}

/**
 * A key found where an intent may have left one. Adoptable when its public half is known; the
 * others (wrapped objects found by listing) can only be destroyed.
 */
export interface FoundKey {
  kid: string;
  location: KeyLocation;
  publicKeySpki?: Uint8Array;
}

/** What {@link KeyBackend.destroy} needs of a key. */
export type KeyToDestroy = Pick<KeyRecord, 'kid' | 'location'>;

/**
 * Creates and destroys private keys: KMS asymmetric keys, KMS-wrapped keys, or local software keys.
 * `create` may be told the kid only after the public key exists, hence `label` to tag afterwards.
 */
export interface KeyBackend {
  /** Creates a key. Must not be retried by the backend: an ambiguous failure is reconciled by intent. */
  create(spec: KeySpec, options?: CreateOptions): Promise<CreatedKey>;
  /** Called once the key is known, so backends can tag or name it by kid. Optional. */
  label?(location: KeyLocation, kid: string): Promise<void>;
  /** Destroy the private key (KMS `ScheduleKeyDeletion`, delete the wrapped object, unlink the file). Idempotent. */
  destroy(key: KeyToDestroy): Promise<void>;
  /**
   * Live keys a create for `intent` may have left (KMS: by the intent tag; wrapped keys: every
   * object under the key prefix, as that backend cannot tag them). Keys already scheduled for
   * deletion are not returned. Optional: without it an abandoned intent is closed unsearched.
   */
  findIntentKeys?(intent: string): Promise<FoundKey[]>;
  /**
   * Brings the access controls of existing keys (KMS key policy, tags) up to date, e.g. keys
   * created by an older release. Optional; idempotent; never changes key material.
   */
  reconcile?(keys: readonly KeyRecord[]): Promise<KeyRepairReport>;
}

/** What {@link KeyBackend.reconcile} did: keys looked at, and the changes made per kid. */
export interface KeyRepairReport {
  checked: number;
  repaired: Array<{ kid: string; changes: string[] }>;
}

/** Signs a JWS signing input with a key, returning the signature in JOSE form (ECDSA as r||s). */
export interface SigningBackend {
  sign(key: KeyRecord, signingInput: Uint8Array): Promise<Uint8Array>;
}

/** The two public documents, already serialised. */
export interface PublicDocuments {
  discovery: string;
  jwks: string;
}

/** One public document as it is live now. */
export interface LiveDocument {
  /** Version for a conditional write (S3 ETag). */
  etag: string;
  /**
   * SHA-256 (standard base64) of the bytes as the store computed it (S3 `ChecksumSHA256`); absent
   * when the object was written without one, which never matches an expected digest.
   */
  sha256?: string;
}

/** The public documents as they are live now (`null`: absent). */
export interface LiveDocuments {
  jwks: LiveDocument | null;
  discovery: LiveDocument | null;
  /** SHA-256 of the keyset.json the rotation functions last wrote, recorded beside the documents. */
  keysetJournal?: string;
}

/**
 * Where the public documents go. Writes the JWKS first, then the discovery document, so a reader
 * never sees discovery pointing at keys that are not there yet. Skips unchanged bytes (by digest).
 * Writes are conditional on `expected` (S3 `If-Match` on the ETag seen by `inspect`, or
 * `If-None-Match: *` for an absent document): a document changed since throws `PUBLISH_CONFLICT`
 * and nothing of this publish goes further.
 */
export interface Publisher {
  /** What is live now (S3: two `HeadObject` with `ChecksumMode: ENABLED`). */
  inspect(): Promise<LiveDocuments>;
  /** Publishes; without `expected` it inspects first. Returns what is live afterwards. */
  publish(
    documents: PublicDocuments,
    expected?: LiveDocuments,
  ): Promise<{ changed: boolean; live: LiveDocuments }>;
  /**
   * Records the digest of the keyset.json this run wrote last, so the next run can tell a keyset
   * written by someone else. Optional (local mode has no second writer to guard against).
   */
  recordKeysetJournal?(sha256: string, expected: LiveDocuments): Promise<LiveDocuments>;
}

/** A clock: the core never reads the time itself. */
export type Clock = () => Date;
