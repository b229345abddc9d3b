/**
 * The kms backend benchmark's client process: the real `KmsSigner` with the signer's own KMS
 * client (`signerKmsClient`), pointed at the fake KMS. `run` signs in a closed loop and answers its
 * own CPU time, so the figure is the SDK's and the adapter's cost per Sign and nothing else's.
 */
import { Session } from 'node:inspector';
import { performance } from 'node:perf_hooks';
import { KMSClient } from '@aws-sdk/client-kms';
import { KmsSigner } from '#adapters/aws/kms-signer.ts';
import type { KeyRecord, SigningAlg } from '#core/keyset.ts';
import { signerAws, signerKmsClient } from '#scripts/lib/signer/backends.ts';
import { encodeHeader } from '#scripts/lib/signer/claims.ts';
import { type CpuProfile, type ProfileShare, summarizeProfile } from './profile.ts';
import { benchClaims, FAKE_KMS_KEYS } from './signer-claims.ts';
import { timedLoop } from './stats.ts';
import { cpuMs, serveRequests, type WorkerRequest } from './worker.ts';

let signer: KmsSigner | undefined;
let client: KMSClient | undefined;

function record(alg: SigningAlg): KeyRecord {
  const at = new Date(0).toISOString();
  return {
    kid: `bench-${alg}`,
    alg,
    keySpec: alg === 'RS256' ? 'RSA_2048' : 'ECC_NIST_P256',
    state: 'active',
    publicKeySpki: '',
    location: { type: 'kms', keyId: FAKE_KMS_KEYS[alg] },
    createdAt: at,
    publishedAt: at,
    activatedAt: at,
  };
}

async function run(request: WorkerRequest) {
  if (signer === undefined) throw new Error('setup first');
  const kms = signer;
  const key = record(request.alg as SigningAlg);
  const header = encodeHeader(key.alg, key.kid);
  const inputs = Array.from({ length: 32 }, (_, i) => Buffer.from(`${header}.${benchClaims(i)}`));
  let i = 0;
  const cpu0 = cpuMs();
  const t0 = performance.now();
  const loop = await timedLoop(
    () => {
      i = (i + 1) % inputs.length;
      return kms.sign(key, inputs[i] as Buffer);
    },
    {
      minMs: request.minMs as number,
      minCalls: request.minCalls as number,
      concurrency: request.concurrency as number,
    },
  );
  return { calls: loop.calls, cpuMs: cpuMs() - cpu0, elapsedMs: performance.now() - t0 };
}

/** Runs `body` under the V8 profiler (node:inspector) and answers where the CPU time went. */
async function profiled(body: () => Promise<unknown>): Promise<ProfileShare[]> {
  const session = new Session();
  session.connect();
  const post = (method: string) =>
    new Promise<unknown>((resolve, reject) =>
      session.post(method, (error, result) => (error ? reject(error) : resolve(result))),
    );
  try {
    await post('Profiler.enable');
    await post('Profiler.start');
    await body();
    const { profile } = (await post('Profiler.stop')) as { profile: CpuProfile };
    return summarizeProfile(profile);
  } finally {
    session.disconnect();
  }
}

serveRequests(
  async (request) => {
    if (request.type === 'setup') {
      const options = {
        endpoint: request.endpoint as string,
        credentials: { accessKeyId: 'AKIDBENCHMARK', secretAccessKey: 'bench-secret' },
      };
      // `withoutCache`: the signer's settings before the benchmark, for the comparison. This is
      // the one client built outside the CLI's factory (scripts/lib/aws-clients.ts), on purpose:
      // it measures an older set of client settings, so it must not pick up the factory's.
      client =
        request.withoutCache === true
          ? new KMSClient({
              ...options,
              region: 'us-east-1',
              maxAttempts: 1,
              requestHandler: { connectionTimeout: 1_000, requestTimeout: 3_000 },
            })
          : signerKmsClient(signerAws('us-east-1'), options);
      signer = new KmsSigner({ kms: client });
      return null;
    }
    if (request.type === 'run') return run(request);
    if (request.type === 'profile') return profiled(() => run(request));
    throw new Error(`unknown request ${request.type}`);
  },
  async () => {
    // Kept-alive sockets would hold the process open.
    client?.destroy();
  },
);
