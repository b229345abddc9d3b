/**
 * The JWT pieces the signer handles: checking the claims segment kube-apiserver sends, and the
 * header it returns. The claims are signed exactly as received (never re-encoded).
 */
import { IrsaError } from '#core/errors.ts';
import type { SigningAlg } from '#core/keyset.ts';

/** Longest claims segment accepted; service-account tokens are about 1 KiB. */
export const MAX_CLAIMS_CHARS = 64 * 1024;

const BASE64URL = /^[A-Za-z0-9_-]*$/;
/** One strict decoder for every call (building one per Sign showed in the signer's profile). */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

function invalid(message: string): IrsaError {
  return new IrsaError(
    'SIGN_CLAIMS_INVALID',
    message,
    'Send the JWT claims segment: base64url without padding of a JSON object.',
  );
}

/**
 * Checks that `claims` is base64url without padding (canonical) of a JSON object. Throws
 * `SIGN_CLAIMS_INVALID` otherwise. The message never echoes the claims.
 */
export function checkClaims(claims: unknown): asserts claims is string {
  if (typeof claims !== 'string' || claims.length === 0) throw invalid('The claims segment is empty.');
  if (claims.length > MAX_CLAIMS_CHARS) {
    throw invalid(`The claims segment is ${claims.length} characters, over the ${MAX_CLAIMS_CHARS} allowed.`);
  }
  if (!BASE64URL.test(claims))
    throw invalid('The claims segment is not base64url (only A-Z a-z 0-9 - _, no padding).');
  if (claims.length % 4 === 1) throw invalid('The claims segment has an impossible base64url length.');
  const bytes = Buffer.from(claims, 'base64url');
  if (bytes.toString('base64url') !== claims) throw invalid('The claims segment is not canonical base64url.');
  let value: unknown;
  try {
    value = JSON.parse(UTF8.decode(bytes));
  } catch {
    throw invalid('The claims segment does not decode to UTF-8 JSON.');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalid('The claims segment decodes to JSON that is not an object.');
  }
}

/** The protected header for a key: exactly `alg`, `kid`, `typ`, base64url of its JSON. */
export function encodeHeader(alg: SigningAlg, kid: string): string {
  return Buffer.from(JSON.stringify({ alg, kid, typ: 'JWT' })).toString('base64url');
}
