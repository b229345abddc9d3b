/**
 * `simulate --overlap` (issue 11 item 5): overlapping runs never publish a revoked key again and
 * never drop a pending or active key. The control shows the simulation catches both when the
 * publish is not conditional (the code before the fix).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { overlapOverSeeds } from '../../../scripts/lib/simulate/modes.ts';
import { runOverlap } from '../../../scripts/lib/simulate/overlap.ts';

describe('simulate --overlap', () => {
  it('publishes no stale revoked key and drops no pending key over seeds 1-20', {
    timeout: 600_000,
  }, async () => {
    const summary = await overlapOverSeeds(1, 20, 2);
    console.info(`overlap seeds 1-20 x 2 days: ${JSON.stringify({ ...summary, examples: undefined })}`);
    expect(summary.overlappingRuns).toBeGreaterThan(0);
    expect(summary.revokes).toBeGreaterThan(0);
    expect(summary.publishConflicts).toBeGreaterThan(0);
    expect(summary.staleRevokedPublished).toBe(0);
    expect(summary.pendingDropped).toBe(0);
    expect(summary.finalInconsistent).toBe(0);
  });

  it('control: with unconditional publishes the same runs do publish stale documents', {
    timeout: 600_000,
  }, async () => {
    let stale = 0;
    let dropped = 0;
    for (const seed of [1, 2]) {
      const dir = await mkdtemp(join(tmpdir(), 'irsa-overlap-control-'));
      try {
        const report = await runOverlap({ dir, seed, days: 30, unconditionalPublish: true });
        stale += report.staleRevokedPublished;
        dropped += report.pendingDropped;
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
    console.info(`overlap control (unconditional publish): stale revoked ${stale}, dropped ${dropped}`);
    expect(stale + dropped).toBeGreaterThan(0);
  });
});
