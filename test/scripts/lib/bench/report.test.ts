import { describe, expect, it } from 'vitest';
import { renderReport } from '#scripts/lib/bench/render.ts';
import {
  type BenchReport,
  evaluateTargets,
  findBottleneck,
  type SignerAlgFigures,
  type TargetFigures,
} from '#scripts/lib/bench/report.ts';

const signerAlg = (excess: readonly [number, number, number]): SignerAlgFigures => ({
  signatureCpuMs: 0.3,
  byConcurrency: [1, 8, 64].map((concurrency, i) => ({
    concurrency,
    cpuMsPerCall: 0.5 + (excess[i] as number),
    floorCpuMsPerCall: 0.2,
    signatureCpuMs: 0.25,
    floorWithSignatureCpuMsPerCall: 0.45,
    excessCpuMsPerCall: excess[i] as number,
    opsPerSec: 1000,
    floorOpsPerSec: 3000,
  })),
});

const rate = (r: number, achievedRatio: number, addedP99Ms: number) => ({
  rate: r,
  achievedPerSec: r * achievedRatio,
  achievedRatio,
  p50Ms: 9,
  p99Ms: 10 + addedP99Ms,
  backendP50Ms: 8.5,
  backendP99Ms: 10,
  addedP99Ms,
  sendLagP99Ms: 0.5,
  errors: 0,
});

function figures(overrides: Partial<TargetFigures> = {}): TargetFigures {
  return {
    signer: {
      warmupCalls: 5000,
      roundMs: 2000,
      RS256: signerAlg([0.05, 0.04, 0.03]),
      ES256: signerAlg([0.06, 0.05, 0.04]),
    },
    kmsSim: {
      keySpec: 'RSA_2048',
      delayMs: '8 ± 2',
      rates: [rate(500, 0.99, 1.5), rate(1000, 0.98, 2)],
      uncapped: { concurrency: 64, opsPerSec: 1200, p99Ms: 60 },
    },
    kmsBackend: {
      client: 'test',
      RS256: { cpuMsPerSign: 0.6, opsPerSec: 900 },
      ES256: { cpuMsPerSign: 0.65, opsPerSec: 900 },
      withoutCacheMiddleware: { cpuMsPerSign: 1.4, opsPerSec: 400 },
      connections: 8,
      profile: [{ group: '@smithy/core', percent: 30 }],
    },
    cli: {
      floorMs: 40,
      bundle: { helpMs: 120, statusMs: 200, helpRatio: 3, statusRatio: 5 },
      source: { helpMs: 800, statusMs: 900, helpRatio: 20, statusRatio: 22.5 },
    },
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
    steadyState: { requests: 2, writes: 0, byName: { 's3:GetObject': 2 } },
    ...overrides,
  };
}

function report(overrides: Partial<TargetFigures> = {}): BenchReport {
  const f = figures(overrides);
  const targets = evaluateTargets(f);
  return {
    date: '2026-12-06T16:00:00.000Z',
    machine: {
      node: 'v20.20.2',
      platform: 'linux',
      arch: 'x64',
      cpus: 2,
      cpuModel: 'test cpu',
      loadAverage: { start: [1, 2, 3], end: [1.5, 2, 3] },
    },
    rounds: 3,
    durationMs: 150_000,
    ...f,
    verify: { opsPerSec: 1900, baselineOpsPerSec: 2000, ratio: 0.95 },
    planner: { ms: 12.5 },
    targets,
    bottleneck: findBottleneck(targets),
  };
}

const byName = (r: BenchReport, name: string) => r.targets.find((t) => t.name === name);

