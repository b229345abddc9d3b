/**
 * Smoke tests of the server benchmarks: the processes start, talk and answer every field. Tiny
 * rounds, no figure checked beyond its sign: benchmarks are never timed tests.
 */
import { describe, expect, it } from 'vitest';
import { benchKmsBackend } from '#scripts/lib/bench/kms-backend.ts';
import { benchKmsSim } from '#scripts/lib/bench/kms-sim.ts';
import { benchSigner } from '#scripts/lib/bench/signer.ts';

// Forking tsx processes on a loaded 2-core machine takes a while.
const SLOW = 180_000;

describe('server benchmarks (smoke)', () => {
  it(
    'benchSigner measures the signer, the floor and the signature in their own processes',
    async () => {
      const figures = await benchSigner({ rounds: 1, roundMs: 100, warmupCalls: 20, concurrencies: [1, 8] });
      for (const alg of ['RS256', 'ES256'] as const) {
        expect(figures[alg].signatureCpuMs).toBeGreaterThan(0);
        expect(figures[alg].byConcurrency.map((c) => c.concurrency)).toEqual([1, 8]);
        for (const c of figures[alg].byConcurrency) {
          expect(c.cpuMsPerCall).toBeGreaterThan(0);
          expect(c.floorCpuMsPerCall).toBeGreaterThan(0);
          expect(c.opsPerSec).toBeGreaterThan(0);
        }
      }
    },
    SLOW,
  );

  it(
    'benchKmsSim drives the KMS-shaped signer open loop and reports the backend latency',
    async () => {
      const figures = await benchKmsSim({
        rounds: 1,
        roundMs: 200,
        warmupCalls: 20,
        keySpec: 'ECC_NIST_P256',
      });
      expect(figures.rates.map((r) => r.rate)).toEqual([500, 1000]);
      for (const r of figures.rates) {
        expect(r.errors).toBe(0);
        // The backend waits at least 6 ms, and the client sees at least the backend's time.
        expect(r.backendP50Ms).toBeGreaterThanOrEqual(6);
        expect(r.p50Ms).toBeGreaterThanOrEqual(6);
      }
      expect(figures.uncapped.opsPerSec).toBeGreaterThan(0);
    },
    SLOW,
  );

  it(
    'benchKmsBackend signs through the real KmsSigner against the fake KMS, reusing connections',
    async () => {
      const figures = await benchKmsBackend({ rounds: 1, roundMs: 100, warmupCalls: 20 });
      expect(figures.RS256.cpuMsPerSign).toBeGreaterThan(0);
      expect(figures.ES256.cpuMsPerSign).toBeGreaterThan(0);
      // 8 in flight per client, two clients: at most 16 connections for hundreds of calls.
      expect(figures.connections).toBeGreaterThan(0);
      expect(figures.connections).toBeLessThanOrEqual(16);
      expect(figures.profile.length).toBeGreaterThan(0);
    },
    SLOW,
  );
});
