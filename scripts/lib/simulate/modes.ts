/**
 * The two checks `simulate` runs besides the multi-year simulation:
 * - `--overlap`: {@link runOverlap} over a range of seeds, summed;
 * - `--faults`: the crash and fault injection suite (test/reliability/fault-engine.ts). It runs on
 *   the tests' stateful AWS fake (aws-sdk-client-mock, a dev dependency), so it is loaded at run time
 *   from a checkout of the repository, like `bench`; elsewhere it fails with SIMULATE_FAULTS_UNAVAILABLE.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IrsaError } from '#core/errors.ts';
import { type OverlapReport, overlapViolations, runOverlap } from './overlap.ts';

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
    runs: 0,
    overlappingRuns: 0,
    slowRuns: 0,
    diedRuns: 0,
    revokes: 0,
    rotateNows: 0,
    publishes: 0,
    publishConflicts: 0,
    staleRevokedPublished: 0,
    pendingDropped: 0,
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
    for (const name of [
      'runs',
      'overlappingRuns',
      'slowRuns',
      'diedRuns',
      'revokes',
      'rotateNows',
      'publishes',
      'publishConflicts',
      'staleRevokedPublished',
      'pendingDropped',
    ] as const) {
      summary[name] += report[name];
    }
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

/** Runs the fault suite from the repository checkout. */
export async function faultSuite(): Promise<FaultsSummary & { examples: string[] }> {
  // A computed path: bundlers leave it alone, and the bundled CLI reports it missing.
  const engine = ['..', '..', '..', 'test', 'reliability', 'fault-engine.ts'].join('/');
  let module: { runFaultSuite(): Promise<FaultsSummary & { examples: string[] }> };
  try {
    module = (await import(new URL(engine, import.meta.url).href)) as typeof module;
  } catch (error) {
    throw new IrsaError(
      'SIMULATE_FAULTS_UNAVAILABLE',
      'simulate --faults needs the test suite of a repository checkout (test/reliability/fault-engine.ts and the dev dependencies).',
      'Run it from a clone after `npm ci`: `node scripts/bin.mjs simulate --faults`.',
      { cause: error },
    );
  }
  return module.runFaultSuite();
}
