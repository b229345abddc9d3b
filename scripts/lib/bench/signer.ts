/**
 * `signer`: ExternalJWTSigner Sign RPCs over the real Unix socket (local backend) against the same
 * signatures made in-process with the same key and no gRPC, for RSA-2048 (RS256) and P-256 (ES256).
 * Throughput with a few calls in flight, as a busy kube-apiserver makes them; latency of lone
 * calls, so "added at p99" is the cost of the socket path and not of queueing.
 */
import type { KeySpec } from '#core/keyset.ts';
import { connectSigner } from '#scripts/lib/signer/client.ts';
import { startTempLocalSigner } from '#scripts/lib/signer/temp-signer.ts';
import type { SignerFigures } from './report.ts';
import {
  alternatingLoop,
  compareThroughput,
  interleave,
  median,
  percentile,
  round,
  timedLoop,
} from './stats.ts';

/** Calls in flight during the throughput rounds. */
export const SIGNER_CONCURRENCY = 4;

/** Claims the way kube-apiserver sends them: base64url of the JSON claims. */
export function benchClaims(i: number): string {
  const iat = 1_790_000_000 + i;
  return Buffer.from(
    JSON.stringify({
      aud: ['sts.amazonaws.com'],
      exp: iat + 86_400,
      iat,
      iss: 'https://oidc.example.com/bench',
      'kubernetes.io': {
        namespace: 'team-a',
        pod: { name: `app-${i}`, uid: '5b1f6c8e-1c1d-4d51-9b5e-3f0b0e5c9a10' },
        serviceaccount: { name: 'app', uid: '0f3d6f7a-8a5e-4d3c-b2a1-6e9c8d7b5a43' },
      },
      nbf: iat,
      sub: 'system:serviceaccount:team-a:app',
    }),
  ).toString('base64url');
}

/** Benchmarks one key spec; the signer runs on a temporary socket for the duration. */
export async function benchSignerSpec(
  keySpec: KeySpec,
  options: { rounds: number; roundMs: number },
): Promise<SignerFigures> {
  const temp = await startTempLocalSigner({ keySpec });
  const client = connectSigner(temp.target);
  try {
    const claims = Array.from({ length: 32 }, (_, i) => benchClaims(i));
    const key = temp.activeKey;
    const header = Buffer.from(JSON.stringify({ alg: key.alg, kid: key.kid, typ: 'JWT' })).toString(
      'base64url',
    );
    let i = 0;
    let j = 0;
    const overSocket = async () => {
      i = (i + 1) % claims.length;
      await client.sign(claims[i] as string);
    };
    const inProcess = async () => {
      j = (j + 1) % claims.length;
      const signature = await temp.localKeys.sign(key, Buffer.from(`${header}.${claims[j] as string}`));
      Buffer.from(signature).toString('base64url');
    };
    // Warm-up: connection, JIT, the backend's key cache and the server's one-time key check.
    await alternatingLoop(overSocket, inProcess, { minMs: options.roundMs / 2, minCalls: 20 });
    const throughput = await interleave(
      options.rounds,
      () => timedLoop(overSocket, { minMs: options.roundMs, concurrency: SIGNER_CONCURRENCY, minCalls: 20 }),
      () => timedLoop(inProcess, { minMs: options.roundMs, concurrency: SIGNER_CONCURRENCY, minCalls: 20 }),
    );
    const latency = { p50: [] as number[], p99: [] as number[], baselineP99: [] as number[] };
    for (let r = 0; r < options.rounds; r += 1) {
      const { a, b } = await alternatingLoop(overSocket, inProcess, {
        minMs: options.roundMs / 2,
        minCalls: 100,
      });
      latency.p50.push(percentile(a.latenciesMs, 50));
      latency.p99.push(percentile(a.latenciesMs, 99));
      latency.baselineP99.push(percentile(b.latenciesMs, 99));
    }
    return {
      ...compareThroughput(throughput.a, throughput.b),
      p50Ms: round(median(latency.p50), 3),
      p99Ms: round(median(latency.p99), 3),
      baselineP99Ms: round(median(latency.baselineP99), 3),
    };
  } finally {
    client.close();
    await temp.close();
  }
}

/** Benchmarks RS256 (RSA-2048) and ES256 (P-256). */
export async function benchSigner(options: {
  rounds: number;
  roundMs: number;
}): Promise<{ RS256: SignerFigures; ES256: SignerFigures }> {
  return {
    RS256: await benchSignerSpec('RSA_2048', options),
    ES256: await benchSignerSpec('ECC_NIST_P256', options),
  };
}
