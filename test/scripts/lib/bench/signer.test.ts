import { describe, expect, it } from 'vitest';
import { benchGrpcFloor, benchSignerSpec } from '#scripts/lib/bench/signer.ts';

describe('benchSignerSpec', () => {
  it('signs over a real socket from a separate client process and reports every signer field', async () => {
    const figures = await benchSignerSpec('ECC_NIST_P256', { rounds: 1, roundMs: 50 });
    expect(Object.keys(figures).sort()).toEqual(
      [
        'opsPerSec',
        'baselineOpsPerSec',
        'ratio',
        'p50Ms',
        'p99Ms',
        'baselineP99Ms',
        'serverCpuMsPerCall',
        'baselineCpuMsPerCall',
      ].sort(),
    );
    // Shape and sanity only: benchmarks are never timed tests.
    for (const value of Object.values(figures)) expect(value).toBeGreaterThan(0);
    expect(figures.p99Ms).toBeGreaterThanOrEqual(figures.p50Ms);
  });

  it('measures the gRPC floor with a bare server for the same service', async () => {
    const floor = await benchGrpcFloor({ rounds: 1, roundMs: 50 });
    expect(floor.opsPerSec).toBeGreaterThan(0);
    expect(floor.cpuMsPerCall).toBeGreaterThan(0);
  });
});
