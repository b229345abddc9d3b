/**
 * A file-mode world for key-sync tests: a keyset with an active, a retired, a pending and a deleted
 * key, each key's PKCS#8 DER, and the wrapped objects a KMS fake can "decrypt" only with the right
 * encryption context.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KeyRecord, KeyState, Keyset } from '#core/keyset.ts';
import { kidFromSpki } from '#core/kid.ts';

const KEYS = join(import.meta.dirname, '../../../fixtures/keys');
export const CLUSTER = 'prod';
export const ISSUER = 'https://oidc.example.com/prod';
export const WRAPPING_KEY = 'arn:aws:kms:eu-west-1:111122223333:key/wrap';

export interface WorldKey {
  record: KeyRecord;
  pkcs8: Uint8Array;
}

function fromPem(pem: string, state: KeyState, at: string): WorldKey {
  const key = createPrivateKey(pem);
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const pkcs8 = new Uint8Array(key.export({ type: 'pkcs8', format: 'der' }));
  const kid = kidFromSpki(spki);
  const ec = key.asymmetricKeyType === 'ec';
  const record: KeyRecord = {
    kid,
    alg: ec ? 'ES256' : 'RS256',
    keySpec: ec ? 'ECC_NIST_P256' : 'RSA_2048',
    state,
    publicKeySpki: spki.toString('base64'),
    location: { type: 'wrapped', object: `keys/${kid}.wrapped`, wrappingKeyId: WRAPPING_KEY },
    createdAt: at,
    publishedAt: at,
  };
  if (state === 'active' || state === 'retired') record.activatedAt = at;
  if (state === 'retired') record.retiredAt = at;
  if (state === 'deleted') record.deletedAt = at;
  return { record, pkcs8 };
}

function generated(state: KeyState, at: string): WorldKey {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return fromPem(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), state, at);
}

/** Keys: active (P-256 fixture), retired (RSA fixture), pending and deleted (generated). */
export function makeWorld(): {
  keyset: Keyset;
  active: WorldKey;
  retired: WorldKey;
  pending: WorldKey;
  deleted: WorldKey;
} {
  const active = fromPem(readFileSync(join(KEYS, 'ec-p256.pem'), 'utf8'), 'active', '2026-11-01T00:00:00Z');
  const retired = fromPem(
    readFileSync(join(KEYS, 'rsa-2048.pem'), 'utf8'),
    'retired',
    '2026-10-01T00:00:00Z',
  );
  const pending = generated('pending', '2026-11-20T00:00:00Z');
  const deleted = generated('deleted', '2026-09-01T00:00:00Z');
  const keyset: Keyset = {
    version: 1,
    cluster: CLUSTER,
    issuer: ISSUER,
    keys: [retired.record, active.record, pending.record, deleted.record],
    updatedAt: '2026-11-20T00:00:00Z',
  };
  return { keyset, active, retired, pending, deleted };
}

/** The fake "ciphertext" of a key: its kid, so the KMS fake knows what to return. */
export function fakeCiphertext(kid: string): Uint8Array {
  return new TextEncoder().encode(`wrapped:${kid}`);
}
