/**
 * The benchmark report: its JSON shape, the targets it is judged against, the bottleneck (the
 * target with the least headroom) and the table `npm run bench` prints.
 */

/** One Lambda bundle as deployed. */
export interface BundleFigures {
  function: string;
  /** Size of the bundled .mjs. */
  bytes: number;
  /** Size of the deployment zip holding it. */
  zipBytes: number;
  /** Median time to import the bundle in a fresh node process. */
  importMs: number;
  /** The same for an empty ESM handler, measured in the same run. */
  floorImportMs: number;
  /**
   * The same for an empty handler that imports only the node builtins the bundles import
   * (node:https, node:crypto, ...): what any function calling AWS pays before its own code.
   */
  builtinsImportMs: number;
}

/** Throughput of our code against a baseline, as medians of interleaved rounds. */
export interface ThroughputFigures {
  opsPerSec: number;
  baselineOpsPerSec: number;
  /** Median of the per-round ratios opsPerSec / baselineOpsPerSec. */
  ratio: number;
}

/** Sign over the socket against in-process signing with the same key. */
export interface SignerFigures extends ThroughputFigures {
  p50Ms: number;
  p99Ms: number;
  baselineP99Ms: number;
  /**
   * CPU time the signer process spends per Sign RPC (gRPC and signing; the client is another
   * process), median of the throughput rounds. Unlike wall time, other processes do not inflate it.
   */
  serverCpuMsPerCall: number;
  /** CPU time per in-process signature, measured the same way. */
  baselineCpuMsPerCall: number;
}

/** The whole report (`npm run bench -- --json`). */
export interface BenchReport {
  date: string;
  machine: { node: string; platform: string; arch: string; cpus: number; cpuModel: string };
  rounds: number;
  durationMs: number;
  bundles: BundleFigures[];
  verify: ThroughputFigures;
  signer: {
    RS256: SignerFigures;
    ES256: SignerFigures;
    /** A bare grpc-js server answering Sign with a canned response: the socket path's floor. */
    grpcFloor: { opsPerSec: number; cpuMsPerCall: number };
  };
  steadyState: { s3Get: number; s3Put: number; kmsCalls: number };
  planner: { ms: number };
  targets: TargetResult[];
  bottleneck: string;
}

/** One target checked against the figures. */
export interface TargetResult {
  name: string;
  value: number;
  /** Human-readable target, e.g. "<= 150 KB". */
  target: string;
  pass: boolean;
  /**
   * How far inside the target the value is, as a log ratio (0.2 ≈ 20% of headroom; negative =
   * missed). Used to name the bottleneck.
   */
  headroom: number;
}

/** Targets from the issues. */
export const TARGETS = {
  zipBytesMax: 150 * 1024,
  importFloorRatioMax: 3,
  verifyRatioMin: 0.9,
  signerRatioMin: 0.8,
  signerAddedP99MsMax: 1,
  steadyStateS3PutMax: 0,
} as const;

type Figures = Omit<BenchReport, 'targets' | 'bottleneck' | 'date' | 'machine' | 'rounds' | 'durationMs'>;

/**
 * Headroom as a log ratio, so figures of different units compare fairly: ln(limit / value) for a
 * maximum, ln(value / limit) for a minimum; 0 at the limit, negative when missed (ln 2 = a value
 * twice too big or half too small, either way).
 */
function logHeadroom(better: number, worse: number): number {
  if (worse <= 0) return better > 0 ? 1 : better === worse ? 0 : -1;
  if (better <= 0) return -10; // nothing at all where something was needed: the worst miss
  return Math.log(better / worse);
}

const atMost = (name: string, value: number, max: number, target: string, strict = false): TargetResult => {
  const pass = strict ? value < max : value <= max;
  // A maximum of 0 (no S3 put at all) has no ratio: 1 when met, minus the log of the excess when not.
  const headroom = max === 0 ? (pass ? 1 : -Math.log(1 + value)) : logHeadroom(max, value);
  return { name, value, target, pass, headroom };
};

const atLeast = (name: string, value: number, min: number, target: string): TargetResult => ({
  name,
  value,
  target,
  pass: value >= min,
  headroom: logHeadroom(value, min),
});

