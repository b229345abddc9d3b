/**
 * `kmsSim`: the signer in production's shape. Its backend waits 8 ± 2 ms (a KMS round trip) and
 * then makes the real local signature on a lowest-priority thread (simulated-kms.ts: KMS's compute
 * is not the node's). The client process sends Sign calls open loop at fixed rates (500/s and
 * 1,000/s: the shared KMS Sign quota for RSA and ECC keys per account and region), as pods
 * starting independently do, and closed loop with 64 in flight for the uncapped throughput. The three alternate round by round in a rotating order.
 * "Added p99" is the client's p99 minus the backend's own p99 in the same round: what the signer
 * and the socket add on top of KMS.
 */
import type { KeySpec } from '#core/keyset.ts';
import type { KmsSimFigures, KmsSimRateFigures } from './report.ts';
import { serverSlice, startClient, startHost } from './signer.ts';
import type { OpenRequest } from './signer-client.ts';
import {
  achievedRate,
  type LatencySummary,
  median,
  type OpenLoopResult,
  percentile,
  rotated,
  round,
} from './stats.ts';

/** Offered rates, calls per second. */
export const KMS_SIM_RATES = [500, 1000] as const;
/** Calls in flight for the uncapped throughput. */
export const KMS_SIM_UNCAPPED_CONCURRENCY = 64;

/** One open-loop round's figures from the client's view and the backend's. */
export function openRoundFigures(
  rate: number,
  result: OpenLoopResult,
  backend: LatencySummary | null,
): Omit<KmsSimRateFigures, 'rate'> {
  const { achievedPerSec, ratio } = achievedRate(result, rate);
  const p99Ms =
    result.latenciesMs.length === 0 ? Number.POSITIVE_INFINITY : percentile(result.latenciesMs, 99);
  return {
    achievedPerSec,
    achievedRatio: ratio,
    p50Ms: result.latenciesMs.length === 0 ? Number.POSITIVE_INFINITY : percentile(result.latenciesMs, 50),
    p99Ms,
    backendP50Ms: backend?.p50Ms ?? 0,
    backendP99Ms: backend?.p99Ms ?? 0,
    addedP99Ms: p99Ms - (backend?.p99Ms ?? 0),
    sendLagP99Ms: result.sendLagsMs.length === 0 ? 0 : percentile(result.sendLagsMs, 99),
    errors: result.errors,
  };
}

/** Medians, field by field, of several rounds' figures. */
export function medianRounds(
  rate: number,
  rounds: ReadonlyArray<Omit<KmsSimRateFigures, 'rate'>>,
): KmsSimRateFigures {
  const m = (pick: (r: Omit<KmsSimRateFigures, 'rate'>) => number, digits: number) =>
    round(median(rounds.map(pick)), digits);
  return {
    rate,
    achievedPerSec: m((r) => r.achievedPerSec, 0),
    achievedRatio: m((r) => r.achievedRatio, 3),
    p50Ms: m((r) => r.p50Ms, 3),
    p99Ms: m((r) => r.p99Ms, 3),
    backendP50Ms: m((r) => r.backendP50Ms, 3),
    backendP99Ms: m((r) => r.backendP99Ms, 3),
    addedP99Ms: m((r) => r.addedP99Ms, 3),
    sendLagP99Ms: m((r) => r.sendLagP99Ms, 3),
    errors: rounds.reduce((sum, r) => sum + r.errors, 0),
  };
}

/** Runs the production-shape benchmark with keys of `keySpec`. */
export async function benchKmsSim(options: {
  rounds: number;
  roundMs: number;
  keySpec?: KeySpec;
  warmupCalls?: number;
  progress?: (message: string) => void;
}): Promise<KmsSimFigures> {
  const keySpec = options.keySpec ?? 'RSA_2048';
  const client = startClient();
  const host = await startHost('kmsSim', 'kmsSim', keySpec).catch(async (error: unknown) => {
    await client.close();
    throw error;
  });
  try {
    await serverSlice(client, host, KMS_SIM_UNCAPPED_CONCURRENCY, 0, options.warmupCalls ?? 2_000);
    await host.worker.request({ type: 'backendLatencies' });
    const perRate = new Map<number, Array<Omit<KmsSimRateFigures, 'rate'>>>(
      KMS_SIM_RATES.map((r) => [r, []]),
    );
    const uncapped = { ops: [] as number[], p99: [] as number[] };
    const alternatives = [...KMS_SIM_RATES, 0];
    for (let r = 0; r < options.rounds; r += 1) {
      options.progress?.(`kmsSim: round ${r + 1}/${options.rounds}`);
      for (const rate of rotated(alternatives, r)) {
        if (rate === 0) {
          const { loop } = await serverSlice(client, host, KMS_SIM_UNCAPPED_CONCURRENCY, options.roundMs);
          uncapped.ops.push(loop.opsPerSec);
          uncapped.p99.push(loop.p99Ms);
          await host.worker.request({ type: 'backendLatencies' });
          continue;
        }
        const result = await client.request<OpenLoopResult>({
          type: 'open',
          target: host.target,
          rate,
          durationMs: options.roundMs,
        } satisfies OpenRequest);
        const backend = await host.worker.request<LatencySummary | null>({ type: 'backendLatencies' });
        perRate.get(rate)?.push(openRoundFigures(rate, result, backend));
      }
    }
    return {
      keySpec,
      delayMs: '8 ± 2 (uniform), then a real local signature on a thread at nice 19',
      rates: KMS_SIM_RATES.map((rate) => medianRounds(rate, perRate.get(rate) ?? [])),
      uncapped: {
        concurrency: KMS_SIM_UNCAPPED_CONCURRENCY,
        opsPerSec: round(median(uncapped.ops), 0),
        p99Ms: round(median(uncapped.p99), 3),
      },
    };
  } finally {
    await client.close();
    await host.worker.close();
  }
}
