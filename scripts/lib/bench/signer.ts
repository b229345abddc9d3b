/**
 * `signer`: the server CPU time of one Sign RPC, warm. Four servers run in their own fresh
 * processes (signer-host.ts): for RS256 and for ES256, the signer with the local backend, and the
 * floor: a bare grpc-js server with the signer's own options whose Sign makes the same signature
 * and nothing else. One client process (as kube-apiserver is) drives them in turn, slice by slice
 * in a rotating order, at 1, 8 and 64 calls in flight; each server reports its own CPU time
 * (process.cpuUsage) and that of the signatures it made while serving. The signature alone is
 * also timed in a loop inside each signer's process (in-process signing).
 * The signer's excess (its CPU per call minus the floor's with the same signature, same round) is
 * the cost of the signer's own code per call; the floor without the signature is reported too.
 */
import type { KeySpec } from '#core/keyset.ts';
import type { SignerAlgFigures, SignerFigures } from './report.ts';
import type { ClosedRequest } from './signer-client.ts';
import type { HostCpu, HostMode } from './signer-host.ts';
import { type LoopSummary, median, rotated, round } from './stats.ts';
import { forkWorker, type Worker } from './worker.ts';

export { benchClaims } from './signer-claims.ts';

/** Calls in flight in the rounds. */
export const SIGNER_CONCURRENCIES = [1, 8, 64] as const;
/** Calls each server answers before any round is timed (JIT, connection, caches). */
export const SIGNER_WARMUP_CALLS = 5_000;

/** A server process and its target. */
export interface Host {
  worker: Worker;
  target: string;
  name: string;
}

/** Forks a server host and starts it. */
export async function startHost(name: string, mode: HostMode, keySpec: KeySpec = 'RSA_2048'): Promise<Host> {
  const worker = forkWorker(`${name} server`, new URL('./signer-host.ts', import.meta.url));
  try {
    const { target } = await worker.request<{ target: string }>({ type: 'start', mode, keySpec });
    return { worker, target, name };
  } catch (error) {
    await worker.close();
    throw error;
  }
}

/**
 * V8 flags of the client process. It stands in for kube-apiserver, whose Go GC runs concurrently;
 * with V8's default young generation (growing to 16 MB) the grpc-js client paused 20–35 ms in
 * scavenges at 1,000 calls/s on 2 cores (`--trace-gc`), sent its calls that late (send lag p99
 * 8–12 ms), and charged those pauses to the signer's latency. A 1 MB semi-space keeps each
 * scavenge short. The servers run with node's defaults, as `signer serve` does.
 */
export const CLIENT_EXEC_ARGV = ['--max-semi-space-size=1'] as const;

/** Forks the client process. */
export function startClient(): Worker {
  return forkWorker('signer client', new URL('./signer-client.ts', import.meta.url), CLIENT_EXEC_ARGV);
}

/** One round's CPU per call of a host, and of the signatures inside it (0 for the floor). */
export interface RoundCpu {
  cpuMsPerCall: number;
  signatureCpuMs: number;
  opsPerSec: number;
}

/** What one slice of a round measured on a host: counter differences and the loop's size. */
export interface SliceTotals {
  cpuMs: number;
  signatureCpuMs: number;
  signatures: number;
  calls: number;
  elapsedMs: number;
}

/** Sums slices into one round's figures: totals divided, never an average of averages. */
export function roundCpu(slices: readonly SliceTotals[]): RoundCpu {
  const sum = (pick: (slice: SliceTotals) => number) =>
    slices.reduce((total, slice) => total + pick(slice), 0);
  const calls = sum((s) => s.calls);
  const signatures = sum((s) => s.signatures);
  if (calls === 0) throw new RangeError('a round with no call');
  return {
    cpuMsPerCall: sum((s) => s.cpuMs) / calls,
    signatureCpuMs: signatures === 0 ? 0 : sum((s) => s.signatureCpuMs) / signatures,
    opsPerSec: (calls * 1000) / sum((s) => s.elapsedMs),
  };
}

/** A closed-loop slice against `host`, with the host's own CPU counters before and after. */
export async function serverSlice(
  client: Worker,
  host: Host,
  concurrency: number,
  minMs: number,
  minCalls = 1,
): Promise<SliceTotals & { loop: LoopSummary }> {
  const cpu0 = await host.worker.request<HostCpu>({ type: 'cpu' });
  const loop = await client.request<LoopSummary>({
    type: 'closed',
    target: host.target,
    concurrency,
    minMs,
    minCalls,
  } satisfies ClosedRequest);
  const cpu1 = await host.worker.request<HostCpu>({ type: 'cpu' });
  return {
    cpuMs: cpu1.cpuMs - cpu0.cpuMs,
    signatureCpuMs: cpu1.signatureCpuMs - cpu0.signatureCpuMs,
    signatures: cpu1.signatures - cpu0.signatures,
    calls: loop.calls,
    elapsedMs: loop.elapsedMs,
    loop,
  };
}

/** Slices per round: each server's round is cut into this many slices, interleaved with the others'. */
export const SLICES_PER_ROUND = 4;

