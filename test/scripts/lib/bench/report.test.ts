import { describe, expect, it } from 'vitest';
import {
  type BenchReport,
  evaluateTargets,
  findBottleneck,
  renderReport,
  type SignerFigures,
} from '#scripts/lib/bench/report.ts';

const signer = (ratio: number, p99Ms: number, baselineP99Ms: number): SignerFigures => ({
  opsPerSec: 900,
  baselineOpsPerSec: 1000,
  ratio,
  p50Ms: 1,
  p99Ms,
  baselineP99Ms,
  serverCpuMsPerCall: 0.2,
  baselineCpuMsPerCall: 0.1,
});

function figures(
  overrides: Partial<Pick<BenchReport, 'bundles' | 'verify' | 'signer' | 'steadyState' | 'planner'>> = {},
) {
  return {
    bundles: [
      {
        function: 'rotate',
        bytes: 400_000,
        zipBytes: 120_000,
        importMs: 60,
        floorImportMs: 30,
        builtinsImportMs: 50,
      },
    ],
    verify: { opsPerSec: 1900, baselineOpsPerSec: 2000, ratio: 0.95 },
    signer: {
      RS256: signer(0.9, 2.5, 2),
      ES256: signer(0.85, 0.6, 0.1),
      grpcFloor: { opsPerSec: 3000, cpuMsPerCall: 0.3 },
    },
    steadyState: { s3Get: 1, s3Put: 0, kmsCalls: 0 },
    planner: { ms: 12.5 },
    ...overrides,
  };
}

function report(overrides: Parameters<typeof figures>[0] = {}): BenchReport {
  const f = figures(overrides);
  const targets = evaluateTargets(f);
  return {
    date: '2026-11-22T16:00:00.000Z',
    machine: { node: 'v20.20.2', platform: 'linux', arch: 'x64', cpus: 2, cpuModel: 'test cpu' },
    rounds: 7,
    durationMs: 61_000,
    ...f,
    targets,
    bottleneck: findBottleneck(targets),
  };
}

const byName = (r: BenchReport, name: string) => r.targets.find((t) => t.name === name);

describe('evaluateTargets', () => {
  it('passes every target when every figure is inside it', () => {
    const r = report();
    expect(r.targets.map((t) => t.name)).toEqual([
      'bundles.rotate.zipBytes',
      'bundles.rotate.importMs / floorImportMs',
      'verify.ratio',
      'signer.RS256.ratio',
      'signer.RS256.p99Ms - baselineP99Ms',
      'signer.ES256.ratio',
      'signer.ES256.p99Ms - baselineP99Ms',
      'steadyState.s3Put',
    ]);
    expect(r.targets.every((t) => t.pass)).toBe(true);
  });

  it('misses a zip over 150 KB and an import over 3x the floor', () => {
    const r = report({
      bundles: [
        {
          function: 'rotate',
          bytes: 1,
          zipBytes: 150 * 1024 + 1,
          importMs: 91,
          floorImportMs: 30,
          builtinsImportMs: 50,
        },
      ],
    });
    expect(byName(r, 'bundles.rotate.zipBytes')?.pass).toBe(false);
    expect(byName(r, 'bundles.rotate.importMs / floorImportMs')).toMatchObject({ value: 3.03, pass: false });
  });

  it('accepts exactly 150 KB and exactly 3x', () => {
    const r = report({
      bundles: [
        {
          function: 'rotate',
          bytes: 1,
          zipBytes: 150 * 1024,
          importMs: 90,
          floorImportMs: 30,
          builtinsImportMs: 50,
        },
      ],
    });
    expect(byName(r, 'bundles.rotate.zipBytes')?.pass).toBe(true);
    expect(byName(r, 'bundles.rotate.importMs / floorImportMs')?.pass).toBe(true);
  });

  it('misses verify under 0.9, a signer under 0.8, 1 ms or more added at p99, and any S3 put', () => {
    const r = report({
      verify: { opsPerSec: 1, baselineOpsPerSec: 2, ratio: 0.89 },
      signer: {
        RS256: signer(0.79, 3, 2),
        ES256: signer(0.8, 1.099, 0.1),
        grpcFloor: { opsPerSec: 1, cpuMsPerCall: 1 },
      },
      steadyState: { s3Get: 1, s3Put: 1, kmsCalls: 0 },
    });
    expect(byName(r, 'verify.ratio')?.pass).toBe(false);
    expect(byName(r, 'signer.RS256.ratio')?.pass).toBe(false);
    expect(byName(r, 'signer.ES256.ratio')?.pass).toBe(true);
    expect(byName(r, 'signer.RS256.p99Ms - baselineP99Ms')).toMatchObject({ value: 1, pass: false });
    expect(byName(r, 'signer.ES256.p99Ms - baselineP99Ms')).toMatchObject({ value: 0.999, pass: true });
    expect(byName(r, 'steadyState.s3Put')?.pass).toBe(false);
  });
});

describe('findBottleneck', () => {
  it('names the missed target furthest from its limit', () => {
    const r = report({
      verify: { opsPerSec: 1, baselineOpsPerSec: 2, ratio: 0.85 },
      signer: {
        RS256: signer(0.4, 2, 2),
        ES256: signer(0.9, 0.1, 0.1),
        grpcFloor: { opsPerSec: 1, cpuMsPerCall: 1 },
      },
    });
    expect(r.bottleneck).toBe('signer.RS256.ratio = 0.4 (target >= 0.8): MISSED');
  });
  it('names the target with the least headroom when all pass', () => {
    expect(report().bottleneck).toBe(
      'verify.ratio = 0.95 (target >= 0.9): closest to its target (5% headroom)',
    );
  });
});

describe('renderReport', () => {
  it('prints the figures, each target with PASS or MISS, and the bottleneck', () => {
    const text = renderReport(report({ verify: { opsPerSec: 1500, baselineOpsPerSec: 2000, ratio: 0.75 } }));
    expect(text).toContain('rotate');
    expect(text).toContain('117.2 KB');
    expect(text).toMatch(/verify\.ratio\s+0\.75\s+>= 0\.9\s+MISS/);
    expect(text).toMatch(/steadyState\.s3Put\s+0\s+= 0\s+PASS/);
    expect(text).toContain(
      'gRPC floor (bare grpc-js server, canned Sign): 3000 ops/s, 0.300 ms CPU per call',
    );
    expect(text).toContain('Steady-state rotate run: S3 GetObject 1, S3 PutObject 0, KMS calls 0');
    expect(text).toContain('Bottleneck: verify.ratio = 0.75 (target >= 0.9): MISSED');
  });
});
