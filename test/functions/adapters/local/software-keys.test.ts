import { createPublicKey, verify } from 'node:crypto';
import { mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  generateSoftwareKey,
  LocalKeys,
  signWithKeyObject,
  signWithKeyObjectAsync,
} from '#adapters/local/software-keys.ts';
import type { KeyRecord, KeySpec } from '#core/keyset.ts';
import { ALG_FOR_SPEC } from '#core/keyset.ts';
import { kidFromSpki } from '#core/kid.ts';

async function created(spec: KeySpec) {
  const dir = await mkdtemp(join(tmpdir(), 'irsa-keys-'));
  const keys = new LocalKeys(dir);
  const made = await keys.create(spec);
  const kid = kidFromSpki(made.publicKeySpki);
  const record: KeyRecord = {
    kid,
    alg: ALG_FOR_SPEC[spec],
    keySpec: spec,
    state: 'active',
    publicKeySpki: Buffer.from(made.publicKeySpki).toString('base64'),
    location: made.location,
    createdAt: '2026-01-01T00:00:00.000Z',
  };
  return { dir, keys, made, record };
}

/** Signs `header.claims` with a new key of `spec`; returns the input, signature and public key. */
async function signed(spec: KeySpec) {
  const { keys, record } = await created(spec);
  const input = new TextEncoder().encode('header.claims');
  const signature = await keys.sign(record, input);
  const publicKey = createPublicKey({
    key: Buffer.from(record.publicKeySpki, 'base64'),
    format: 'der',
    type: 'spki',
  });
  return { input, signature, publicKey };
}

describe('LocalKeys', () => {
  it.each(['RSA_2048', 'ECC_NIST_P256'] as const)(
    'creates a %s key file 0600 in a 0700 directory, named by kid',
    async (spec) => {
      const { dir, made, record } = await created(spec);
      expect(made.location).toEqual({ type: 'local', file: `keys/${record.kid}.pem` });
      expect((await stat(join(dir, 'keys', `${record.kid}.pem`))).mode & 0o777).toBe(0o600);
      expect((await stat(join(dir, 'keys'))).mode & 0o777).toBe(0o700);
    },
  );

  it('signs RS256 so the public key verifies it', async () => {
    const { input, signature, publicKey } = await signed('RSA_2048');
    expect(signature).toHaveLength(256);
    expect(verify('sha256', input, publicKey, signature)).toBe(true);
  });

  it('signs ES256 in JOSE r||s form: exactly 64 bytes', async () => {
    const { input, signature, publicKey } = await signed('ECC_NIST_P256');
    expect(signature).toHaveLength(64);
    expect(verify('sha256', input, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature)).toBe(true);
  });

  it('signs on the thread pool with the same bytes as the synchronous path (RS256 is deterministic)', async () => {
    const { privateKey } = await generateSoftwareKey('RSA_2048');
    const input = new TextEncoder().encode('header.claims');
    const calls = await Promise.all([1, 2, 3].map(() => signWithKeyObjectAsync(privateKey, 'RS256', input)));
    for (const signature of calls) expect(signature).toEqual(signWithKeyObject(privateKey, 'RS256', input));
  });

  it('destroys idempotently, after which signing fails with a clear code', async () => {
    const { dir, record } = await created('ECC_NIST_P256');
    const fresh = new LocalKeys(dir);
    await fresh.destroy(record);
    await fresh.destroy(record);
    await expect(fresh.sign(record, new Uint8Array([1]))).rejects.toMatchObject({
      code: 'LOCAL_KEY_MISSING',
    });
  });

  it('refuses a key location that points outside keys/', async () => {
    const { keys, record } = await created('ECC_NIST_P256');
    const evil: KeyRecord = { ...record, location: { type: 'local', file: '../../etc/shadow' } };
    await expect(keys.sign(evil, new Uint8Array([1]))).rejects.toMatchObject({ code: 'KEYSET_CORRUPT' });
  });
});
