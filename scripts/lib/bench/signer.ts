/**
 * `signer`: ExternalJWTSigner Sign RPCs over the real Unix socket (local backend) against the same
 * signatures made in-process with the same key and no gRPC, for RSA-2048 (RS256) and P-256 (ES256).
 * The client runs in its own node process, as kube-apiserver does, so the server's event loop
 * carries only the server's work. Throughput with a few calls in flight, as a busy kube-apiserver
 * makes them; latency of lone calls, so "added at p99" is the cost of the socket path and not of
 * queueing. Socket rounds (in the client process) and baseline rounds (here) alternate.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Server, ServerCredentials, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { IrsaError } from '#core/errors.ts';
import type { KeySpec } from '#core/keyset.ts';
import { loadSignerService } from '#scripts/lib/signer/proto.ts';
import { startTempLocalSigner } from '#scripts/lib/signer/temp-signer.ts';
import type { SignerFigures } from './report.ts';
import { benchClaims } from './signer-claims.ts';
import type { ClientRequest } from './signer-client.ts';
import {
  compareThroughput,
  interleave,
  type LoopResult,
  median,
  opsPerSecond,
  percentile,
  round,
  timedLoop,
} from './stats.ts';

export { benchClaims } from './signer-claims.ts';

/** Calls in flight during the throughput rounds. */
export const SIGNER_CONCURRENCY = 4;

/** The client process, driven one request at a time. */
interface ClientProcess {
  run(request: Extract<ClientRequest, { type: 'run' }>): Promise<LoopResult>;
  close(): Promise<void>;
}

