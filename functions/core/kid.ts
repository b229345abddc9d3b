/**
 * Key IDs. `kid = base64url_nopad(SHA-256(DER SubjectPublicKeyInfo))`, the value kube-apiserver
 * computes for file-based signing keys (`keyIDFromPublicKey` in
 * `pkg/serviceaccount/jwt.go`). It is NOT the RFC 7638 JWK thumbprint: using kube-apiserver's
 * scheme keeps our JWKS, kube-apiserver's own `/openid/v1/jwks` and token headers in agreement.
 */
import { createHash } from 'node:crypto';
import { IrsaError } from './errors.ts';

/**
 * The kid of a public key given as DER SubjectPublicKeyInfo (what KMS `GetPublicKey` returns and
 * `openssl pkey -pubout -outform DER` writes). Throws `KEY_SPKI_INVALID` for empty input.
 */
export function kidFromSpki(spkiDer: Uint8Array): string {
  if (!(spkiDer instanceof Uint8Array) || spkiDer.length === 0) {
    throw new IrsaError(
      'KEY_SPKI_INVALID',
      'The public key is empty: a kid is computed over DER SubjectPublicKeyInfo bytes.',
      'Pass the DER SubjectPublicKeyInfo of the public key (KMS GetPublicKey, or `openssl pkey -pubout -outform DER`).',
    );
  }
  return createHash('sha256').update(spkiDer).digest('base64url');
}

/** A kid: base64url (no padding) of a SHA-256 digest, so exactly 43 characters. */
export const KID_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** True when `value` has the shape of a kid (see {@link KID_PATTERN}). */
export function isKid(value: string): boolean {
  return KID_PATTERN.test(value);
}
