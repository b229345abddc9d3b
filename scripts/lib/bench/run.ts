/**
 * Runs every benchmark, one after the other (each spawns its own processes and is quiet while the
 * next runs), and assembles the report with its targets and bottleneck.
 */
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { benchBundles } from './bundles.ts';
import { benchCliStart } from './cli-start.ts';
import { benchKmsBackend } from './kms-backend.ts';
import { benchKmsSim } from './kms-sim.ts';
import { benchPlanner } from './planner.ts';
import { type BenchReport, evaluateTargets, findBottleneck } from './report.ts';
import { benchSigner } from './signer.ts';
import { benchSteadyState } from './steady-state.ts';
import { benchVerify } from './verify.ts';

/** How a run is done. */
export interface BenchOptions {
  /** The repository root (where serverless.yml is). */
  root: string;
  /** Rounds of the server benchmarks (signer, kmsSim, kmsBackend); each figure is their median. */
  rounds: number;
  /** Length of one server round (at least 2 s for the signer's CPU figures). */
  roundMs: number;
  /** Progress lines (stderr in the CLI, so --json keeps stdout to the report). */
  progress: (message: string) => void;
  now?: () => Date;
}

/** Default rounds and round length: under 3 minutes in all on a quiet 2-core machine. */
export const DEFAULT_ROUNDS = 3;
export const DEFAULT_ROUND_MS = 2_000;
/** Rounds of the process-spawning benchmarks (CLI start, Lambda imports): short, so more of them. */
export const SPAWN_ROUNDS = 7;

const load = () => loadavg().map((value) => Math.round(value * 100) / 100);

/** Runs every benchmark and returns the report. */
export async function runBenchmarks(options: BenchOptions): Promise<BenchReport> {
  const start = performance.now();
  const loadAtStart = load();
  const { rounds, roundMs, progress } = options;
  const step = async <T>(name: string, body: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    progress(`${name}: running (load average ${load().join(' ')})`);
    const result = await body();
    progress(`${name}: done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    return result;
  };
  const signer = await step('signer', () => benchSigner({ rounds, roundMs, progress }));
  const kmsSim = await step('kmsSim', () => benchKmsSim({ rounds, roundMs, progress }));
  const kmsBackend = await step('kmsBackend', () =>
    benchKmsBackend({ rounds, roundMs: Math.max(500, roundMs / 2), progress }),
  );
  const cli = await step('cli', () => benchCliStart({ root: options.root, rounds: SPAWN_ROUNDS, progress }));
  const bundles = await step('bundles', () =>
    benchBundles({ root: options.root, rounds: SPAWN_ROUNDS, progress }),
  );
  const steadyState = await step('steadyState', () => benchSteadyState({ runs: 3 }));
  const verify = await step('verify', () => benchVerify({ rounds: 5, roundMs: 300 }));
  const planner = await step('planner', () => benchPlanner({ rounds: 5 }));
  const figures = { signer, kmsSim, kmsBackend, cli, bundles, steadyState, verify, planner };
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
      loadAverage: { start: loadAtStart, end: load() },
    },
    rounds,
    durationMs: Math.round(performance.now() - start),
    ...figures,
    targets,
    bottleneck: findBottleneck(targets),
  };
}
