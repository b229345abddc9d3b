import { describe, expect, it } from 'vitest';
import { roundCpu } from '#scripts/lib/bench/signer.ts';

describe('roundCpu', () => {
  it('divides the summed counters of a round’s slices, not an average of per-slice figures', () => {
    // A slow slice with few calls must weigh by its calls, not as one slice in four.
    const figures = roundCpu([
      { cpuMs: 100, signatureCpuMs: 30, signatures: 100, calls: 100, elapsedMs: 500 },
      { cpuMs: 100, signatureCpuMs: 10, signatures: 10, calls: 10, elapsedMs: 500 },
    ]);
    expect(figures.cpuMsPerCall).toBeCloseTo(200 / 110, 10);
    expect(figures.signatureCpuMs).toBeCloseTo(40 / 110, 10);
    expect(figures.opsPerSec).toBeCloseTo(110, 10);
  });
  it('gives the floor (no signatures) a signature cost of 0, and refuses a round with no call', () => {
    expect(
      roundCpu([{ cpuMs: 5, signatureCpuMs: 0, signatures: 0, calls: 50, elapsedMs: 100 }]).signatureCpuMs,
    ).toBe(0);
    expect(() => roundCpu([])).toThrow(RangeError);
  });
});
