/**
 * A server for the signer benchmarks, in its own fresh process (driven over IPC, see worker.ts):
 * - `signer`: the real signer with the local backend, started as `signer serve` starts it
 *   (`startSigner`, default settings, keyset refresh on, warn-level JSON log on stderr);
 * - `kmsSim`: the same signer whose backend is a stand-in for KMS (simulated-kms.ts): 8 ± 2 ms,
 *   then the real signature on a lowest-priority thread; it records the backend's own latency;
 * - `floor`: a bare grpc-js server with the signer's own server options and services whose Sign
 *   makes the same signature and nothing else: floor + signature.
 * `cpu` answers this process's CPU time (and the signatures' share of it while serving, see
 * MeasuredLocalKeys); `signLoop` times the signature alone in a loop, in this process.
 */
import type { KeyObject } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Server, ServerCredentials, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { LocalKeysetStore, localPaths } from '#adapters/local/fs-store.ts';
import { generateSoftwareKey, LocalKeys, signWithKeyObject } from '#adapters/local/software-keys.ts';
import { ALG_FOR_SPEC, type KeyRecord, type KeySpec, type SigningAlg } from '#core/keyset.ts';
import { kidFromSpki } from '#core/kid.ts';
import { encodeHeader } from '#scripts/lib/signer/claims.ts';
import { resolveSettings } from '#scripts/lib/signer/config.ts';
import { jsonLog } from '#scripts/lib/signer/log.ts';
import { loadSignerService, SIGNER_PACKAGES } from '#scripts/lib/signer/proto.ts';
import { startSigner } from '#scripts/lib/signer/run.ts';
import { SIGNER_SERVER_OPTIONS } from '#scripts/lib/signer/server.ts';
import { writeLocalKeyset } from '#scripts/lib/signer/temp-signer.ts';
import { benchClaims } from './signer-claims.ts';
import { SimulatedKms } from './simulated-kms.ts';
import { type LatencySummary, summarizeLatencies } from './stats.ts';
import { cpuMs, serveRequests, type WorkerRequest } from './worker.ts';

/** What to serve. */
export type HostMode = 'signer' | 'kmsSim' | 'floor';

/** A host's CPU counters: its process's CPU time, and the part spent in signatures while serving. */
export interface HostCpu {
  cpuMs: number;
  signatureCpuMs: number;
  signatures: number;
}

let dir: string | undefined;
let close: (() => Promise<void>) | undefined;
let key: KeyRecord | undefined;
let keys: LocalKeys | undefined;
let simulated: SimulatedKms | undefined;
/** CPU time spent inside signatures while serving, and how many. */
const inSitu = { cpuMs: 0, signatures: 0 };

/**
 * The local backend as `LocalKeys.sign` (cached private key, then the signature), but with the
 * signature made synchronously so its own CPU time can be measured where it runs: inside the
 * serving process, between RPCs, with the caches as serving leaves them (`LocalKeys.sign` itself
 * signs on the thread pool, where no per-call CPU figure can be taken; `kmsSim` serves through it).
 * The floor signs the same way, so the difference is the signer's own code either way. Two
 * `process.cpuUsage()` calls per Sign (about 2 µs) are counted against the signer, never for it.
 */
class MeasuredLocalKeys extends LocalKeys {
  override async sign(record: KeyRecord, input: Uint8Array): Promise<Uint8Array> {
    return measuredSign(await this.privateKey(record), record.alg, input);
  }
}

/** Signs `input` with the key, charging the signature's own CPU time to `inSitu`. */
function measuredSign(privateKey: KeyObject, alg: SigningAlg, input: Uint8Array): Uint8Array {
  const cpu0 = cpuMs();
  const signature = signWithKeyObject(privateKey, alg, input);
  inSitu.cpuMs += cpuMs() - cpu0;
  inSitu.signatures += 1;
  return signature;
}

/**
 * The floor: a bare grpc-js server with the signer's options and services whose Sign makes the
 * same signature, synchronously, and nothing else (no claims check, no retry, no deadline, no
 * keyset): floor + signature, measured as one server so the signature's effect on the rest of
 * the call (caches) is in it too.
 */
