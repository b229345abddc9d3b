/**
 * The issuer's JWKS as the verifier uses it: validating the document once per object, finding the
 * key for a token's kid, and importing JWKs for jose with a small cache (see docs/core-formats.md).
 */
import { importJWK, type JWK } from 'jose';
import { IrsaError } from './errors.ts';
import type { JwsAlg } from './jwk.ts';
import { assertNoPrivateMembers } from './jwks.ts';

/** A key imported for jose, as `importVerificationKey` resolves it. */
export type VerificationKey = Awaited<ReturnType<typeof importJWK>>;

/** Validates a JWKS document: an object with a `keys` array of objects and no private members. */
export function parseJwksDocument(jwks: unknown): { keys: Array<Record<string, unknown>> } {
  if (jwks === null || typeof jwks !== 'object' || !Array.isArray((jwks as { keys?: unknown }).keys)) {
    throw new IrsaError(
      'JWKS_INVALID',
      'The JWKS is not an object with a "keys" array.',
      'Publish a JWKS document ({"keys":[...]}) at the jwks_uri.',
    );
  }
  const keys = (jwks as { keys: unknown[] }).keys;
  if (!keys.every((key) => key !== null && typeof key === 'object' && !Array.isArray(key))) {
    throw new IrsaError(
      'JWKS_INVALID',
      'The JWKS "keys" array holds something that is not a JWK object.',
      'Publish only JWK objects in "keys".',
    );
  }
  // RFC 7517: "kty" is required and a string; "kid" is a string when present. Anything else is
  // not a key STS could use, and must not reach code that formats or compares it.
  const malformed = (keys as Array<Record<string, unknown>>).findIndex(
    (key) => typeof key.kty !== 'string' || (key.kid !== undefined && typeof key.kid !== 'string'),
  );
  if (malformed !== -1) {
    throw new IrsaError(
      'JWKS_INVALID',
      `JWKS key ${malformed} has no string "kty", or a "kid" that is not a string.`,
      'Publish JWKs with "kty" ("RSA" or "EC") and a string "kid".',
    );
  }
  assertNoPrivateMembers(jwks);
  return { keys: keys as Array<Record<string, unknown>> };
}

/**
 * Imported keys by alg and exact JWK content. Importing an RSA JWK costs about as much as
 * verifying a signature, and a warm JWKS holds the same few keys call after call. Keyed by
 * content, not kid, so a JWKS that changes a key is never answered from a stale entry.
 */
const importedKeys = new Map<string, Promise<VerificationKey>>();
const IMPORTED_KEYS_MAX = 64;
/** The same, by JWK object, so a warm cache's objects skip even the content key. */
const importedByObject = new WeakMap<object, { alg: JwsAlg; key: Promise<VerificationKey> }>();

/**
 * Imports `jwk` for verifying `alg`, from the cache when the same object or the same content was
 * imported before. A failed import is dropped from the cache; the returned promise rejects with
 * jose's error.
 */
export function importVerificationKey(jwk: Record<string, unknown>, alg: JwsAlg): Promise<VerificationKey> {
  const known = importedByObject.get(jwk);
  if (known !== undefined && known.alg === alg) return known.key;
  const id = `${alg} ${JSON.stringify(jwk)}`;
  let imported = importedKeys.get(id);
  if (imported === undefined) {
    if (importedKeys.size >= IMPORTED_KEYS_MAX) importedKeys.clear();
    const fresh = importJWK(jwk as JWK, alg);
    importedKeys.set(id, fresh);
    fresh.catch(() => importedKeys.delete(id));
    imported = fresh;
  }
  importedByObject.set(jwk, { alg, key: imported });
  return imported;
}

/**
 * JWKS documents already checked by {@link parseJwksDocument}. A fetched document is not changed
 * after it is fetched, so a warm cache's object is checked once, not on every token.
 */
const checkedJwks = new WeakSet<object>();

function checkedKeys(jwks: unknown): Array<Record<string, unknown>> {
  if (jwks !== null && typeof jwks === 'object' && checkedJwks.has(jwks)) {
    return (jwks as { keys: Array<Record<string, unknown>> }).keys;
  }
  const { keys } = parseJwksDocument(jwks);
  checkedJwks.add(jwks as object);
  return keys;
}

/**
 * Finds the signing key for `kid` in `jwks` (checked with {@link parseJwksDocument} once per
 * object): the first key with that kid whose `use` is not "enc". Throws `JWKS_INVALID` or
 * `TOKEN_KID_UNKNOWN`.
 */
export function findVerificationJwk(jwks: unknown, kid: string): Record<string, unknown> {
  const keys = checkedKeys(jwks);
  const jwk = keys.find((key) => key.kid === kid && key.use !== 'enc');
  if (jwk === undefined) {
    throw new IrsaError(
      'TOKEN_KID_UNKNOWN',
      `The token's kid ${kid} is not in the issuer's JWKS; STS answers "Couldn't retrieve verification key from your identity provider".`,
      'Publish the signing key before it signs (wait for rotation to publish it), and keep retired keys published until their tokens expire.',
      { detail: { kid, published: keys.map((key) => key.kid) } },
    );
  }
  return jwk;
}
