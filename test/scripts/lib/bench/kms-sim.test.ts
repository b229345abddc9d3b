import { describe, expect, it } from 'vitest';
import { medianRounds, openRoundFigures } from '#scripts/lib/bench/kms-sim.ts';

const range = (n: number, from: number) => Array.from({ length: n }, (_, i) => from + i / n);

describe('openRoundFigures', () => {
  it('reports the achieved rate, percentiles and the p99 added over the backend’s own', () => {
    // 100 calls at 50/s: 2 s scheduled; latencies 10..11 ms, backend p99 10.5 ms.
    const figures = openRoundFigures(
      50,
      { offered: 100, errors: 0, elapsedMs: 2000, latenciesMs: range(100, 10), sendLagsMs: range(100, 0) },
      { count: 100, p50Ms: 9, p99Ms: 10.5 },
    );
    expect(figures.achievedPerSec).toBe(50);
    expect(figures.achievedRatio).toBe(1);
    expect(figures.p99Ms).toBeCloseTo(10.98, 10);
    expect(figures.addedP99Ms).toBeCloseTo(0.48, 10);
    expect(figures.backendP50Ms).toBe(9);
    expect(figures.sendLagP99Ms).toBeCloseTo(0.98, 10);
  });
  it('makes a round with no answer an infinite miss, not a crash', () => {
    const figures = openRoundFigures(
      50,
      { offered: 100, errors: 100, elapsedMs: 2000, latenciesMs: [], sendLagsMs: [] },
      null,
    );
    expect(figures.achievedRatio).toBe(0);
    expect(figures.p99Ms).toBe(Number.POSITIVE_INFINITY);
    expect(figures.errors).toBe(100);
  });
});

describe('medianRounds', () => {
  it('takes each field’s median over the rounds and sums the errors', () => {
    const round = (added: number, errors: number) => ({
      achievedPerSec: 500,
      achievedRatio: 1,
      p50Ms: 9,
      p99Ms: 10 + added,
      backendP50Ms: 8.5,
      backendP99Ms: 10,
      addedP99Ms: added,
      sendLagP99Ms: 0.2,
      errors,
    });
    const figures = medianRounds(500, [round(1, 0), round(9, 2), round(2, 1)]);
    expect(figures).toMatchObject({ rate: 500, addedP99Ms: 2, p99Ms: 12, errors: 3 });
  });
});
