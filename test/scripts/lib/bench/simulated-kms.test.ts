import { createPublicKey, verify } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { platform, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localPaths } from '#adapters/local/fs-store.ts';
import { LocalKeys } from '#adapters/local/software-keys.ts';
import type { KeyRecord } from '#core/keyset.ts';
import { KMS_SIM_DELAY_MS, KMS_SIM_NICE, SimulatedKms } from '#scripts/lib/bench/simulated-kms.ts';
import { writeLocalKeyset } from '#scripts/lib/signer/temp-signer.ts';

let dir: string;
let kms: SimulatedKms;
let rsa: KeyRecord;
let ec: KeyRecord;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'irsa-simulated-kms-'));
  const keyset = await writeLocalKeyset(dir, [
    { spec: 'RSA_2048', state: 'active' },
    { spec: 'ECC_NIST_P256', state: 'pending' },
  ]);
  [rsa, ec] = keyset.keys as [KeyRecord, KeyRecord];
  kms = new SimulatedKms(new LocalKeys(localPaths(dir).state));
});

afterAll(async () => {
  await kms.close();
  await rm(dir, { recursive: true, force: true });
});

const publicKey = (record: KeyRecord) =>
  createPublicKey({ key: Buffer.from(record.publicKeySpki, 'base64'), format: 'der', type: 'spki' });

describe('SimulatedKms (the kmsSim benchmark’s stand-in for KMS)', () => {
  it('answers real signatures that verify with the published key, RS256 and ES256', async () => {
    const input = Buffer.from('header.claims');
    const [rs, es, again] = await Promise.all([
      kms.sign(rsa, input),
      kms.sign(ec, input),
      kms.sign(rsa, input),
    ]);
    expect(verify('sha256', input, publicKey(rsa), rs)).toBe(true);
    expect(verify('sha256', input, { key: publicKey(ec), dsaEncoding: 'ieee-p1363' }, es)).toBe(true);
    expect(es.length).toBe(64);
    // RS256 is deterministic: the key sent once per kid is the same key the second time.
    expect(Buffer.from(again).equals(Buffer.from(rs))).toBe(true);
  });

  it('waits a KMS round trip first and records each call’s own latency', async () => {
    kms.latencies.length = 0;
    await kms.sign(rsa, Buffer.from('x'));
    expect(kms.latencies).toHaveLength(1);
    expect(kms.latencies[0]).toBeGreaterThanOrEqual(KMS_SIM_DELAY_MS.min - 1);
  });

  it.runIf(platform() === 'linux')(
    'signs on a thread at the lowest priority, leaving the caller’s alone',
    async () => {
      const { getPriority } = await import('node:os');
      expect(await kms.priority()).toBe(KMS_SIM_NICE);
      expect(getPriority()).not.toBe(KMS_SIM_NICE);
    },
  );

  it('fails a call for a key it cannot load instead of hanging', async () => {
    const missing = {
      ...rsa,
      kid: 'missing',
      location: { type: 'local', file: 'keys/missing.pem' },
    } as KeyRecord;
    await expect(kms.sign(missing, Buffer.from('x'))).rejects.toThrow(/missing/i);
  });
});
