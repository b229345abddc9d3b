/**
 * The benchmark report: its JSON shape, the targets it is judged against and the bottleneck (the
 * target with the least headroom). The table `npm run bench` prints is in render.ts.
 */
import type { ProfileShare } from './profile.ts';

/** One Lambda bundle as deployed. */
export interface BundleFigures {
  function: string;
  /** Size of the bundled .mjs. */
  bytes: number;
  /** Size of the deployment zip holding it. */
  zipBytes: number;
  /** Median time to import the bundle in a fresh node process (reported; no longer a target). */
  importMs: number;
  /** The same for an empty ESM handler, measured in the same rounds. */
  floorImportMs: number;
  /** The same for an empty handler importing only the node builtins the bundles import. */
  builtinsImportMs: number;
}

/** Throughput of our code against a baseline, as medians of interleaved rounds. */
export interface ThroughputFigures {
  opsPerSec: number;
  baselineOpsPerSec: number;
  /** Median of the per-round ratios opsPerSec / baselineOpsPerSec. */
  ratio: number;
}

/** Server CPU per Sign at one concurrency: the signer against the floor, medians of rounds. */
export interface SignerConcurrencyFigures {
  concurrency: number;
  /** CPU time of the signer's process per Sign RPC. */
  cpuMsPerCall: number;
  /** The floor: the bare server's CPU per Sign minus its signature's, same rounds. */
  floorCpuMsPerCall: number;
  /** CPU time of the signature inside the bare server while serving, per Sign. */
  signatureCpuMs: number;
  /** CPU time of the bare grpc-js server that makes the same signature (floor + signature). */
  floorWithSignatureCpuMsPerCall: number;
  /** Median over rounds of (signer − floor with signature), each from the same round. */
  excessCpuMsPerCall: number;
  opsPerSec: number;
  floorOpsPerSec: number;
}

/** The signer with one key type. */
export interface SignerAlgFigures {
  /** CPU time of the signature alone in a loop (in-process signing), in the signer's process. */
  signatureCpuMs: number;
  byConcurrency: SignerConcurrencyFigures[];
}

/** `signer`: warm server CPU per call. */
export interface SignerFigures {
  warmupCalls: number;
  roundMs: number;
  RS256: SignerAlgFigures;
  ES256: SignerAlgFigures;
}

/** One offered rate of the production-shape benchmark, medians of rounds. */
export interface KmsSimRateFigures {
  rate: number;
  achievedPerSec: number;
  achievedRatio: number;
  p50Ms: number;
  p99Ms: number;
  /** The simulated backend's own latency (delay + signature), same calls. */
  backendP50Ms: number;
  backendP99Ms: number;
  /** Median over rounds of (client p99 − backend p99). */
  addedP99Ms: number;
  /** How late the client process sent its calls (its own scheduling), p99. */
  sendLagP99Ms: number;
  /** Failed calls, all rounds. */
  errors: number;
}

/** `kmsSim`: the signer with a KMS-like backend, open loop. */
export interface KmsSimFigures {
  keySpec: string;
  delayMs: string;
  rates: KmsSimRateFigures[];
  uncapped: { concurrency: number; opsPerSec: number; p99Ms: number };
}

/** `kmsBackend`: the real KmsSigner against a loopback fake KMS. */
export interface KmsBackendFigures {
  /** How the benchmark's KMS client is built (the signer's own settings). */
  client: string;
  RS256: { cpuMsPerSign: number; opsPerSec: number };
  ES256: { cpuMsPerSign: number; opsPerSec: number };
  /** RS256 through the signer's former client settings (no `cacheMiddleware`), same rounds. */
  withoutCacheMiddleware: { cpuMsPerSign: number; opsPerSec: number };
  /** TCP connections the fake KMS accepted over the whole run (1 per client: reuse works). */
  connections: number;
  /** Self time of a profiled run, by package, as shares of the busy samples. */
  profile: ProfileShare[];
}

/** One way of starting the CLI: median wall times and per-round ratios to `node -e 0`. */
export interface CliEntryFigures {
  helpMs: number;
  statusMs: number;
  helpRatio: number;
  statusRatio: number;
}

/** `cli`: start-up wall time. */
export interface CliFigures {
  floorMs: number;
  /** Through dist/irsa-anywhere.mjs, or why it could not be measured. */
  bundle: CliEntryFigures | { missing: string };
  /** Through scripts/bin.mjs (tsx). */
  source: CliEntryFigures;
}

/** `steadyState`: the AWS requests of a rotate run with nothing to do. */
export interface SteadyStateFigures {
  /** S3 and KMS requests, all kinds. */
  requests: number;
  /** Requests that change something (S3 put/delete/copy, KMS anything but reads). */
  writes: number;
  /** Each request name and its count. */
  byName: Record<string, number>;
}

/** The whole report (`npm run bench -- --json`). */
export interface BenchReport {
  date: string;
  machine: {
    node: string;
    platform: string;
    arch: string;
    cpus: number;
    cpuModel: string;
    /** 1, 5 and 15 minute load averages at the start and the end of the run. */
    loadAverage: { start: number[]; end: number[] };
  };
  rounds: number;
  durationMs: number;
  signer: SignerFigures;
  kmsSim: KmsSimFigures;
  kmsBackend: KmsBackendFigures;
  cli: CliFigures;
  bundles: BundleFigures[];
  steadyState: SteadyStateFigures;
  verify: ThroughputFigures;
  planner: { ms: number };
  targets: TargetResult[];
  bottleneck: string;
}

