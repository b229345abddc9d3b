/**
 * The OIDC discovery document, shaped as kube-apiserver serves it at
 * `/.well-known/openid-configuration`, and the two public documents with deterministic bytes.
 */
import { IrsaError } from './errors.ts';
import { validateIssuerUrl } from './issuer.ts';
import type { Jwks } from './jwks.ts';
import { assertNoPrivateMembers, buildJwks } from './jwks.ts';
import type { KeyRecord } from './keyset.ts';
import type { PublicDocuments } from './ports.ts';

/** Path of the discovery document under the issuer. */
export const DISCOVERY_PATH = '/.well-known/openid-configuration';
/** Path of the JWKS under the issuer (as kube-apiserver serves it). */
export const JWKS_PATH = '/openid/v1/jwks';

/** The discovery document, member order as kube-apiserver writes it. */
export interface DiscoveryDocument {
  issuer: string;
  jwks_uri: string;
  response_types_supported: string[];
  subject_types_supported: string[];
  id_token_signing_alg_values_supported: string[];
}

/** `issuer + "/openid/v1/jwks"`. */
export function jwksUriFor(issuer: string): string {
  return `${issuer}${JWKS_PATH}`;
}

/** `issuer + "/.well-known/openid-configuration"`. */
export function discoveryUrlFor(issuer: string): string {
  return `${issuer}${DISCOVERY_PATH}`;
}

/**
 * The discovery document for `issuer` (checked with {@link validateIssuerUrl}, loopback http allowed)
 * listing the algorithms of the keys in `jwks`, sorted and unique.
 */
export function buildDiscovery(issuer: string, jwks: Jwks): DiscoveryDocument {
  validateIssuerUrl(issuer, { allowLoopbackHttp: true });
  const algs = [...new Set(jwks.keys.map((key) => key.alg))].sort();
  return {
    issuer,
    jwks_uri: jwksUriFor(issuer),
    response_types_supported: ['id_token'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: algs,
  };
}

/**
 * Member both public documents carry when built for the rotation runner: the keyset revision they
 * came from. Extra members are allowed by RFC 7517 §5 (JWK Set) and OpenID Connect Discovery §3,
 * and ignored by readers that do not know them. It makes every publish's bytes, hence its S3 ETag,
 * unique per keyset revision, which the conditional publish relies on (docs/reliability.md).
 */
export const KEYSET_REVISION_MEMBER = 'irsa_anywhere_keyset_revision';

/**
 * Both public documents, serialised with a fixed member order so the same keyset always gives the
 * same bytes (publishers skip unchanged bytes). With `revision`, both carry it as
 * {@link KEYSET_REVISION_MEMBER}. Refuses (`JWKS_EMPTY`, `JWKS_NO_ACTIVE_KEY`,
 * `JWKS_MULTIPLE_ACTIVE_KEYS`) to produce a JWKS that is empty or lacks exactly one active key,
 * and re-checks that no private member would be published.
 */
export function buildPublicDocuments(
  issuer: string,
  keys: readonly KeyRecord[],
  revision?: number,
): PublicDocuments {
  const jwks = buildJwks(keys);
  if (jwks.keys.length === 0) {
    throw new IrsaError(
      'JWKS_EMPTY',
      'Refusing to publish an empty JWKS: every token would fail to verify.',
      'Run rotation (it bootstraps the first key) before publishing, or restore keyset.json from its backup.',
    );
  }
  const active = keys.filter((key) => key.state === 'active' && key.revoked !== true);
  if (active.length === 0) {
    throw new IrsaError(
      'JWKS_NO_ACTIVE_KEY',
      'Refusing to publish a JWKS without the active key: tokens signed now would fail to verify.',
      'Run rotation so a key is promoted to active (or `rotate --now` after a revoke), then publish.',
    );
  }
  if (active.length > 1) {
    throw new IrsaError(
      'JWKS_MULTIPLE_ACTIVE_KEYS',
      `The keyset has ${active.length} active keys (${active.map((key) => key.kid).join(', ')}); exactly one may sign.`,
      'Restore keyset.json from its backup; the keyset must have exactly one active key.',
    );
  }
  const discovery = buildDiscovery(issuer, jwks);
  assertNoPrivateMembers(jwks);
  assertNoPrivateMembers(discovery);
  const stamp: Record<string, number> = revision === undefined ? {} : { [KEYSET_REVISION_MEMBER]: revision };
  return { discovery: serializeDiscovery(discovery, stamp), jwks: serializeJwks(jwks, stamp) };
}

/** The JWKS as JSON with a fixed member order (kty, use, kid, alg, then n, e or crv, x, y). */
export function serializeJwks(jwks: Jwks, extra: Record<string, number> = {}): string {
  const keys = jwks.keys.map((key) =>
    key.kty === 'RSA'
      ? { kty: key.kty, use: key.use, kid: key.kid, alg: key.alg, n: key.n, e: key.e }
      : { kty: key.kty, use: key.use, kid: key.kid, alg: key.alg, crv: key.crv, x: key.x, y: key.y },
  );
  return JSON.stringify({ keys, ...extra });
}

/** The discovery document as JSON with kube-apiserver's member order. */
export function serializeDiscovery(document: DiscoveryDocument, extra: Record<string, number> = {}): string {
  return JSON.stringify({
    issuer: document.issuer,
    jwks_uri: document.jwks_uri,
    response_types_supported: document.response_types_supported,
    subject_types_supported: document.subject_types_supported,
    id_token_signing_alg_values_supported: document.id_token_signing_alg_values_supported,
    ...extra,
  });
}
