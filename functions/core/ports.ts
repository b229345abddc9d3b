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

/**
 * Creates and destroys private keys: KMS asymmetric keys, KMS-wrapped keys, or local software keys.
 * `create` may be told the kid only after the public key exists, hence `label` to tag afterwards.
 */
export interface KeyBackend {
  create(spec: KeySpec): Promise<CreatedKey>;
  /** Called once the key is known, so backends can tag or name it by kid. Optional. */
  label?(location: KeyLocation, kid: string): Promise<void>;
  /** Destroy the private key (KMS `ScheduleKeyDeletion`, delete the wrapped object, unlink the file). Idempotent. */
  destroy(key: KeyRecord): Promise<void>;
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

/**
 * Where the public documents go. Writes the JWKS first, then the discovery document, so a reader
 * never sees discovery pointing at keys that are not there yet. Skips unchanged bytes.
 */
export interface Publisher {
  publish(documents: PublicDocuments): Promise<{ changed: boolean }>;
}

/** A clock: the core never reads the time itself. */
export type Clock = () => Date;