/** One target checked against the figures. */
export interface TargetResult {
  name: string;
  /** The figure, or null when it could not be measured (the target then fails). */
  value: number | null;
  /** Human-readable target, e.g. "<= 150 KB". */
  target: string;
  pass: boolean;
  /** How far inside the target the value is, as a log ratio (negative = missed). */
  headroom: number;
  /** Why the value is missing, when it is. */
  note?: string;
}

/** The targets of issue 16. */
export const TARGETS = {
  signerExcessCpuMsMax: 0.1,
  kmsSimAchievedRatioMin: 0.95,
  kmsSimAddedP99MsMax: 5,
  kmsBackendCpuMsMax: 1,
  cliHelpRatioMax: 4,
  cliStatusRatioMax: 6,
  zipBytesMax: 150 * 1024,
  steadyStateRequestsMax: 3,
  steadyStateWritesMax: 0,
} as const;

/** The figures the targets are checked against. */
export type TargetFigures = Pick<
  BenchReport,
  'signer' | 'kmsSim' | 'kmsBackend' | 'cli' | 'bundles' | 'steadyState'
>;

/** ln(better / worse): 0 at the limit, negative when missed, comparable across units. */
function logHeadroom(better: number, worse: number): number {
  if (worse <= 0) return better > 0 ? 1 : better === worse ? 0 : -1;
  if (better <= 0) return -10;
  return Math.log(better / worse);
}

/** A maximum; a maximum of 0 has no ratio: 1 when met, minus the log of the excess when not. */
export function atMost(name: string, value: number, max: number, target: string): TargetResult {
  const pass = value <= max;
  const headroom = max === 0 ? (pass ? 1 : -Math.log(1 + value)) : logHeadroom(max, value);
  return { name, value, target, pass, headroom };
}

/** A minimum. */
export function atLeast(name: string, value: number, min: number, target: string): TargetResult {
  return { name, value, target, pass: value >= min, headroom: logHeadroom(value, min) };
}

/** A target whose figure is missing: it fails, and says why. */
export function missing(name: string, target: string, note: string): TargetResult {
  return { name, value: null, target, pass: false, headroom: -10, note };
}

const r3 = (value: number) => Math.round(value * 1000) / 1000;

/** Checks every figure against its target. */
export function evaluateTargets(figures: TargetFigures): TargetResult[] {
  const results: TargetResult[] = [];
  for (const alg of ['RS256', 'ES256'] as const) {
    const signer = figures.signer[alg];
    for (const c of signer.byConcurrency) {
      results.push(
        atMost(
          `signer.${alg}.c${c.concurrency}.excessCpuMsPerCall`,
          c.excessCpuMsPerCall,
          TARGETS.signerExcessCpuMsMax,
          `<= 0.1 ms (signer ${c.cpuMsPerCall} <= floor + signature ${c.floorWithSignatureCpuMsPerCall} (${c.floorCpuMsPerCall} + ${c.signatureCpuMs}) + 0.1; in-process loop signature ${signer.signatureCpuMs})`,
        ),
      );
    }
  }
  for (const rate of figures.kmsSim.rates) {
    results.push(
      atLeast(
        `kmsSim.${rate.rate}.achievedRatio`,
        rate.achievedRatio,
        TARGETS.kmsSimAchievedRatioMin,
        '>= 0.95',
      ),
      atMost(`kmsSim.${rate.rate}.addedP99Ms`, rate.addedP99Ms, TARGETS.kmsSimAddedP99MsMax, '<= 5 ms'),
    );
  }
  for (const alg of ['RS256', 'ES256'] as const) {
    results.push(
      atMost(
        `kmsBackend.${alg}.cpuMsPerSign`,
        figures.kmsBackend[alg].cpuMsPerSign,
        TARGETS.kmsBackendCpuMsMax,
        '<= 1 ms',
      ),
    );
  }
  const bundle = figures.cli.bundle;
  if ('missing' in bundle) {
    results.push(
      missing('cli.help.floorRatio', '<= 4x node -e 0 (bundle)', bundle.missing),
      missing('cli.status.floorRatio', '<= 6x node -e 0 (bundle)', bundle.missing),
    );
  } else {
    results.push(
      atMost(
        'cli.help.floorRatio',
        r3(bundle.helpRatio),
        TARGETS.cliHelpRatioMax,
        '<= 4x node -e 0 (bundle)',
      ),
      atMost(
        'cli.status.floorRatio',
        r3(bundle.statusRatio),
        TARGETS.cliStatusRatioMax,
        '<= 6x node -e 0 (bundle)',
      ),
    );
  }
  for (const b of figures.bundles) {
    results.push(atMost(`bundles.${b.function}.zipBytes`, b.zipBytes, TARGETS.zipBytesMax, '<= 150 KB'));
  }
  results.push(
    atMost('steadyState.requests', figures.steadyState.requests, TARGETS.steadyStateRequestsMax, '<= 3'),
    atMost('steadyState.writes', figures.steadyState.writes, TARGETS.steadyStateWritesMax, '= 0'),
  );
  return results;
}

/** The target with the least headroom: what to work on next (a missed target first). */
export function findBottleneck(results: readonly TargetResult[]): string {
  const worst = [...results].sort((a, b) => a.headroom - b.headroom)[0];
  if (worst === undefined) return 'none';
  const state = worst.pass
    ? `closest to its target (${Math.round(worst.headroom * 100)}% headroom)`
    : worst.value === null
      ? `NOT MEASURED: ${worst.note ?? 'no value'}`
      : 'MISSED';
  return `${worst.name} = ${worst.value} (target ${worst.target}): ${state}`;
}
