/**
 * JWKS assembly from the keyset, with the guards that protect what gets published: only public
 * members, only keys in a published state, kid = SHA-256 of the SPKI, at most 100 keys per type.
 *
 * Order (stable, so identical keysets give identical bytes): the active key first, then pending
 * keys, then retired keys; within each group newest `createdAt` first, ties broken by kid
 * (ascending, by code unit). Revoked keys are never published, whatever their state.
 */
import { IrsaError } from './errors.ts';
import type { PublicJwk } from './jwk.ts';
import { publicJwkFromSpki } from './jwk.ts';
import type { KeyRecord, KeyState } from './keyset.ts';
import { PUBLISHED_STATES } from './keyset.ts';

/** A JSON Web Key Set. */
export interface Jwks {
  keys: PublicJwk[];
}

/** JWK members that hold private or symmetric key material (RFC 7518 §6.2.2, §6.3.2, §6.4.1). */
export const PRIVATE_JWK_MEMBERS: ReadonlySet<string> = new Set([
  'd',
  'p',
  'q',
  'dp',
  'dq',
  'qi',
  'oth',
  'k',
]);

/** AWS accepts at most this many keys of one type (RSA, EC) in an issuer's JWKS. */
export const MAX_KEYS_PER_TYPE = 100;

const STATE_RANK: Readonly<Record<KeyState, number>> = { active: 0, pending: 1, retired: 2, deleted: 3 };

/**
 * Throws `JWKS_PRIVATE_MEMBER` if any object anywhere inside `value` (at any depth) has a member
 * named d, p, q, dp, dq, qi, oth or k. The message names the path, never the value.
 */
export function assertNoPrivateMembers(value: unknown): void {
  const seen = new Set<object>();
  const walk = (node: unknown, path: string): void => {
    if (node === null || typeof node !== 'object' || seen.has(node)) return;
    seen.add(node);
    if (Array.isArray(node)) {
      for (const [index, item] of node.entries()) walk(item, `${path}[${index}]`);
      return;
    }
    for (const [name, child] of Object.entries(node)) {
      const childPath = path === '' ? name : `${path}.${name}`;
      if (PRIVATE_JWK_MEMBERS.has(name)) {
        throw new IrsaError(
          'JWKS_PRIVATE_MEMBER',
          `The JWKS holds a private key member at "${childPath}"; private key material must never be published.`,
          'Publish only public keys: build the JWKS from DER SubjectPublicKeyInfo (publicJwkFromSpki), never from a private key.',
          { detail: { path: childPath } },
        );
      }
      walk(child, childPath);
    }
  };
  walk(value, '');
}

/** Strictly decodes standard base64 (as `publicKeySpki` is stored); null when it is not canonical base64. */
export function decodeBase64Strict(text: string): Uint8Array | null {
  if (text.length === 0 || text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return null;
  const bytes = Buffer.from(text, 'base64');
  if (bytes.toString('base64') !== text) return null;
  return new Uint8Array(bytes);
}

function compareRecords(a: KeyRecord, b: KeyRecord): number {
  const rank = STATE_RANK[a.state] - STATE_RANK[b.state];
  if (rank !== 0) return rank;
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? 1 : -1;
  if (a.kid === b.kid) return 0;
  return a.kid < b.kid ? -1 : 1;
}

function jwkFor(record: KeyRecord): PublicJwk {
  const spki = decodeBase64Strict(record.publicKeySpki);
  if (spki === null) {
    throw new IrsaError(
      'JWKS_KEY_INVALID',
      `Key ${record.kid} has a publicKeySpki that is not valid base64.`,
      'Restore keyset.json from its backup, or re-read the public key from the key backend.',
      { detail: { kid: record.kid } },
    );
  }
  const jwk = publicJwkFromSpki(spki, record.alg);
  if (jwk.kid !== record.kid) {
    throw new IrsaError(
      'JWKS_KID_MISMATCH',
      `Key ${record.kid} has a public key whose kid is ${jwk.kid}; kid must be base64url(SHA-256(DER SPKI)).`,
      'Restore keyset.json from its backup; a record whose kid does not match its public key must not be published.',
      { detail: { kid: record.kid, computed: jwk.kid } },
    );
  }
  return jwk;
}

/**
 * Builds the JWKS from the keyset's records: keys in a published state (pending, active, retired)
 * and not revoked, in the documented stable order. Throws `JWKS_DUPLICATE_KID`, `JWKS_KID_MISMATCH`,
 * `JWKS_KEY_INVALID`, `JWKS_TOO_MANY_KEYS` (more than 100 RSA or 100 EC keys) or `JWKS_PRIVATE_MEMBER`.
 * It may return an empty set; `buildPublicDocuments` refuses to publish one.
 */
export function buildJwks(keys: readonly KeyRecord[]): Jwks {
  const published = keys.filter((key) => PUBLISHED_STATES.has(key.state) && key.revoked !== true);
  const kids = new Set<string>();
  for (const key of published) {
    if (kids.has(key.kid)) {
      throw new IrsaError(
        'JWKS_DUPLICATE_KID',
        `Two published keys share kid ${key.kid}.`,
        'Restore keyset.json from its backup; each key must appear once.',
        { detail: { kid: key.kid } },
      );
    }
    kids.add(key.kid);
  }
  const jwks: Jwks = { keys: [...published].sort(compareRecords).map(jwkFor) };
  for (const kty of ['RSA', 'EC'] as const) {
    const count = jwks.keys.filter((key) => key.kty === kty).length;
    if (count > MAX_KEYS_PER_TYPE) {
      throw new IrsaError(
        'JWKS_TOO_MANY_KEYS',
        `The JWKS would hold ${count} ${kty} keys; AWS accepts at most ${MAX_KEYS_PER_TYPE} keys of one type.`,
        'Shorten the retention or lengthen the rotation period so fewer retired keys stay published.',
        { detail: { kty, count } },
      );
    }
  }
  assertNoPrivateMembers(jwks);
  return jwks;
}
