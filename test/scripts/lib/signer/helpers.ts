/** Test helpers for the signer: claims, gRPC status codes, fake keyset sources and backends. */
import { createPublicKey, verify } from 'node:crypto';
import type { Keyset } from '#core/keyset.ts';
import type { SigningBackend, VersionedKeyset } from '#core/ports.ts';
import type { KeysetSource } from '#scripts/lib/signer/keyset-cache.ts';

/** The base64url claims segment of a service-account-like token. */
export function claimsSegment(overrides: Record<string, unknown> = {}): string {
  const now = Math.floor(Date.now() / 1000);
  return Buffer.from(
    JSON.stringify({
      iss: 'http://127.0.0.1:1/issuer',
      sub: 'system:serviceaccount:team-a:app',
      aud: ['sts.amazonaws.com'],
      iat: now,
      nbf: now,
      exp: now + 3600,
      ...overrides,
    }),
  ).toString('base64url');
}

/** The gRPC status code of a failed call. */
export async function grpcCode(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
  } catch (error) {
    return (error as { code: number }).code;
  }
  throw new Error('expected the call to fail');
}

/** Checks a compact JWT's signature against a DER SPKI public key. */
export function verifiesWith(jwt: string, spki: Uint8Array, alg: string): boolean {
  const [h, c, s] = jwt.split('.');
  const key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  return verify(
    'sha256',
    Buffer.from(`${h}.${c}`),
    alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key,
    Buffer.from(s ?? '', 'base64url'),
  );
}

/** A keyset source whose answer the test controls: a keyset, null, or an error ("down"). */
export class FakeSource implements KeysetSource {
  reads = 0;
  constructor(public next: Keyset | null | Error) {}
  async read(): Promise<VersionedKeyset | null> {
    this.reads += 1;
    if (this.next instanceof Error) throw this.next;
    return this.next === null ? null : { keyset: structuredClone(this.next), version: String(this.reads) };
  }
}

/** A signing backend that delegates, or fails as told. */
export class SwitchableSigner implements SigningBackend {
  calls = 0;
  mode: 'ok' | 'down' | 'hang' | { throttleTimes: number } = 'ok';
  constructor(private readonly inner: SigningBackend) {}
  async sign(...args: Parameters<SigningBackend['sign']>): Promise<Uint8Array> {
    this.calls += 1;
    const mode = this.mode;
    if (mode === 'down') throw Object.assign(new Error('connect ECONNREFUSED kms'), { name: 'Error' });
    if (mode === 'hang') return new Promise(() => {});
    if (typeof mode === 'object' && mode.throttleTimes > 0) {
      mode.throttleTimes -= 1;
      throw Object.assign(new Error('Rate exceeded'), {
        name: 'ThrottlingException',
        $metadata: { httpStatusCode: 400 },
      });
    }
    return this.inner.sign(...args);
  }
}