/** Checks every figure against its target. */
export function evaluateTargets(figures: Figures): TargetResult[] {
  const results: TargetResult[] = [];
  for (const bundle of figures.bundles) {
    results.push(
      atMost(`bundles.${bundle.function}.zipBytes`, bundle.zipBytes, TARGETS.zipBytesMax, '<= 150 KB'),
      atMost(
        `bundles.${bundle.function}.importMs / floorImportMs`,
        bundle.floorImportMs > 0
          ? Math.round((bundle.importMs / bundle.floorImportMs) * 100) / 100
          : Number.POSITIVE_INFINITY,
        TARGETS.importFloorRatioMax,
        '<= 3x',
      ),
    );
  }
  results.push(atLeast('verify.ratio', figures.verify.ratio, TARGETS.verifyRatioMin, '>= 0.9'));
  for (const alg of ['RS256', 'ES256'] as const) {
    const signer = figures.signer[alg];
    results.push(
      atLeast(`signer.${alg}.ratio`, signer.ratio, TARGETS.signerRatioMin, '>= 0.8'),
      atMost(
        `signer.${alg}.p99Ms - baselineP99Ms`,
        Math.round((signer.p99Ms - signer.baselineP99Ms) * 1000) / 1000,
        TARGETS.signerAddedP99MsMax,
        '< 1 ms',
        true,
      ),
    );
  }
  results.push(atMost('steadyState.s3Put', figures.steadyState.s3Put, TARGETS.steadyStateS3PutMax, '= 0'));
  return results;
}

/** The target with the least headroom: what to work on next (a missed target first). */
export function findBottleneck(results: readonly TargetResult[]): string {
  const worst = [...results].sort((a, b) => a.headroom - b.headroom)[0];
  if (worst === undefined) return 'none';
  const state = worst.pass
    ? `closest to its target (${Math.round(worst.headroom * 100)}% headroom)`
    : 'MISSED';
  return `${worst.name} = ${worst.value} (target ${worst.target}): ${state}`;
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, col) => Math.max(...rows.map((row) => (row[col] ?? '').length))) ?? [];
  return rows
    .map((row) =>
      row
        .map((cell, col) => (col === 0 ? cell.padEnd(widths[col] ?? 0) : cell.padStart(widths[col] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
const fixed = (value: number, digits = 2) => value.toFixed(digits);

/** The readable report `npm run bench` prints. */
export function renderReport(report: BenchReport): string {
  const m = report.machine;
  const out: string[] = [
    `irsa-anywhere benchmarks — ${report.date} — node ${m.node}, ${m.platform}/${m.arch}, ${m.cpus} CPU (${m.cpuModel})`,
    `medians of ${report.rounds} rounds; whole run ${(report.durationMs / 1000).toFixed(1)} s`,
    '',
    'Lambda bundles',
    table([
      ['function', 'bundle', 'zip', 'import ms', 'floor ms', 'x floor', 'builtins-only ms'],
      ...report.bundles.map((b) => [
        b.function,
        kb(b.bytes),
        kb(b.zipBytes),
        fixed(b.importMs, 1),
        fixed(b.floorImportMs, 1),
        fixed(b.importMs / b.floorImportMs),
        fixed(b.builtinsImportMs, 1),
      ]),
    ]),
    '',
    'Throughput (ours vs baseline, interleaved)',
    table([
      [
        'figure',
        'ops/s',
        'baseline ops/s',
        'ratio',
        'p50 ms',
        'p99 ms',
        'baseline p99 ms',
        'CPU ms/call',
        'baseline CPU ms/call',
      ],
      [
        'verify (vs jose jwtVerify)',
        fixed(report.verify.opsPerSec, 0),
        fixed(report.verify.baselineOpsPerSec, 0),
        fixed(report.verify.ratio, 3),
        '',
        '',
        '',
        '',
        '',
      ],
      ...(['RS256', 'ES256'] as const).map((alg) => {
        const s = report.signer[alg];
        return [
          `signer ${alg} (socket vs in-process)`,
          fixed(s.opsPerSec, 0),
          fixed(s.baselineOpsPerSec, 0),
          fixed(s.ratio, 3),
          fixed(s.p50Ms, 3),
          fixed(s.p99Ms, 3),
          fixed(s.baselineP99Ms, 3),
          fixed(s.serverCpuMsPerCall, 3),
          fixed(s.baselineCpuMsPerCall, 3),
        ];
      }),
    ]),
    '',
    `gRPC floor (bare grpc-js server, canned Sign): ${fixed(report.signer.grpcFloor.opsPerSec, 0)} ops/s, ${fixed(report.signer.grpcFloor.cpuMsPerCall, 3)} ms CPU per call`,
    '',
    `Steady-state rotate run: S3 GetObject ${report.steadyState.s3Get}, S3 PutObject ${report.steadyState.s3Put}, KMS calls ${report.steadyState.kmsCalls}`,
    `Planner (plan + JWKS for 100 keys): ${fixed(report.planner.ms, 3)} ms`,
    '',
    'Targets',
    table([
      ['figure', 'value', 'target', 'result'],
      ...report.targets.map((t) => [t.name, String(t.value), t.target, t.pass ? 'PASS' : 'MISS']),
    ]),
    '',
    `Bottleneck: ${report.bottleneck}`,
  ];
  return out.join('\n');
}
