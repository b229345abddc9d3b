/** Inputs shared by the benchmark's processes: Sign claims, and the fake KMS's key ids. */
import { DEFAULT_AUDIENCE } from '#core/token-claims.ts';

/** Key ids the fake KMS knows. */
export const FAKE_KMS_KEYS = { RS256: 'bench-rsa-2048', ES256: 'bench-ecc-p256' } as const;

/** Claims the way kube-apiserver sends them: base64url of the JSON claims of a pod's token. */
export function benchClaims(i: number): string {
  const iat = 1_790_000_000 + i;
  return Buffer.from(
    JSON.stringify({
      aud: [DEFAULT_AUDIENCE],
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
