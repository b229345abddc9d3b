/**
 * Verifies a Kubernetes service-account token the way STS `AssumeRoleWithWebIdentity` does:
 * compact JWS of 4–20,000 characters; alg RS256/384/512 or ES256/384/512 only; the kid found in
 * the issuer's JWKS; the signature; exact `iss`; an accepted `aud`; exp/nbf/iat with 5 minutes of
 * skew; `sub` = `system:serviceaccount:<namespace>:<name>`. Each failure throws an `IrsaError` with
 * its own code (see docs/core-formats.md). jose checks only the signature; claims are checked here,
 * in this order. Decoding is in token-decode.ts, the JWKS and key cache in jwks-keys.ts, and the
 * claim checks in token-claims.ts; their public names are re-exported from here.
 */
import { compactVerify, errors as joseErrors } from 'jose';
import { discoveryUrlFor } from './discovery.ts';
import { IrsaError } from './errors.ts';
import { validateIssuerUrl } from './issuer.ts';
import { isAcceptedAlg, type JwsAlg } from './jwk.ts';
import { findVerificationJwk, importVerificationKey, type VerificationKey } from './jwks-keys.ts';
import {
  checkAudience,
  checkIssuer,
  checkTimes,
  DEFAULT_AUDIENCE,
  describeIssuerDifference,
  parseServiceAccountSubject,
} from './token-claims.ts';
import { type DecodedToken, decodeTokenUnverified, malformedToken } from './token-decode.ts';

export { parseJwksDocument } from './jwks-keys.ts';
export { describeIssuerDifference, parseServiceAccountSubject } from './token-claims.ts';
export {
  type DecodedToken,
  decodeTokenUnverified,
  MAX_TOKEN_LENGTH,
  MIN_TOKEN_LENGTH,
} from './token-decode.ts';

/** Claims of a verified token; the checked ones are typed. */
export type VerifiedClaims = Record<string, unknown> & {
  iss: string;
  sub: string;
  aud: string | string[];
  exp: number;
  iat: number;
  nbf?: number;
};

/** A token that passed every check. */
export interface VerifiedToken {
  header: { alg: JwsAlg; kid: string; typ?: string };
  claims: VerifiedClaims;
  namespace: string;
  serviceAccount: string;
}

/** What a token is checked against. */
export interface VerifyOptions {
  /** The exact issuer (IAM OIDC provider URL). */
  issuer: string;
  /** Accepted audiences (IAM client IDs); the token must hold at least one. */
  audiences: readonly string[];
  now: Date;
}

function checkHeader(header: Record<string, unknown>): { alg: JwsAlg; kid: string; typ?: string } {
  const alg = header.alg;
  if (!isAcceptedAlg(alg)) {
    throw new IrsaError(
      'TOKEN_ALG_NOT_ALLOWED',
      `The token's alg is ${JSON.stringify(alg ?? null)}; STS accepts only RS256, RS384, RS512, ES256, ES384 and ES512 (never "none" or HS*).`,
      'Sign tokens with the issuer key (RS256 or ES256), as kube-apiserver does.',
    );
  }
  const kid = header.kid;
  if (typeof kid !== 'string' || kid.length === 0) {
    throw new IrsaError(
      'TOKEN_KID_MISSING',
      'The token header has no kid, so STS cannot pick a key from the JWKS.',
      'Sign with a key that has a kid (kube-apiserver sets it; an external signer must return it in the header).',
    );
  }
  return typeof header.typ === 'string' ? { alg, kid, typ: header.typ } : { alg, kid };
}

