/** Test-only keys from test/fixtures/keys, and KeyRecord builders for JWKS tests. */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { KeyRecord, KeySpec, KeyState } from '#core/keyset.ts';
import { kidFromSpki } from '#core/kid.ts';

const KEY_DIR = fileURLToPath(new URL('../../fixtures/keys/', import.meta.url));

export type FixtureName = 'rsa-2048' | 'ec-p256' | 'ec-p384' | 'ec-p521' | 'rsa-1024-too-small';

/** Known-answer kids, computed with `openssl pkey -pubout -outform DER | openssl dgst -sha256 -binary | basenc --base64url`. */
export const OPENSSL_KIDS: Readonly<Record<FixtureName, string>> = {
  'rsa-2048': '0UT47vY6F01H_HCSL11CTRVgBpEDio8c54oX8Id-6_Y',
  'ec-p256': 'gxGGelS7BnMAN0-VsYRvVj-RAuRAEsAeeJJiZ7JmiLM',
  'ec-p384': 'vIqOHPyru7GewpEISDhKbQCF7SXzi4s1XP5hAG9EuOY',
  'ec-p521': 's7oO_GJWDBWyNhZBB5HGcDUkYL-iYfGXiLkPp19jQpE',
  'rsa-1024-too-small': 'yyzCtUohH20IpJfzmHsdBqipxZHh95BSJy8q3Wls2xA',
};

export function privateKey(name: FixtureName): KeyObject {
  return createPrivateKey(readFileSync(`${KEY_DIR}${name}.pem`, 'utf8'));
}

/** DER SPKI read from the `.pub.pem` file openssl wrote (not derived from the private key here). */
export function spkiDer(name: FixtureName): Uint8Array {
  const pub = createPublicKey(readFileSync(`${KEY_DIR}${name}.pub.pem`, 'utf8'));
  return new Uint8Array(pub.export({ format: 'der', type: 'spki' }));
}

/** A fresh key pair of the given spec (for tests that need many distinct keys). */
export function freshSpki(spec: KeySpec): Uint8Array {
  const { publicKey } =
    spec === 'RSA_2048'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }));
}

/** A keyset record for a public key. */
export function recordFor(
  spki: Uint8Array,
  state: KeyState,
  createdAt: string,
  spec: KeySpec = 'RSA_2048',
  extra: Partial<KeyRecord> = {},
): KeyRecord {
  const kid = kidFromSpki(spki);
  return {
    kid,
    alg: spec === 'RSA_2048' ? 'RS256' : 'ES256',
    keySpec: spec,
    state,
    publicKeySpki: Buffer.from(spki).toString('base64'),
    location: { type: 'local', file: `keys/${kid}.pem` },
    createdAt,
    ...extra,
  };
}
