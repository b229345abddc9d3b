/**
 * `signer`: the server CPU time of one Sign RPC, warm. Three servers run in their own fresh
 * processes (signer-host.ts): the signer with the local backend for RS256 and for ES256, and a bare
 * grpc-js server with the signer's own options (the floor). One client process (as kube-apiserver
 * is) drives them in turn, round by round in a rotating order, at 1, 8 and 64 calls in flight;
 * each server reports its own CPU time (process.cpuUsage) before and after each round, and the
 * signer's host the CPU time of the signatures it made while serving. The signature alone is also
 * timed in a loop inside each signer's process (in-process signing).
 * The signer's excess (its CPU per call minus the floor's and minus the signature's as it cost
 * while serving, all from the same round) is the cost of the signer's own code per call.
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

/** Forks the client process. */
export function startClient(): Worker {
  return forkWorker('signer client', new URL('./signer-client.ts', import.meta.url));
}

/** One round's CPU per call of a host, and of the signatures inside it (0 for the floor). */
export interface RoundCpu {
  cpuMsPerCall: number;
  signatureCpuMs: number;
  loop: LoopSummary;
}

/** A closed-loop round against `host`, with the host's own CPU time per call. */
export async function serverRound(
  client: Worker,
  host: Host,
  concurrency: number,
  minMs: number,
  minCalls = 1,
): Promise<RoundCpu> {
  const cpu0 = await host.worker.request<HostCpu>({ type: 'cpu' });
  const loop = await client.request<LoopSummary>({
    type: 'closed',
    target: host.target,
    concurrency,
    minMs,
    minCalls,
  } satisfies ClosedRequest);
  const cpu1 = await host.worker.request<HostCpu>({ type: 'cpu' });
  const signatures = cpu1.signatures - cpu0.signatures;
  return {
    cpuMsPerCall: (cpu1.cpuMs - cpu0.cpuMs) / loop.calls,
    signatureCpuMs: signatures === 0 ? 0 : (cpu1.signatureCpuMs - cpu0.signatureCpuMs) / signatures,
    loop,
  };
}

async function signatureCpuMs(host: Host, minMs: number): Promise<number> {
  const { calls, cpuMs } = await host.worker.request<{ calls: number; cpuMs: number }>({
    type: 'signLoop',
    minMs,
  });
  return cpuMs / calls;
}

type Alg = 'RS256' | 'ES256';
interface Samples {
  signer: number[];
  inSitu: number[];
  floor: number[];
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
    const floor = await startHost('floor', 'floor');
    started.push(floor);
    const signers: Record<Alg, Host> = {
      RS256: await startHost('RS256 signer', 'signer', 'RSA_2048'),
      ES256: await startHost('ES256 signer', 'signer', 'ECC_NIST_P256'),
    };
    started.push(signers.RS256, signers.ES256);
    for (const host of started) {
      options.progress?.(`signer: warming up ${host.name} (${warmupCalls} calls)`);
      await serverRound(client, host, 8, 0, warmupCalls);
    }
    for (const alg of ['RS256', 'ES256'] as const) await signatureCpuMs(signers[alg], 300);
    const samples = new Map<string, Samples>();
    const signature: Record<Alg, number[]> = { RS256: [], ES256: [] };
    for (let r = 0; r < options.rounds; r += 1) {
      options.progress?.(`signer: round ${r + 1}/${options.rounds}`);
      for (const alg of rotated(['RS256', 'ES256'] as const, r))
        signature[alg].push(await signatureCpuMs(signers[alg], options.roundMs / 2));
      for (const concurrency of concurrencies) {
        const measured = new Map<Host, RoundCpu>();
        for (const host of rotated(started, r))
          measured.set(host, await serverRound(client, host, concurrency, options.roundMs));
        const f = measured.get(floor) as RoundCpu;
        for (const alg of ['RS256', 'ES256'] as const) {
          const s = measured.get(signers[alg]) as RoundCpu;
          const key = `${alg}/${concurrency}`;
          const into = samples.get(key) ?? {
            signer: [],
            inSitu: [],
            floor: [],
            excess: [],
            ops: [],
            floorOps: [],
          };
          samples.set(key, into);
          into.signer.push(s.cpuMsPerCall);
          into.floor.push(f.cpuMsPerCall);
          into.inSitu.push(s.signatureCpuMs);
          // The signature as it cost inside the serving process in this round (caches as serving
          // leaves them); the in-process loop figure is reported beside it.
          into.excess.push(s.cpuMsPerCall - f.cpuMsPerCall - s.signatureCpuMs);
          into.ops.push(s.loop.opsPerSec);
          into.floorOps.push(f.loop.opsPerSec);
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
          signatureCpuMs: round(median(s.inSitu), 4),
          floorCpuMsPerCall: round(median(s.floor), 4),
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