async function checkSignature(token: string, alg: JwsAlg, kid: string, jwks: unknown): Promise<void> {
  const jwk = findVerificationJwk(jwks, kid);
  const keyType = alg.startsWith('RS') ? 'RSA' : 'EC';
  if (jwk.kty !== keyType || (typeof jwk.alg === 'string' && jwk.alg !== alg)) {
    throw new IrsaError(
      'TOKEN_KEY_ALG_MISMATCH',
      `The token says ${alg} but key ${kid} is ${String(jwk.kty)}${typeof jwk.alg === 'string' ? ` for ${jwk.alg}` : ''}.`,
      'Sign with the algorithm the JWKS lists for that key.',
    );
  }
  if (token.endsWith('.')) {
    throw new IrsaError(
      'TOKEN_SIGNATURE_INVALID',
      'The token has no signature.',
      'Use the signed token kube-apiserver issued, unchanged.',
    );
  }
  let key: VerificationKey;
  try {
    key = await importVerificationKey(jwk, alg);
  } catch (cause) {
    throw new IrsaError(
      'JWKS_KEY_INVALID',
      `Key ${kid} in the JWKS cannot be used for ${alg}: ${(cause as Error).message}.`,
      'Republish the JWKS from the keyset (RSA keys need 2048 bits or more).',
      { cause },
    );
  }
  try {
    await compactVerify(token, key, { algorithms: [alg] });
  } catch (cause) {
    if (cause instanceof joseErrors.JWSSignatureVerificationFailed) {
      throw new IrsaError(
        'TOKEN_SIGNATURE_INVALID',
        `The token's signature does not verify with key ${kid}.`,
        'Check that the token was not altered and that the published key for this kid is the one that signed it.',
        { cause },
      );
    }
    if (cause instanceof TypeError) {
      throw new IrsaError(
        'JWKS_KEY_INVALID',
        `Key ${kid} cannot verify ${alg}: ${cause.message}.`,
        'Republish the JWKS from the keyset (RSA keys need 2048 bits or more).',
        { cause },
      );
    }
    throw malformedToken((cause as Error).message);
  }
}

/** Issuers already validated: a verifier checks against the same one call after call. */
const validIssuers = new Set<string>();

function checkOptions(options: VerifyOptions): void {
  if (!validIssuers.has(options.issuer)) {
    validateIssuerUrl(options.issuer, { allowLoopbackHttp: true });
    if (validIssuers.size >= 64) validIssuers.clear();
    validIssuers.add(options.issuer);
  }
  if (options.audiences.length === 0) {
    throw new IrsaError(
      'VERIFY_AUDIENCES_EMPTY',
      'No accepted audience was given.',
      `Pass at least one audience, usually "${DEFAULT_AUDIENCE}".`,
    );
  }
  if (!(options.now instanceof Date) || Number.isNaN(options.now.getTime())) {
    throw new IrsaError(
      'VERIFY_TIME_INVALID',
      'The verification time is not a valid date.',
      'Pass a valid date as `now`.',
    );
  }
}

/**
 * Verifies `token` against an already fetched JWKS (`jwks` is checked: a `keys` array, no private
 * members). Throws `TOKEN_*` or `JWKS_*` errors; returns the header, claims and service account.
 */
export async function verifyTokenWithJwks(
  token: string,
  options: VerifyOptions & { jwks: unknown },
): Promise<VerifiedToken> {
  checkOptions(options);
  return verifyDecoded(token, decodeTokenUnverified(token), options);
}

/** The checks after decoding, shared so `verifyToken` does not decode the token twice. */
async function verifyDecoded(
  token: string,
  decoded: DecodedToken,
  options: VerifyOptions & { jwks: unknown },
): Promise<VerifiedToken> {
  const header = checkHeader(decoded.header);
  await checkSignature(token, header.alg, header.kid, options.jwks);
  const claims = decoded.claims;
  const iss = checkIssuer(claims.iss, options.issuer);
  const aud = checkAudience(claims.aud, options.audiences);
  const times = checkTimes(claims, options.now);
  const subject = parseServiceAccountSubject(claims.sub);
  if (subject === null) {
    throw new IrsaError(
      'TOKEN_SUBJECT_INVALID',
      `The token's sub ${JSON.stringify(claims.sub ?? null)} is not "system:serviceaccount:<namespace>:<name>".`,
      'Use a service-account token from kube-apiserver (projected volume or TokenRequest), not a user or OIDC login token.',
    );
  }
  return {
    header,
    claims: { ...claims, iss, aud, sub: claims.sub as string, ...times },
    namespace: subject.namespace,
    serviceAccount: subject.serviceAccount,
  };
}

