/**
 * Runs every benchmark in one process, one after the other (bundles first: they spawn processes;
 * then the in-process ones), and assembles the report with its targets and bottleneck.
 */
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { benchBundles } from './bundles.ts';
import { benchPlanner } from './planner.ts';
import { type BenchReport, evaluateTargets, findBottleneck } from './report.ts';
import { benchSigner } from './signer.ts';
import { benchSteadyState } from './steady-state.ts';
import { benchVerify } from './verify.ts';

/** How a run is done. */
export interface BenchOptions {
  /** The repository root (where serverless.yml is). */
  root: string;
  /** Rounds per figure; each figure is the median over them. */
  rounds: number;
  /** Length of one timed round of the throughput benchmarks. */
  roundMs: number;
  /** Progress lines (stderr in the CLI, so --json keeps stdout to the report). */
  progress: (message: string) => void;
  now?: () => Date;
}

/** Default rounds and round length: about a minute and a half in all on a 2-core machine. */
export const DEFAULT_ROUNDS = 7;
export const DEFAULT_ROUND_MS = 300;

/** Runs every benchmark and returns the report. */
export async function runBenchmarks(options: BenchOptions): Promise<BenchReport> {
  const start = performance.now();
  const { rounds, roundMs, progress } = options;
  const step = async <T>(name: string, body: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    progress(`${name}: running`);
    const result = await body();
    progress(`${name}: done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    return result;
  };
  const bundles = await step('bundles', () => benchBundles({ root: options.root, rounds, progress }));
  const steadyState = await step('steadyState', () => benchSteadyState({ runs: rounds }));
  const planner = await step('planner', () => benchPlanner({ rounds }));
  // Twice the rounds for verify: its rounds are cheap and its ratio is the noisiest.
  const verify = await step('verify', () => benchVerify({ rounds: rounds * 2, roundMs }));
  const signer = await step('signer', () => benchSigner({ rounds, roundMs }));
  const figures = { bundles, verify, signer, steadyState, planner };
  const targets = evaluateTargets(figures);
  const cpu = cpus();
  return {
    date: (options.now?.() ?? new Date()).toISOString(),
    machine: {
      node: process.version,
      platform: process.platform,
      arch: process.arch,
      cpus: cpu.length,
      cpuModel: cpu[0]?.model.trim() ?? 'unknown',
    },
    rounds,
    durationMs: Math.round(performance.now() - start),
    ...figures,
    targets,
    bottleneck: findBottleneck(targets),
  };
}
