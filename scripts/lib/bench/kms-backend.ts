/**
 * `kmsBackend`: the CPU time of one Sign through the real `KmsSigner` and `@aws-sdk/client-kms`,
 * built exactly as the signer builds it (`signerKmsClient`), against a loopback fake KMS
 * (fake-kms.ts) in another process. RS256, ES256 and RS256 through the signer's former client
 * settings (no `cacheMiddleware`) alternate slice by slice; then one more run under the V8
 * profiler says where the time goes, by package.
 */
import type { ProfileShare } from './profile.ts';
import type { KmsBackendFigures } from './report.ts';
import { SLICES_PER_ROUND } from './signer.ts';
import { median, rotated, round } from './stats.ts';
import { forkWorker, type Worker } from './worker.ts';

/** Sign calls in flight (kube-apiserver signs concurrently). */
export const KMS_BACKEND_CONCURRENCY = 8;

type RunResult = { calls: number; cpuMs: number; elapsedMs: number };
type Side = 'RS256' | 'ES256' | 'withoutCache';

async function startKmsClient(endpoint: string, withoutCache: boolean): Promise<Worker> {
  const worker = forkWorker('kms client', new URL('./kms-client.ts', import.meta.url));
  try {
    await worker.request({ type: 'setup', endpoint, withoutCache });
    return worker;
  } catch (error) {
    await worker.close();
    throw error;
  }
}

const runRequest = (type: 'run' | 'profile', alg: string, minMs: number, minCalls = 1) => ({
  type,
  alg,
  minMs,
  minCalls,
  concurrency: KMS_BACKEND_CONCURRENCY,
});

/** Runs the kms backend benchmark. */
export async function benchKmsBackend(options: {
  rounds: number;
  roundMs: number;
  warmupCalls?: number;
  progress?: (message: string) => void;
}): Promise<KmsBackendFigures> {
  const fake = forkWorker('fake KMS', new URL('./fake-kms.ts', import.meta.url));
  const started: Worker[] = [];
  try {
    const { endpoint } = await fake.request<{ endpoint: string }>({ type: 'start' });
    const clients = await Promise.allSettled([
      startKmsClient(endpoint, false),
      startKmsClient(endpoint, true),
    ]);
    for (const c of clients) if (c.status === 'fulfilled') started.push(c.value);
    for (const c of clients) if (c.status === 'rejected') throw c.reason;
    const [client, uncached] = started as [Worker, Worker];
    const cpu: Record<Side, number[]> = { RS256: [], ES256: [], withoutCache: [] };
    const ops: Record<Side, number[]> = { RS256: [], ES256: [], withoutCache: [] };
    const warmup = options.warmupCalls ?? 1_000;
    for (const alg of ['RS256', 'ES256']) await client.request(runRequest('run', alg, 0, warmup));
    await uncached.request(runRequest('run', 'RS256', 0, warmup));
    for (let r = 0; r < options.rounds; r += 1) {
      options.progress?.(`kmsBackend: round ${r + 1}/${options.rounds}`);
      // Each side's round in slices taken in turn, as the signer's (see SLICES_PER_ROUND).
      const totals = new Map<Side, RunResult>();
      for (let k = 0; k < SLICES_PER_ROUND; k += 1) {
        for (const side of rotated(['RS256', 'ES256', 'withoutCache'] as const, r + k)) {
          const worker = side === 'withoutCache' ? uncached : client;
          const alg = side === 'withoutCache' ? 'RS256' : side;
          const slice = await worker.request<RunResult>(
            runRequest('run', alg, options.roundMs / SLICES_PER_ROUND),
          );
          const sum = totals.get(side) ?? { calls: 0, cpuMs: 0, elapsedMs: 0 };
          totals.set(side, {
            calls: sum.calls + slice.calls,
            cpuMs: sum.cpuMs + slice.cpuMs,
            elapsedMs: sum.elapsedMs + slice.elapsedMs,
          });
        }
      }
      for (const [side, total] of totals) {
        cpu[side].push(total.cpuMs / total.calls);
        ops[side].push((total.calls * 1000) / total.elapsedMs);
      }
    }
    options.progress?.('kmsBackend: profiled run');
    const profile = await client.request<ProfileShare[]>(runRequest('profile', 'RS256', options.roundMs));
    const figure = (side: Side) => ({
      cpuMsPerSign: round(median(cpu[side]), 4),
      opsPerSec: round(median(ops[side]), 0),
    });
    return {
      client:
        'signerKmsClient: cacheMiddleware, maxAttempts 1, connectionTimeout 1 s, requestTimeout 3 s, keep-alive agent (SDK default), static credentials',
      RS256: figure('RS256'),
      ES256: figure('ES256'),
      withoutCacheMiddleware: figure('withoutCache'),
      connections: await fake.request<number>({ type: 'connections' }),
      profile,
    };
  } finally {
    for (const worker of started) await worker.close();
    await fake.close();
  }
}
