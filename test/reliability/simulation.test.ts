/**
 * The rotation simulation (issue 7, part 1): years of virtual time through the real runner and
 * the local adapters, tokens verified through JWKS caches with the real verifier.
 * `npm test` runs seed 1 over 5 years; the full acceptance sweep (seeds 1–20) runs with
 * `SIMULATION_SEEDS=1-20 npx vitest run test/reliability/simulation.test.ts` (see docs/reliability.md).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EventQueue } from '#scripts/lib/simulate/event-queue.ts';
import { createRandom } from '#scripts/lib/simulate/prng.ts';
import { runSimulation, type SimulationOptions, violations } from '#scripts/lib/simulate/simulation.ts';
import { runCli } from '../support/run-cli.ts';

const dirs: string[] = [];
afterEach(async () => {
  // maxRetries: a simulation abandoned by a timed-out test may still be writing into its directory.
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true, maxRetries: 5 });
});

async function simulate(options: Omit<SimulationOptions, 'dir'>) {
  const dir = await mkdtemp(join(tmpdir(), 'irsa-sim-test-'));
  dirs.push(dir);
  return runSimulation({ dir, ...options });
}

function seedsFromEnv(): number[] {
  const spec = process.env.SIMULATION_SEEDS ?? '1';
  const match = /^(\d+)-(\d+)$/.exec(spec);
  if (match === null) return spec.split(',').map(Number);
  const from = Number(match[1]);
  return Array.from({ length: Number(match[2]) - from + 1 }, (_, index) => from + index);
}

const ZERO = {
  rejectedValid: 0,
  acceptedRevoked: 0,
  signFailures: 0,
  signedBeforePublishLead: 0,
  publishInvariantViolations: 0,
};

describe('seeded PRNG (mulberry32)', () => {
  it('gives the same sequence for the same seed and another for another seed', () => {
    const a = createRandom(42);
    const b = createRandom(42);
    const c = createRandom(43);
    const seqA = Array.from({ length: 100 }, () => a.next());
    expect(Array.from({ length: 100 }, () => b.next())).toEqual(seqA);
    expect(Array.from({ length: 100 }, () => c.next())).not.toEqual(seqA);
    expect(seqA.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(new Set(seqA.map((x) => Math.floor(x * 10))).size).toBe(10);
  });
});

describe('event queue', () => {
  it('pops by time, then in insertion order', () => {
    const queue = new EventQueue<string>();
    for (const [at, name] of [
      [5, 'e'],
      [1, 'a'],
      [3, 'c1'],
      [3, 'c2'],
      [2, 'b'],
      [9, 'z'],
    ] as const)
      queue.push(at, name);
    const out: string[] = [];
    for (let item = queue.pop(); item !== undefined; item = queue.pop()) out.push(item.event);
    expect(out).toEqual(['a', 'b', 'c1', 'c2', 'e', 'z']);
  });
});

describe('rotation simulation over 5 years', () => {
  for (const seed of seedsFromEnv()) {
    it(`seed ${seed}: no valid token rejected, every invariant held`, { timeout: 3_600_000 }, async () => {
      const report = await simulate({ seed, years: 5 });
      console.info(
        `simulate seed ${seed}: tokens ${report.tokensIssued}, verifications ${report.verifications}, rejectedValid ${report.rejectedValid}, maxKeysPublished ${report.maxKeysPublished}, maxActiveKeyAgeHours ${report.maxActiveKeyAgeHours.toFixed(1)}, ${report.wallClockMs} ms`,
      );
      expect(report.examples).toEqual([]);
      expect(violations(report)).toEqual(ZERO);
      expect(report.tokensIssued).toBeGreaterThan(5_000);
      expect(report.accepted).toBe(report.verifications);
      // Weekly rotation over 5 years: ~260 keys, each published, promoted, deleted, destroyed.
      expect(report.keysCreated).toBeGreaterThan(250);
      expect(report.steps.destroy).toBeGreaterThan(250);
      expect(report.missedRuns).toBeGreaterThan(0);
      expect(report.documentsCheckedForPrivateMembers).toBe(3 * report.publishes);
      expect(report.maxKeysPublished).toBeLessThanOrEqual(3);
      // Rotation period (7 d) plus the longest outage (48 h) and a missed run or two.
      expect(report.maxActiveKeyAgeHours).toBeLessThan(7 * 24 + 48 + 3);
    });
  }
});

describe('simulation variants', () => {
  it('skipping steady-state runs changes nothing: same figures as calling the runner every hour', {
    timeout: 300_000,
  }, async () => {
    // 0.15 years (~55 days, 7 rotations): the full variant calls the real runner every hour, so
    // its cost is one local-adapter run per simulated hour; the equality needs rotations, not years.
    const fast = await simulate({ seed: 7, years: 0.15 });
    const full = await simulate({ seed: 7, years: 0.15, fullRuns: true });
    expect(full.steadyStateRunsSkipped).toBe(0);
    expect(full.rotationRuns).toBe(fast.rotationRuns + fast.steadyStateRunsSkipped);
    const comparable = (r: typeof fast) => ({
      ...r,
      rotationRuns: 0,
      steadyStateRunsSkipped: 0,
      wallClockMs: 0,
    });
    expect(comparable(full)).toEqual(comparable(fast));
  });

  it('a revoked key stops verifying once the cache bound has passed; nothing else breaks', {
    timeout: 300_000,
  }, async () => {
    for (const seed of [2]) {
      const report = await simulate({ seed, years: 1, revoke: true });
      expect(report.revoked).toBeDefined();
      expect(report.rejectedRevoked).toBeGreaterThan(0);
      // Verifiers that fetched the JWKS just before the revoke still accept, within the bound.
      expect(report.acceptedRevokedWithinCacheBound).toBeGreaterThan(0);
      expect(violations(report)).toEqual(ZERO);
    }
  });

  it('control: a verifier cache longer than jwksMaxAge accepts a revoked key too long (acceptedRevoked can fail)', {
    timeout: 300_000,
  }, async () => {
    const report = await simulate({ seed: 2, years: 1, revoke: true, verifierCacheMaxAgeSeconds: 7200 });
    expect(report.acceptedRevoked).toBeGreaterThan(0);
  });

  it('control: a verifier cache longer than the publish lead makes valid tokens fail (the measure can fail)', {
    timeout: 300_000,
  }, async () => {
    const report = await simulate({ seed: 1, years: 0.25, verifierCacheMaxAgeSeconds: 3 * 86_400 });
    expect(report.rejectedValid).toBeGreaterThan(0);
    expect(report.examples.join('\n')).toContain('TOKEN_KID_UNKNOWN');
  });

  it('control: a node picking up keys later than the bound signs with keys past their retention', {
    timeout: 300_000,
  }, async () => {
    const report = await simulate({ seed: 1, years: 0.25, nodeSyncLagSeconds: 3 * 86_400 });
    expect(report.rejectedValid + report.signFailures).toBeGreaterThan(0);
  });
});

describe('irsa-anywhere simulate', () => {
  it('prints the JSON report with the required fields and exits 0', { timeout: 300_000 }, async () => {
    const result = await runCli('simulate', '--years', '1', '--seed', '3', '--json');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as Record<string, unknown>;
    for (const field of [
      'tokensIssued',
      'rejectedValid',
      'acceptedRevoked',
      'maxKeysPublished',
      'maxActiveKeyAgeHours',
    ]) {
      expect(report).toHaveProperty(field);
    }
    expect(report.rejectedValid).toBe(0);
    expect(report.tokensIssued).toBeGreaterThan(1000);
  });

  it('refuses a bad --years with a coded error', async () => {
    const result = await runCli('simulate', '--years', 'ten');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error FLAG_INVALID: --years/);
  });
});
