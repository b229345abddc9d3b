import { describe, expect, it } from 'vitest';
import {
  achievedRate,
  alternatingLoop,
  compareThroughput,
  type LoopResult,
  median,
  openLoopSchedule,
  opsPerSecond,
  percentile,
  rotated,
  round,
  summarizeLatencies,
  summarizeLoop,
  timedLoop,
} from '#scripts/lib/bench/stats.ts';

const loop = (calls: number, elapsedMs: number): LoopResult => ({ calls, elapsedMs, latenciesMs: [] });

describe('median', () => {
  it('takes the middle value of an odd count, whatever the order', () => {
    expect(median([5, 1, 3])).toBe(3);
  });
  it('takes the mean of the two middle values of an even count', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
  it('does not reorder the caller’s array', () => {
    const values = [3, 1, 2];
    median(values);
    expect(values).toEqual([3, 1, 2]);
  });
  it('refuses an empty list and non-finite values', () => {
    expect(() => median([])).toThrow(RangeError);
    expect(() => median([1, Number.NaN])).toThrow(RangeError);
  });
});

describe('percentile (nearest rank)', () => {
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1); // 1..100
  it('p50 of 1..100 is 50 and p99 is 99', () => {
    expect(percentile(hundred, 50)).toBe(50);
    expect(percentile(hundred, 99)).toBe(99);
    expect(percentile(hundred, 100)).toBe(100);
  });
  it('p99 of 200 samples is the 198th smallest', () => {
    const values = Array.from({ length: 200 }, (_, i) => 200 - i);
    expect(percentile(values, 99)).toBe(198);
  });
  it('p99 of fewer than 100 samples is the maximum', () => {
    expect(percentile([3, 9, 1], 99)).toBe(9);
  });
  it('refuses p outside (0, 100]', () => {
    expect(() => percentile([1], 0)).toThrow(RangeError);
    expect(() => percentile([1], 101)).toThrow(RangeError);
  });
});

describe('compareThroughput', () => {
  it('reports each side’s median ops/s and the median of the per-round ratios', () => {
    // Round ratios: 0.5, 0.9, 1.0 -> median 0.9; ops/s A: 500, 900, 2000; B: 1000, 1000, 2000.
    const a = [loop(50, 100), loop(90, 100), loop(200, 100)];
    const b = [loop(100, 100), loop(100, 100), loop(200, 100)];
    expect(compareThroughput(a, b)).toEqual({ opsPerSec: 900, baselineOpsPerSec: 1000, ratio: 0.9 });
  });
  it('a slow round on one side moves the ratio less than the ratio of medians would', () => {
    const a = [loop(100, 1000), loop(100, 1000), loop(100, 1000)];
    const b = [loop(100, 1000), loop(50, 1000), loop(100, 1000)];
    expect(compareThroughput(a, b).ratio).toBe(1);
  });
  it('refuses sides with different round counts', () => {
    expect(() => compareThroughput([loop(1, 1)], [])).toThrow(RangeError);
  });
});

describe('opsPerSecond and round', () => {
  it('converts calls over milliseconds to calls per second', () => {
    expect(opsPerSecond({ calls: 30, elapsedMs: 60 })).toBe(500);
    expect(() => opsPerSecond({ calls: 1, elapsedMs: 0 })).toThrow(RangeError);
  });
  it('rounds to the given decimals', () => {
    expect(round(1.23456, 3)).toBe(1.235);
    expect(round(1234.5, 0)).toBe(1235);
  });
});

describe('timedLoop and alternatingLoop', () => {
  it('makes at least minCalls calls and records one latency per call', async () => {
    let calls = 0;
    const result = await timedLoop(async () => calls++, { minMs: 0, minCalls: 25, concurrency: 4 });
    expect(result.calls).toBe(calls);
    expect(result.calls).toBeGreaterThanOrEqual(25);
    expect(result.latenciesMs).toHaveLength(result.calls);
  });
  it('alternates single calls, swapping who goes first', async () => {
    const order: string[] = [];
    const { a, b } = await alternatingLoop(
      async () => order.push('a'),
      async () => order.push('b'),
      { minMs: 0, minCalls: 3 },
    );
    expect(order.slice(0, 6)).toEqual(['a', 'b', 'b', 'a', 'a', 'b']);
    expect(a.calls).toBe(b.calls);
    expect(a.latenciesMs).toHaveLength(a.calls);
  });
});

describe('openLoopSchedule', () => {
  it('makes call 0 due at once and call i due at i / rate seconds', () => {
    expect(openLoopSchedule(500, 0)).toBe(1);
    expect(openLoopSchedule(500, 1.99)).toBe(1);
    expect(openLoopSchedule(500, 2)).toBe(2);
    expect(openLoopSchedule(1000, 1000)).toBe(1001);
  });
  it('refuses a rate that is not positive', () => {
    expect(() => openLoopSchedule(0, 10)).toThrow(RangeError);
  });
});

describe('achievedRate', () => {
  const answered = (n: number) => Array.from({ length: n }, () => 9);
  it('counts answers over the round, which lasts at least its schedule', () => {
    // 1,000 calls at 500/s: a 2 s schedule; the last answer 10 ms after the last send.
    expect(achievedRate({ offered: 1000, elapsedMs: 2000, latenciesMs: answered(1000) }, 500)).toEqual({
      achievedPerSec: 500,
      ratio: 1,
    });
    const late = achievedRate({ offered: 1000, elapsedMs: 2500, latenciesMs: answered(1000) }, 500);
    expect(late.ratio).toBeCloseTo(0.8, 10);
  });
  it('does not count failed calls', () => {
    expect(
      achievedRate({ offered: 1000, elapsedMs: 2000, latenciesMs: answered(900) }, 500).ratio,
    ).toBeCloseTo(0.9, 10);
  });
});

describe('rotated', () => {
  it('starts each round with the next alternative', () => {
    expect(rotated(['a', 'b', 'c'], 0)).toEqual(['a', 'b', 'c']);
    expect(rotated(['a', 'b', 'c'], 1)).toEqual(['b', 'c', 'a']);
    expect(rotated(['a', 'b', 'c'], 5)).toEqual(['c', 'a', 'b']);
    expect(rotated([], 3)).toEqual([]);
  });
});

describe('summarizeLatencies and summarizeLoop', () => {
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
  it('gives the count and the nearest-rank p50 and p99', () => {
    expect(summarizeLatencies(hundred)).toEqual({ count: 100, p50Ms: 50, p99Ms: 99 });
  });
  it('adds ops/s to a loop summary and drops the raw latencies', () => {
    expect(summarizeLoop({ calls: 100, elapsedMs: 50, latenciesMs: hundred })).toEqual({
      calls: 100,
      elapsedMs: 50,
      opsPerSec: 2000,
      p50Ms: 50,
      p99Ms: 99,
    });
  });
});
