/**
 * The two checks `simulate` runs besides the multi-year simulation:
 * - `--overlap`: {@link runOverlap} over a range of seeds, summed;
 * - `--faults`: the crash and fault injection suite (fault-engine.ts) on the in-memory AWS
 *   adapter (functions/adapters/memory); the tests run the same engine.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  OVERLAP_COUNTERS,
  type OverlapReport,
  overlapViolations,
  runOverlap,
  zeroCounters,
} from './overlap.ts';

/** The sum of {@link runOverlap} over seeds. */
export type OverlapSummary = Omit<OverlapReport, 'seed' | 'finalConsistent'> & {
  seeds: { from: number; to: number };
  /** Seeds whose final public JWKS did not equal the newest keyset's keys. */
  finalInconsistent: number;
};

/** Runs the overlap simulation for each seed in `from..to`, each in a fresh directory. */
export async function overlapOverSeeds(from: number, to: number, days: number): Promise<OverlapSummary> {
  const summary: OverlapSummary = {
    seeds: { from, to },
    days,
    ...zeroCounters(),
    finalInconsistent: 0,
    examples: [],
  };
  for (let seed = from; seed <= to; seed += 1) {
    const dir = await mkdtemp(join(tmpdir(), 'irsa-anywhere-overlap-'));
    let report: OverlapReport;
    try {
      report = await runOverlap({ dir, seed, days });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    for (const name of OVERLAP_COUNTERS) summary[name] += report[name];
    summary.finalInconsistent += overlapViolations(report).finalInconsistent ?? 0;
    for (const line of report.examples)
      if (summary.examples.length < 10) summary.examples.push(`seed ${seed}: ${line}`);
  }
  return summary;
}

/** What `simulate --faults` prints. */
export interface FaultsSummary {
  cases: number;
  violations: number;
  leftoverKeys: number;
  leftoverObjects: number;
  persistentFailureKeysCreated: number;
}

/** Runs the fault suite (scripts/lib/simulate/fault-engine.ts, on the in-memory AWS adapter). */
export async function faultSuite(): Promise<FaultsSummary & { examples: string[] }> {
  // Loaded on demand: only --faults pays for the engine.
  const { runFaultSuite } = await import('./fault-engine.ts');
  return runFaultSuite();
}