async function startFloor(socket: string, keySpec: KeySpec): Promise<void> {
  const { privateKey, publicKeySpki } = await generateSoftwareKey(keySpec);
  const alg = ALG_FOR_SPEC[keySpec];
  const header = encodeHeader(alg, kidFromSpki(publicKeySpki));
  const server = new Server(SIGNER_SERVER_OPTIONS);
  type Callback = (error: null, response: unknown) => void;
  const implementation: UntypedServiceImplementation = {
    Sign: (call: { request: { claims: string } }, callback: Callback) => {
      const signature = measuredSign(privateKey, alg, Buffer.from(`${header}.${call.request.claims}`));
      callback(null, { header, signature: Buffer.from(signature).toString('base64url') });
    },
    FetchKeys: (_call: unknown, callback: Callback) => callback(null, {}),
    Metadata: (_call: unknown, callback: Callback) => callback(null, {}),
  };
  for (const pkg of SIGNER_PACKAGES) server.addService(loadSignerService(pkg).service, implementation);
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`unix://${socket}`, ServerCredentials.createInsecure(), (error) =>
      error ? reject(error) : resolve(),
    ),
  );
  close = async () => {
    server.forceShutdown();
  };
}

async function start(mode: HostMode, keySpec: KeySpec): Promise<{ target: string; pid: number }> {
  dir = await mkdtemp(join(tmpdir(), 'irsa-bench-host-'));
  const socket = join(dir, 'run', 'signer.sock');
  if (mode === 'floor') {
    await startFloor(join(dir, 'floor.sock'), keySpec);
    return { target: `unix://${join(dir, 'floor.sock')}`, pid: process.pid };
  }
  const issuer = join(dir, 'issuer');
  const keyset = await writeLocalKeyset(issuer, [{ spec: keySpec, state: 'active' }]);
  key = keyset.keys[0] as KeyRecord;
  const paths = localPaths(issuer);
  keys = mode === 'signer' ? new MeasuredLocalKeys(paths.state) : new LocalKeys(paths.state);
  simulated = mode === 'kmsSim' ? new SimulatedKms(keys) : undefined;
  const signer = await startSigner({
    socket,
    backend: {
      source: new LocalKeysetStore(paths.state),
      signer: simulated ?? keys,
      describe: paths.keyset,
    },
    settings: resolveSettings(),
    log: jsonLog({ minLevel: 'warn' }),
  });
  close = async () => {
    await signer.close();
    await simulated?.close();
  };
  return { target: `unix://${socket}`, pid: process.pid };
}

/** The signature alone: the backend's sign call for the same key, in a loop, for `minMs`. */
async function signLoop(minMs: number): Promise<{ calls: number; cpuMs: number }> {
  if (key === undefined || keys === undefined) throw new Error('signLoop needs a signer host');
  const header = encodeHeader(key.alg, key.kid);
  const inputs = Array.from({ length: 32 }, (_, i) => Buffer.from(`${header}.${benchClaims(i)}`));
  const cpu0 = cpuMs();
  const t0 = performance.now();
  let calls = 0;
  while (performance.now() - t0 < minMs) {
    await keys.sign(key, inputs[calls % inputs.length] as Buffer);
    calls += 1;
  }
  return { calls, cpuMs: cpuMs() - cpu0 };
}

/** The simulated backend's latencies since the last call, summarised, and forgotten. */
function takeBackendLatencies(): LatencySummary | null {
  const latencies = simulated?.latencies ?? [];
  const summary = latencies.length === 0 ? null : summarizeLatencies(latencies);
  latencies.length = 0;
  return summary;
}

serveRequests(
  async (request: WorkerRequest) => {
    switch (request.type) {
      case 'start':
        return start(request.mode as HostMode, request.keySpec as KeySpec);
      case 'cpu':
        return {
          cpuMs: cpuMs(),
          signatureCpuMs: inSitu.cpuMs,
          signatures: inSitu.signatures,
        } satisfies HostCpu;
      case 'signLoop':
        return signLoop(request.minMs as number);
      case 'backendLatencies':
        return takeBackendLatencies();
      default:
        throw new Error(`unknown request ${request.type}`);
    }
  },
  async () => {
    await close?.();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  },
);