/**
 * One round for every host at one concurrency: each host gets `roundMs` in all, in
 * {@link SLICES_PER_ROUND} slices taken in turn (A B C A B C ...), so a burst of load from another
 * process lands on every host's round alike instead of on whichever ran during it.
 */
async function slicedRound(
  client: Worker,
  hosts: readonly Host[],
  concurrency: number,
  roundMs: number,
  r: number,
): Promise<Map<Host, RoundCpu>> {
  const slices = new Map<Host, SliceTotals[]>(hosts.map((h) => [h, []]));
  for (let k = 0; k < SLICES_PER_ROUND; k += 1) {
    for (const host of rotated(hosts, r + k))
      slices.get(host)?.push(await serverSlice(client, host, concurrency, roundMs / SLICES_PER_ROUND));
  }
  return new Map(hosts.map((h) => [h, roundCpu(slices.get(h) ?? [])]));
}

async function signatureCpuMs(host: Host, minMs: number): Promise<number> {
  const { calls, cpuMs } = await host.worker.request<{ calls: number; cpuMs: number }>({
    type: 'signLoop',
    minMs,
  });
  return cpuMs / calls;
}

type Alg = 'RS256' | 'ES256';
const ALGS = ['RS256', 'ES256'] as const;
const SPEC: Record<Alg, KeySpec> = { RS256: 'RSA_2048', ES256: 'ECC_NIST_P256' };
interface Samples {
  signer: number[];
  inSitu: number[];
  floor: number[];
  floorWithSignature: number[];
  excess: number[];
  ops: number[];
  floorOps: number[];
}

/** Runs the signer CPU benchmark. */
export async function benchSigner(options: {
  rounds: number;
  roundMs: number;
  warmupCalls?: number;
  concurrencies?: readonly number[];
  progress?: (message: string) => void;
}): Promise<SignerFigures> {
  const concurrencies = options.concurrencies ?? SIGNER_CONCURRENCIES;
  const warmupCalls = options.warmupCalls ?? SIGNER_WARMUP_CALLS;
  const started: Host[] = [];
  const client = startClient();
  try {
    const signers = {} as Record<Alg, Host>;
    const floors = {} as Record<Alg, Host>;
    for (const alg of ALGS) {
      floors[alg] = await startHost(`${alg} floor`, 'floor', SPEC[alg]);
      started.push(floors[alg]);
      signers[alg] = await startHost(`${alg} signer`, 'signer', SPEC[alg]);
      started.push(signers[alg]);
    }
    for (const host of started) {
      options.progress?.(`signer: warming up ${host.name} (${warmupCalls} calls)`);
      await serverSlice(client, host, 8, 0, warmupCalls);
    }
    for (const alg of ALGS) await signatureCpuMs(signers[alg], 300);
    const samples = new Map<string, Samples>();
    const signature: Record<Alg, number[]> = { RS256: [], ES256: [] };
    for (let r = 0; r < options.rounds; r += 1) {
      options.progress?.(`signer: round ${r + 1}/${options.rounds}`);
      for (const alg of rotated(ALGS, r))
        signature[alg].push(await signatureCpuMs(signers[alg], options.roundMs / 4));
      for (const concurrency of concurrencies) {
        const measured = await slicedRound(client, started, concurrency, options.roundMs, r);
        for (const alg of ALGS) {
          const s = measured.get(signers[alg]) as RoundCpu;
          const f = measured.get(floors[alg]) as RoundCpu;
          const key = `${alg}/${concurrency}`;
          const into = samples.get(key) ?? {
            signer: [],
            inSitu: [],
            floor: [],
            floorWithSignature: [],
            excess: [],
            ops: [],
            floorOps: [],
          };
          samples.set(key, into);
          into.signer.push(s.cpuMsPerCall);
          into.inSitu.push(f.signatureCpuMs);
          into.floorWithSignature.push(f.cpuMsPerCall);
          into.floor.push(f.cpuMsPerCall - f.signatureCpuMs);
          into.excess.push(s.cpuMsPerCall - f.cpuMsPerCall);
          into.ops.push(s.opsPerSec);
          into.floorOps.push(f.opsPerSec);
        }
      }
    }
    const figuresFor = (alg: Alg): SignerAlgFigures => ({
      signatureCpuMs: round(median(signature[alg]), 4),
      byConcurrency: concurrencies.map((concurrency) => {
        const s = samples.get(`${alg}/${concurrency}`) as Samples;
        return {
          concurrency,
          cpuMsPerCall: round(median(s.signer), 4),
          floorCpuMsPerCall: round(median(s.floor), 4),
          signatureCpuMs: round(median(s.inSitu), 4),
          floorWithSignatureCpuMsPerCall: round(median(s.floorWithSignature), 4),
          excessCpuMsPerCall: round(median(s.excess), 4),
          opsPerSec: round(median(s.ops), 0),
          floorOpsPerSec: round(median(s.floorOps), 0),
        };
      }),
    });
    return { warmupCalls, roundMs: options.roundMs, RS256: figuresFor('RS256'), ES256: figuresFor('ES256') };
  } finally {
    await client.close();
    for (const host of started) await host.worker.close();
  }
}
