/**
 * Projected service-account tokens, shaped the way kube-apiserver shapes them: the claims of a
 * token for a pod, and the assembly of a compact JWS from a header, the claims and a signer.
 */
import { base64url } from 'jose';
import { IrsaError } from './errors.ts';
import type { SigningAlg } from './keyset.ts';
import { parseServiceAccountRef } from './kube-names.ts';

/**
 * Throws `NAMESPACE_INVALID` or `SERVICE_ACCOUNT_INVALID` unless `namespace` and `serviceAccount`
 * are valid Kubernetes names (kube-names.ts).
 */
export function assertServiceAccountName(namespace: string, serviceAccount: string): void {
  parseServiceAccountRef(namespace, serviceAccount);
}

/** What a projected token is for. */
export interface ProjectedTokenInput {
  issuer: string;
  audiences: readonly string[];
  namespace: string;
  serviceAccount: string;
  serviceAccountUid: string;
  pod?: { name: string; uid: string };
  node?: { name: string; uid: string };
  now: Date;
  ttlSeconds: number;
  jti: string;
}

/** The claims kube-apiserver puts in a projected service-account token. */
export function buildProjectedTokenClaims(input: ProjectedTokenInput): Record<string, unknown> {
  assertServiceAccountName(input.namespace, input.serviceAccount);
  if (input.audiences.length === 0) {
    throw new IrsaError(
      'TOKEN_AUDIENCE_MISSING',
      'A projected token needs at least one audience.',
      'Pass --audience sts.amazonaws.com.',
    );
  }
  const iat = Math.floor(input.now.getTime() / 1000);
  const kubernetes: Record<string, unknown> = {
    namespace: input.namespace,
    serviceaccount: { name: input.serviceAccount, uid: input.serviceAccountUid },
  };
  if (input.pod !== undefined) kubernetes.pod = input.pod;
  if (input.node !== undefined) kubernetes.node = input.node;
  return {
    aud: [...input.audiences],
    exp: iat + input.ttlSeconds,
    iat,
    iss: input.issuer,
    jti: input.jti,
    'kubernetes.io': kubernetes,
    nbf: iat,
    sub: `system:serviceaccount:${input.namespace}:${input.serviceAccount}`,
  };
}

const encoder = new TextEncoder();

/** base64url (no padding) of a JSON value. */
export function encodeJsonSegment(value: unknown): string {
  return base64url.encode(encoder.encode(JSON.stringify(value)));
}

/**
 * Assembles a compact JWS the way kube-apiserver does with an external signer: header
 * `{alg, kid, typ: "JWT"}`, the claims segment as given, and a signature over `header.claims`.
 * `sign` returns the signature in JOSE form.
 */
export async function signCompactJwt(
  header: { alg: SigningAlg; kid: string },
  claimsSegment: string,
  sign: (signingInput: Uint8Array) => Promise<Uint8Array>,
): Promise<string> {
  const headerSegment = encodeJsonSegment({ alg: header.alg, kid: header.kid, typ: 'JWT' });
  const signingInput = `${headerSegment}.${claimsSegment}`;
  const signature = await sign(encoder.encode(signingInput));
  return `${signingInput}.${base64url.encode(signature)}`;
}