function startClient(): ClientProcess {
  const child: ChildProcess = fork(fileURLToPath(new URL('./signer-client.ts', import.meta.url)), [], {
    execArgv: ['--import', import.meta.resolve('tsx')],
    // The child's stdout goes to our stderr: with --json our stdout holds only the report.
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  child.stdout?.pipe(process.stderr);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    run: (request) =>
      new Promise<LoopResult>((resolve, reject) => {
        const onExit = (code: number | null) =>
          reject(
            new IrsaError(
              'BENCH_CLIENT_FAILED',
              `The signer benchmark client exited (code ${code}) before answering.`,
              'Run the benchmark again; if it persists, run the signer tests (test/scripts/lib/signer).',
            ),
          );
        child.once('exit', onExit);
        child.once('message', (message: { type: string; result?: LoopResult; message?: string }) => {
          child.off('exit', onExit);
          if (message.type === 'result' && message.result !== undefined) resolve(message.result);
          else
            reject(
              new IrsaError(
                'BENCH_CLIENT_FAILED',
                `The signer benchmark client failed: ${message.message ?? 'no result'}.`,
                'Run the signer tests (test/scripts/lib/signer) to see whether Sign works over the socket.',
              ),
            );
        });
        child.send(request);
      }),
    close: async () => {
      if (child.connected) child.send({ type: 'close' } satisfies ClientRequest);
      const timer = setTimeout(() => child.kill(), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Benchmarks one key spec; the signer runs on a temporary socket for the duration. */
export async function benchSignerSpec(
  keySpec: KeySpec,
  options: { rounds: number; roundMs: number },
): Promise<SignerFigures> {
  const temp = await startTempLocalSigner({ keySpec });
  const client = startClient();
  try {
    const claims = Array.from({ length: 32 }, (_, i) => benchClaims(i));
    const key = temp.activeKey;
    const header = Buffer.from(JSON.stringify({ alg: key.alg, kid: key.kid, typ: 'JWT' })).toString(
      'base64url',
    );
    let j = 0;
    const inProcess = async () => {
      j = (j + 1) % claims.length;
      const signature = await temp.localKeys.sign(key, Buffer.from(`${header}.${claims[j] as string}`));
      Buffer.from(signature).toString('base64url');
    };
    const overSocket = (concurrency: number, minMs: number, minCalls: number) =>
      client.run({ type: 'run', target: temp.target, concurrency, minMs, minCalls });
    // Warm-up: connection, JIT on both sides, the backend's key cache, the server's key check.
    await overSocket(SIGNER_CONCURRENCY, options.roundMs / 2, 20);
    await timedLoop(inProcess, { minMs: options.roundMs / 2, minCalls: 20 });
    // CPU of this process per call: during socket rounds it only serves (the client is another
    // process), so this is the server's cost of a Sign, which scheduling noise does not inflate.
    const cpu = { socket: [] as number[], baseline: [] as number[] };
    const withCpu = async (into: number[], body: () => Promise<LoopResult>): Promise<LoopResult> => {
      const start = process.cpuUsage();
      const result = await body();
      const used = process.cpuUsage(start);
      into.push((used.user + used.system) / 1000 / result.calls);
      return result;
    };
    const throughput = await interleave(
      options.rounds,
      () => withCpu(cpu.socket, () => overSocket(SIGNER_CONCURRENCY, options.roundMs, 20)),
      () =>
        withCpu(cpu.baseline, () =>
          timedLoop(inProcess, { minMs: options.roundMs, concurrency: SIGNER_CONCURRENCY, minCalls: 20 }),
        ),
    );
    const latency = await interleave(
      options.rounds,
      () => overSocket(1, options.roundMs / 2, 100),
      () => timedLoop(inProcess, { minMs: options.roundMs / 2, minCalls: 100 }),
    );
    return {
      ...compareThroughput(throughput.a, throughput.b),
      p50Ms: round(median(latency.a.map((r) => percentile(r.latenciesMs, 50))), 3),
      p99Ms: round(median(latency.a.map((r) => percentile(r.latenciesMs, 99))), 3),
      baselineP99Ms: round(median(latency.b.map((r) => percentile(r.latenciesMs, 99))), 3),
      serverCpuMsPerCall: round(median(cpu.socket), 3),
      baselineCpuMsPerCall: round(median(cpu.baseline), 3),
    };
  } finally {
    await client.close();
    await temp.close();
  }
}

/** What a gRPC call costs with nothing behind it. */
export interface GrpcFloorFigures {
  opsPerSec: number;
  cpuMsPerCall: number;
}

/**
 * The floor of the socket path: a bare grpc-js server for the same service that answers Sign with
 * a canned response, driven by the same client process the same way. Whatever the signer does,
 * it cannot beat this; `cpuMsPerCall` against a signature's CPU time says how far 0.8x is.
 */
export async function benchGrpcFloor(options: {
  rounds: number;
  roundMs: number;
}): Promise<GrpcFloorFigures> {
  const dir = await mkdtemp(join(tmpdir(), 'irsa-bench-grpc-'));
  const server = new Server();
  const canned = { header: 'eyJhbGciOiJFUzI1NiJ9', signature: 'A'.repeat(86) };
  const implementation: UntypedServiceImplementation = {
    Sign: (_call: unknown, callback: (error: null, response: unknown) => void) => callback(null, canned),
    FetchKeys: (_call: unknown, callback: (error: null, response: unknown) => void) => callback(null, {}),
    Metadata: (_call: unknown, callback: (error: null, response: unknown) => void) => callback(null, {}),
  };
  server.addService(loadSignerService('v1').service, implementation);
  const target = `unix://${join(dir, 'floor.sock')}`;
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(target, ServerCredentials.createInsecure(), (error) =>
      error ? reject(error) : resolve(),
    ),
  );
  const client = startClient();
  try {
    const run = () =>
      client.run({
        type: 'run',
        target,
        concurrency: SIGNER_CONCURRENCY,
        minMs: options.roundMs,
        minCalls: 20,
      });
    await run(); // warm-up
    const ops: number[] = [];
    const cpu: number[] = [];
    for (let r = 0; r < options.rounds; r += 1) {
      const start = process.cpuUsage();
      const result = await run();
      const used = process.cpuUsage(start);
      ops.push(opsPerSecond(result));
      cpu.push((used.user + used.system) / 1000 / result.calls);
    }
    return { opsPerSec: round(median(ops), 0), cpuMsPerCall: round(median(cpu), 3) };
  } finally {
    await client.close();
    server.forceShutdown();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Benchmarks RS256 (RSA-2048) and ES256 (P-256), and the gRPC floor. */
export async function benchSigner(options: {
  rounds: number;
  roundMs: number;
}): Promise<{ RS256: SignerFigures; ES256: SignerFigures; grpcFloor: GrpcFloorFigures }> {
  return {
    RS256: await benchSignerSpec('RSA_2048', options),
    ES256: await benchSignerSpec('ECC_NIST_P256', options),
    grpcFloor: await benchGrpcFloor(options),
  };
}