describe('evaluateTargets', () => {
  it('has one entry per target of issue 16, each named by its section, all passing inside their limits', () => {
    const r = report();
    expect(r.targets.map((t) => t.name)).toEqual([
      'signer.RS256.c1.excessCpuMsPerCall',
      'signer.RS256.c8.excessCpuMsPerCall',
      'signer.RS256.c64.excessCpuMsPerCall',
      'signer.ES256.c1.excessCpuMsPerCall',
      'signer.ES256.c8.excessCpuMsPerCall',
      'signer.ES256.c64.excessCpuMsPerCall',
      'kmsSim.500.achievedRatio',
      'kmsSim.500.addedP99Ms',
      'kmsSim.1000.achievedRatio',
      'kmsSim.1000.addedP99Ms',
      'kmsBackend.RS256.cpuMsPerSign',
      'kmsBackend.ES256.cpuMsPerSign',
      'cli.help.floorRatio',
      'cli.status.floorRatio',
      'bundles.rotate.zipBytes',
      'steadyState.requests',
      'steadyState.writes',
    ]);
    for (const t of r.targets)
      expect(Object.keys(t).sort()).toEqual(['headroom', 'name', 'pass', 'target', 'value']);
    expect(r.targets.every((t) => t.pass)).toBe(true);
  });

  it('accepts each figure exactly at its limit and misses it just past', () => {
    const at = report({
      signer: {
        warmupCalls: 5000,
        roundMs: 2000,
        RS256: signerAlg([0.1, 0.1, 0.1]),
        ES256: signerAlg([0.1, 0.1, 0.1]),
      },
      kmsSim: { ...figures().kmsSim, rates: [rate(500, 0.95, 5)] },
      kmsBackend: { ...figures().kmsBackend, RS256: { cpuMsPerSign: 1, opsPerSec: 1 } },
      cli: { ...figures().cli, bundle: { helpMs: 1, statusMs: 1, helpRatio: 4, statusRatio: 6 } },
      bundles: [{ ...(figures().bundles[0] as BenchReport['bundles'][number]), zipBytes: 150 * 1024 }],
      steadyState: { requests: 3, writes: 0, byName: {} },
    });
    expect(at.targets.every((t) => t.pass)).toBe(true);
    const past = report({
      signer: {
        warmupCalls: 5000,
        roundMs: 2000,
        RS256: signerAlg([0.1001, 0, 0]),
        ES256: signerAlg([0, 0, 0]),
      },
      kmsSim: { ...figures().kmsSim, rates: [rate(500, 0.949, 5.01)] },
      kmsBackend: { ...figures().kmsBackend, RS256: { cpuMsPerSign: 1.001, opsPerSec: 1 } },
      cli: { ...figures().cli, bundle: { helpMs: 1, statusMs: 1, helpRatio: 4.01, statusRatio: 6.01 } },
      bundles: [{ ...(figures().bundles[0] as BenchReport['bundles'][number]), zipBytes: 150 * 1024 + 1 }],
      steadyState: { requests: 4, writes: 1, byName: {} },
    });
    expect(past.targets.filter((t) => !t.pass).map((t) => t.name)).toEqual([
      'signer.RS256.c1.excessCpuMsPerCall',
      'kmsSim.500.achievedRatio',
      'kmsSim.500.addedP99Ms',
      'kmsBackend.RS256.cpuMsPerSign',
      'cli.help.floorRatio',
      'cli.status.floorRatio',
      'bundles.rotate.zipBytes',
      'steadyState.requests',
      'steadyState.writes',
    ]);
  });

  it('fails the CLI targets with the reason when the bundle could not be measured', () => {
    const r = report({ cli: { ...figures().cli, bundle: { missing: 'no build script' } } });
    expect(byName(r, 'cli.help.floorRatio')).toMatchObject({
      value: null,
      pass: false,
      note: 'no build script',
    });
    expect(r.bottleneck).toContain('NOT MEASURED: no build script');
  });

  it('says in the signer target which floor and signature the excess is over', () => {
    expect(byName(report(), 'signer.RS256.c1.excessCpuMsPerCall')?.target).toBe(
      '<= 0.1 ms (signer 0.55 <= floor + signature 0.45 (0.2 + 0.25) + 0.1; in-process loop signature 0.3)',
    );
  });
});

describe('findBottleneck', () => {
  it('names the missed target furthest from its limit', () => {
    const r = report({ kmsBackend: { ...figures().kmsBackend, ES256: { cpuMsPerSign: 3, opsPerSec: 1 } } });
    expect(r.bottleneck).toBe('kmsBackend.ES256.cpuMsPerSign = 3 (target <= 1 ms): MISSED');
  });
  it('names the target with the least headroom when all pass', () => {
    expect(report().bottleneck).toBe(
      'kmsSim.1000.achievedRatio = 0.98 (target >= 0.95): closest to its target (3% headroom)',
    );
  });
});

describe('renderReport', () => {
  it('prints every section, each target with PASS or MISS, and the bottleneck', () => {
    const text = renderReport(
      report({ steadyState: { requests: 4, writes: 1, byName: { 's3:PutObject': 1 } } }),
    );
    expect(text).toContain('load average 1 2 3 at start');
    expect(text).toMatch(/RS256\s+64\s+0\.5300\s+0\.4500\s+0\.2000\s+0\.2500\s+0\.3000\s+0\.0300/);
    expect(text).toMatch(/^1000\s+980\s+0\.980/m);
    expect(text).toContain('without cacheMiddleware 1.4000 ms; 8 connections');
    expect(text).toMatch(/bundle\s+120\.0\s+3\.00\s+200\.0\s+5\.00/);
    expect(text).toContain('117.2 KB');
    expect(text).toMatch(/steadyState\.writes\s+1\s+= 0\s+MISS/);
    expect(text).toMatch(/kmsSim\.500\.addedP99Ms\s+1\.5\s+<= 5 ms\s+PASS/);
    expect(text).toContain('Steady-state rotate run: 4 requests (s3:PutObject 1), 1 writes');
  });
  it('says why the bundle is missing', () => {
    const text = renderReport(report({ cli: { ...figures().cli, bundle: { missing: 'no build script' } } }));
    expect(text).toContain('MISSING: no build script');
    expect(text).toMatch(/cli\.help\.floorRatio\s+null\s+.*MISSING/);
  });
});
