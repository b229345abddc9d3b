/**
 * The keyset: the single source of truth for a cluster's signing keys (`keyset.json` in the
 * private state bucket, or in the local state directory). Types only; parsing and validation
 * live in `keyset-parse.ts`, the lifecycle rules in `planner.ts`.
 */

/** Key specs we create, named as KMS names them; the first is the default. */
export const KEY_SPECS = ['RSA_2048', 'ECC_NIST_P256'] as const;

/** A key spec we create. */
export type KeySpec = (typeof KEY_SPECS)[number];

/** JWS algorithms our keys sign with. */
export type SigningAlg = 'RS256' | 'ES256';

/** The JWS algorithm that goes with a key spec. */
export const ALG_FOR_SPEC: Readonly<Record<KeySpec, SigningAlg>> = {
  RSA_2048: 'RS256',
  ECC_NIST_P256: 'ES256',
};

/**
 * Lifecycle: `pending` (published, not signing yet) → `active` (signing; exactly one) →
 * `retired` (published so tokens it signed still verify) → `deleted` (out of the JWKS; the key
 * material is destroyed once a JWKS without it has been published, then the record is dropped).
 */
export type KeyState = 'pending' | 'active' | 'retired' | 'deleted';

/** Where a key's private half lives. It never lives in the keyset itself. */
export type KeyLocation =
  /** An asymmetric KMS key (kms mode). */
  | { type: 'kms'; keyId: string; keyArn?: string }
  /** A private key wrapped with a symmetric KMS key, stored as an object in the state bucket (file mode). */
  | { type: 'wrapped'; object: string; wrappingKeyId: string }
  /** A software key in the local state directory (local mode). `file` is relative to that directory. */
  | { type: 'local'; file: string };

/** One signing key and its history. Timestamps are ISO 8601 strings in UTC. */
export interface KeyRecord {
  /** base64url(SHA-256(DER SubjectPublicKeyInfo)), see `kid.ts`. */
  kid: string;
  alg: SigningAlg;
  keySpec: KeySpec;
  state: KeyState;
  /** DER SubjectPublicKeyInfo, standard base64. Public; kept so publishing never needs the backend. */
  publicKeySpki: string;
  location: KeyLocation;
  createdAt: string;
  /** First successful publish of a JWKS that held this key. */
  publishedAt?: string;
  activatedAt?: string;
  retiredAt?: string;
  /** When the key left the desired JWKS (retention over, or revoked). */
  deletedAt?: string;
  /** First successful publish of a JWKS without this key, after `deletedAt`. Destruction waits for it. */
  unpublishedAt?: string;
  /** Set when an operator revoked the key: tokens it signed are meant to fail. */
  revoked?: boolean;
}

/** What was last published successfully. */
export interface PublishRecord {
  /** Kids in the JWKS, in published order. */
  kids: string[];
  at: string;
  /** The issuer the documents were published for; a changed issuer means publishing again. */
  issuer?: string;
  /** The keyset revision the documents were built from (and carry). Absent before revisions existed. */
  revision?: number;
  /** SHA-256 (standard base64, as S3 reports `ChecksumSHA256`) of the published JWKS bytes. */
  jwksSha256?: string;
  /** SHA-256 (standard base64) of the published discovery document bytes. */
  discoverySha256?: string;
}

/**
 * A write-ahead record of a key about to be created: written (compare-and-swap) before the backend
 * creates anything, carried by the new key as a tag (`irsa-anywhere:intent`), and closed in the
 * write that records the key. While one is open no run creates another key; a run that finds one
 * left behind adopts or destroys what it finds (see docs/reliability.md).
 */
export interface KeyIntent {
  /** Unique within the keyset's history: `<revision>-<time>`. Safe as a KMS tag value. */
  id: string;
  keySpec: KeySpec;
  createdAt: string;
}

/** The whole `keyset.json` document. */
export interface Keyset {
  /** Schema version of this document. */
  version: 1;
  cluster: string;
  issuer: string;
  keys: KeyRecord[];
  lastPublish?: PublishRecord;
  /**
   * Incremented by every write of the rotation runner (absent, i.e. 0, in keysets written before
   * revisions existed). The published documents carry the revision they were built from, so a
   * publish from an older keyset can never replace one from a newer keyset (docs/reliability.md).
   */
  revision?: number;
  /** The open key-creation intent, if any (at most one). */
  intent?: KeyIntent;
  /** Last time the document was changed. */
  updatedAt: string;
}

/** States whose keys belong in the published JWKS. */
export const PUBLISHED_STATES: ReadonlySet<KeyState> = new Set<KeyState>(['pending', 'active', 'retired']);
