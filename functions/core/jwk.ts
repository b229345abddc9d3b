/**
 * A public JWK from a DER SubjectPublicKeyInfo: RSA (`kty`, `n`, `e`) or EC (`kty`, `crv`, `x`,
 * `y`), plus `kid` (see `kid.ts`), `alg` and `use: "sig"`. Only public members ever appear.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { IrsaError } from './errors.ts';
import type { SigningAlg } from './keyset.ts';
import { kidFromSpki } from './kid.ts';

/** Every JWS algorithm STS accepts for web identity tokens. */
export type JwsAlg = 'RS256' | 'RS384' | 'RS512' | 'ES256' | 'ES384' | 'ES512';

/** The algorithms STS accepts, in the order discovery documents list them. */
export const ACCEPTED_ALGS: readonly JwsAlg[] = ['ES256', 'ES384', 'ES512', 'RS256', 'RS384', 'RS512'];

/** True when `value` names an algorithm STS accepts. */
export function isAcceptedAlg(value: unknown): value is JwsAlg {
  return typeof value === 'string' && (ACCEPTED_ALGS as readonly string[]).includes(value);
}

/** A public signing key as published in the JWKS. Member order here is the serialised order. */
export interface PublicJwk {
  kty: 'RSA' | 'EC';
  use: 'sig';
  kid: string;
  alg: string;
  n?: string;
  e?: string;
  crv?: string;
  x?: string;
  y?: string;
}

/** Smallest RSA modulus we publish (and that AWS accepts for web identity tokens). */
export const MIN_RSA_BITS = 2048;

const ALG_FOR_CURVE: Readonly<Record<string, JwsAlg>> = {
  'P-256': 'ES256',
  'P-384': 'ES384',
  'P-521': 'ES512',
};

function parseSpki(spkiDer: Uint8Array): KeyObject {
  try {
    return createPublicKey({ key: Buffer.from(spkiDer), format: 'der', type: 'spki' });
  } catch (cause) {
    throw new IrsaError(
      'KEY_SPKI_INVALID',
      'The public key is not a DER SubjectPublicKeyInfo that can be parsed.',
      'Pass the DER SubjectPublicKeyInfo of the public key (KMS GetPublicKey, or `openssl pkey -pubout -outform DER`).',
      { cause },
    );
  }
}

function unsupported(what: string): IrsaError {
  return new IrsaError(
    'KEY_UNSUPPORTED',
    `The public key is ${what}; only RSA (2048 bits or more) and EC P-256/P-384/P-521 keys can sign tokens STS accepts.`,
    'Use an RSA_2048 or ECC_NIST_P256 key.',
  );
}

/**
 * Builds the public JWK of a key from its DER SubjectPublicKeyInfo. `alg` defaults to RS256 for RSA
 * and to the curve's ES algorithm for EC; when given it must suit the key. Throws `KEY_SPKI_INVALID`,
 * `KEY_UNSUPPORTED` (other key types, RSA under 2048 bits) or `KEY_ALG_MISMATCH`.
 */
export function publicJwkFromSpki(spkiDer: Uint8Array, alg?: SigningAlg | JwsAlg): PublicJwk {
  const key = parseSpki(spkiDer);
  const kid = kidFromSpki(spkiDer);
  const exported = key.export({ format: 'jwk' });
  if (key.asymmetricKeyType === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < MIN_RSA_BITS) throw unsupported(`an RSA key of ${bits} bits`);
    const chosen = alg ?? 'RS256';
    if (!chosen.startsWith('RS')) throw algMismatch(chosen, 'an RSA key', kid);
    if (typeof exported.n !== 'string' || typeof exported.e !== 'string')
      throw unsupported('an RSA key without n/e');
    return { kty: 'RSA', use: 'sig', kid, alg: chosen, n: exported.n, e: exported.e };
  }
  if (key.asymmetricKeyType === 'ec') {
    const crv = exported.crv;
    const curveAlg = typeof crv === 'string' ? ALG_FOR_CURVE[crv] : undefined;
    if (crv === undefined || curveAlg === undefined) throw unsupported(`an EC key on curve ${String(crv)}`);
    const chosen = alg ?? curveAlg;
    if (chosen !== curveAlg) throw algMismatch(chosen, `an EC ${crv} key (which signs ${curveAlg})`, kid);
    if (typeof exported.x !== 'string' || typeof exported.y !== 'string')
      throw unsupported('an EC key without x/y');
    return { kty: 'EC', use: 'sig', kid, alg: chosen, crv, x: exported.x, y: exported.y };
  }
  throw unsupported(`of type ${key.asymmetricKeyType ?? 'unknown'}`);
}

function algMismatch(alg: string, what: string, kid: string): IrsaError {
  return new IrsaError(
    'KEY_ALG_MISMATCH',
    `Key ${kid} is ${what}, which cannot sign ${alg}.`,
    'Record the algorithm that matches the key: RS256 for RSA keys, ES256 for P-256 keys.',
    { detail: { kid, alg } },
  );
}