async function fetchDocument(
  fetchJson: (url: string) => Promise<unknown>,
  url: string,
  what: 'DISCOVERY' | 'JWKS',
): Promise<unknown> {
  try {
    return await fetchJson(url);
  } catch (cause) {
    const inner = cause instanceof IrsaError ? cause : undefined;
    throw new IrsaError(
      what === 'JWKS' ? 'JWKS_FETCH_FAILED' : 'DISCOVERY_FETCH_FAILED',
      `Cannot fetch the ${what === 'JWKS' ? 'JWKS' : 'discovery document'} at ${url}: ${(cause as Error).message}`,
      inner?.fix ?? 'Check that the issuer serves it over https at that path, without redirects.',
      { cause, detail: { url, ...(inner === undefined ? {} : { causeCode: inner.code }) } },
    );
  }
}

/**
 * Verifies `token` the way STS does, fetching `<issuer>/.well-known/openid-configuration` and then
 * its `jwks_uri` through `fetchJson`. The discovery `issuer` must equal `options.issuer` exactly.
 * Throws `TOKEN_*`, `DISCOVERY_*` or `JWKS_*` errors.
 */
export async function verifyToken(
  token: string,
  options: VerifyOptions & { fetchJson: (url: string) => Promise<unknown> },
): Promise<VerifiedToken> {
  checkOptions(options);
  const decoded = decodeTokenUnverified(token);
  checkHeader(decoded.header);
  // STS finds the provider by the token's iss before it fetches anything.
  checkIssuer(decoded.claims.iss, options.issuer);
  const discoveryUrl = discoveryUrlFor(options.issuer);
  const discovery = await fetchDocument(options.fetchJson, discoveryUrl, 'DISCOVERY');
  if (discovery === null || typeof discovery !== 'object' || Array.isArray(discovery)) {
    throw new IrsaError(
      'DISCOVERY_INVALID',
      `${discoveryUrl} is not a JSON object.`,
      'Publish the discovery document generated by irsa-anywhere at that path.',
    );
  }
  const { issuer, jwks_uri: jwksUri } = discovery as { issuer?: unknown; jwks_uri?: unknown };
  if (issuer !== options.issuer) {
    throw new IrsaError(
      'DISCOVERY_ISSUER_MISMATCH',
      `The discovery document's issuer does not match: ${typeof issuer === 'string' ? describeIssuerDifference(issuer, options.issuer) : 'it has no "issuer"'}.`,
      `Regenerate the discovery document with issuer exactly "${options.issuer}".`,
      { detail: { issuer, expected: options.issuer } },
    );
  }
  if (typeof jwksUri !== 'string' || !isFetchableUrl(jwksUri, options.issuer)) {
    throw new IrsaError(
      'DISCOVERY_JWKS_URI_INVALID',
      `The discovery document's jwks_uri ${JSON.stringify(jwksUri ?? null)} is not an https URL.`,
      `Set jwks_uri to "${options.issuer}/openid/v1/jwks" (https, reachable by STS).`,
    );
  }
  const jwks = await fetchDocument(options.fetchJson, jwksUri, 'JWKS');
  return verifyDecoded(token, decoded, {
    issuer: options.issuer,
    audiences: options.audiences,
    now: options.now,
    jwks,
  });
}

function isFetchableUrl(url: string, issuer: string): boolean {
  if (url.startsWith('https://')) return url.length > 'https://'.length;
  // A loopback http issuer (local mode) may serve its JWKS over http on the same origin.
  return issuer.startsWith('http://') && url.startsWith(`${issuer}/`);
}
