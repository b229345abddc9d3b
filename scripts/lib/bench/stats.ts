/**
 * The statistics every benchmark shares: medians, percentiles, and a timed loop that measures
 * throughput and per-call latency. Benchmarks report medians of several rounds and ratios of
 * measurements taken side by side (A B A B ...), because absolute times on a shared machine drift.
 */
import { performance } from 'node:perf_hooks';

function sortedCopy(values: readonly number[], what: string): number[] {
  if (values.length === 0) throw new RangeError(`${what} of an empty list`);
  if (!values.every(Number.isFinite)) throw new RangeError(`${what} of a list with a non-finite value`);
  return [...values].sort((a, b) => a - b);
}

/** The median; the mean of the two middle values for an even count. Throws on an empty list. */
export function median(values: readonly number[]): number {
  const sorted = sortedCopy(values, 'median');
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/**
 * The `p`-th percentile (0 < p <= 100) by the nearest-rank method: the smallest value with at
 * least p% of the values at or below it. p99 of 200 samples is the 198th smallest.
 */
export function percentile(values: readonly number[], p: number): number {
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile ${p} is not in (0, 100]`);
  const sorted = sortedCopy(values, 'percentile');
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

/** Rounds to `digits` decimals (figures in the report are rounded for reading, not for maths). */
export function round(value: number, digits = 2): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** One timed loop: how many calls completed, in how long, and each call's latency. */
export interface LoopResult {
  calls: number;
  elapsedMs: number;
  latenciesMs: number[];
}

/** Calls per second of a loop. */
export function opsPerSecond(result: Pick<LoopResult, 'calls' | 'elapsedMs'>): number {
  if (result.elapsedMs <= 0) throw new RangeError('a loop must take some time');
  return (result.calls * 1000) / result.elapsedMs;
}

/**
 * Runs `fn` from `concurrency` workers until at least `minMs` have passed and at least `minCalls`
 * calls have completed, recording each call's latency. With concurrency 1 the latencies are those
 * of lone calls; with more they include queueing, as a busy client would see.
 */
export async function timedLoop(
  fn: () => Promise<unknown>,
  options: { minMs: number; minCalls?: number; concurrency?: number },
): Promise<LoopResult> {
  const concurrency = options.concurrency ?? 1;
  const minCalls = options.minCalls ?? 1;
  const latenciesMs: number[] = [];
  const start = performance.now();
  const done = () => performance.now() - start >= options.minMs && latenciesMs.length >= minCalls;
  const worker = async (): Promise<void> => {
    while (!done()) {
      const t0 = performance.now();
      await fn();
      latenciesMs.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { calls: latenciesMs.length, elapsedMs: performance.now() - start, latenciesMs };
}

/**
 * Calls `a` and `b` alternately, one call each, until each has made `minCalls` calls and at least
 * `minMs` have passed, and sums each side's own call times. Alternating call by call means a burst
 * of load from another process slows both sides alike, which round-level interleaving cannot
 * promise on a busy machine. For sequential work only (concurrency 1).
 */
export async function alternatingLoop(
  a: () => Promise<unknown>,
  b: () => Promise<unknown>,
  options: { minMs: number; minCalls?: number },
): Promise<{ a: LoopResult; b: LoopResult }> {
  const sides = {
    a: { calls: 0, elapsedMs: 0, latenciesMs: [] as number[] },
    b: { calls: 0, elapsedMs: 0, latenciesMs: [] as number[] },
  };
  const start = performance.now();
  const minCalls = options.minCalls ?? 1;
  const once = async (fn: () => Promise<unknown>, side: LoopResult): Promise<void> => {
    const t0 = performance.now();
    await fn();
    const ms = performance.now() - t0;
    side.calls += 1;
    side.elapsedMs += ms;
    side.latenciesMs.push(ms);
  };
  while (performance.now() - start < options.minMs || sides.a.calls < minCalls) {
    // Swap who goes first every call, so neither side always runs on a cold cache.
    if (sides.a.calls % 2 === 0) {
      await once(a, sides.a);
      await once(b, sides.b);
    } else {
      await once(b, sides.b);
      await once(a, sides.a);
    }
  }
  return sides;
}

/**
 * Throughput of A against baseline B from interleaved rounds: the median of each side's ops/s,
 * and the median of the per-round ratios A/B (the ratio of two medians would let one slow round
 * on one side skew it; per-round ratios cancel drift that hits both sides of a round alike).
 */
export function compareThroughput(
  a: readonly LoopResult[],
  b: readonly LoopResult[],
): { opsPerSec: number; baselineOpsPerSec: number; ratio: number } {
  if (a.length !== b.length || a.length === 0)
    throw new RangeError('need the same number of rounds on both sides');
  const ratios = a.map((result, i) => opsPerSecond(result) / opsPerSecond(b[i] as LoopResult));
  return {
    opsPerSec: round(median(a.map(opsPerSecond)), 0),
    baselineOpsPerSec: round(median(b.map(opsPerSecond)), 0),
    ratio: round(median(ratios), 3),
  };
}

/** A loop's figures without its raw latencies (what crosses the IPC channel). */
export interface LoopSummary {
  calls: number;
  elapsedMs: number;
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
}

/** Ops/s and latency percentiles of a loop. */
export function summarizeLoop(result: LoopResult): LoopSummary {
  return {
    calls: result.calls,
    elapsedMs: result.elapsedMs,
    opsPerSec: opsPerSecond(result),
    p50Ms: percentile(result.latenciesMs, 50),
    p99Ms: percentile(result.latenciesMs, 99),
  };
}

/** One open-loop round as the client saw it. */
export interface OpenLoopResult {
  /** Calls scheduled (rate × duration). */
  offered: number;
  errors: number;
  /** From the first send to the last answer. */
  elapsedMs: number;
  /** Latency of each successful call, from its send. */
  latenciesMs: number[];
  /** How late each call was sent against its schedule. */
  sendLagsMs: number[];
}

/**
 * How many calls of an open loop at `rate` per second are due `elapsedMs` after its start: call i
 * is due at i / rate seconds, so call 0 is due at once.
 */
export function openLoopSchedule(rate: number, elapsedMs: number): number {
  if (!(rate > 0)) throw new RangeError(`rate ${rate} is not positive`);
  return Math.max(0, Math.floor((elapsedMs * rate) / 1000) + 1);
}

/**
 * The achieved rate of an open-loop round (successful answers per second of the round; the round
 * lasts at least as long as its schedule) and its ratio to the offered rate.
 */
export function achievedRate(
  result: Pick<OpenLoopResult, 'offered' | 'elapsedMs' | 'latenciesMs'>,
  rate: number,
): { achievedPerSec: number; ratio: number } {
  const scheduledMs = (result.offered * 1000) / rate;
  const achievedPerSec = (result.latenciesMs.length * 1000) / Math.max(result.elapsedMs, scheduledMs);
  return { achievedPerSec, ratio: achievedPerSec / rate };
}

/** `items` rotated left by `by` (round r starts with a different alternative each time). */
export function rotated<T>(items: readonly T[], by: number): T[] {
  if (items.length === 0) return [];
  const k = ((by % items.length) + items.length) % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

/** The count and percentiles of a list of latencies. */
export interface LatencySummary {
  count: number;
  p50Ms: number;
  p99Ms: number;
}

/** Summarises latencies (nearest-rank percentiles). Throws on an empty list. */
export function summarizeLatencies(latenciesMs: readonly number[]): LatencySummary {
  return {
    count: latenciesMs.length,
    p50Ms: percentile(latenciesMs, 50),
    p99Ms: percentile(latenciesMs, 99),
  };
}
