/**
 * Verifies a Kubernetes service-account token the way STS `AssumeRoleWithWebIdentity` does:
 * compact JWS of 4–20,000 characters; alg RS256/384/512 or ES256/384/512 only; the kid found in
 * the issuer's JWKS; the signature; exact `iss`; an accepted `aud`; exp/nbf/iat with 5 minutes of
 * skew; `sub` = `system:serviceaccount:<namespace>:<name>`. Each failure throws an `IrsaError` with
 * its own code (see docs/core-formats.md). jose checks only the signature; claims are checked here.
 */
import { compactVerify, importJWK, type JWK, errors as joseErrors } from 'jose';
import { discoveryUrlFor } from './discovery.ts';
import { IrsaError } from './errors.ts';
import { validateIssuerUrl } from './issuer.ts';
import { isAcceptedAlg, type JwsAlg } from './jwk.ts';
import { assertNoPrivateMembers } from './jwks.ts';
import { CLOCK_SKEW_SECONDS } from './policy.ts';

/** STS limits on the web identity token. */
export const MIN_TOKEN_LENGTH = 4;
export const MAX_TOKEN_LENGTH = 20_000;

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

/** Decoded, unverified parts of a compact JWS. */
export interface DecodedToken {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function malformed(problem: string): IrsaError {
  return new IrsaError(
    'TOKEN_MALFORMED',
    `The token is not a valid compact JWT: ${problem}.`,
    'Pass the token file content unchanged (three base64url segments separated by dots, no quotes or line breaks).',
  );
}

function decodeSegment(segment: string, name: string): Uint8Array {
  if (segment.length === 0) throw malformed(`the ${name} segment is empty`);
  if (!/^[A-Za-z0-9_-]+$/.test(segment)) throw malformed(`the ${name} segment is not base64url`);
  const bytes = Buffer.from(segment, 'base64url');
  if (bytes.toString('base64url') !== segment)
    throw malformed(`the ${name} segment is not canonical base64url`);
  return new Uint8Array(bytes);
}

/** One strict decoder for every call: building a TextDecoder costs about as much as decoding. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

function decodeJsonObject(segment: string, name: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(UTF8.decode(decodeSegment(segment, name)));
  } catch (error) {
    if (error instanceof IrsaError) throw error;
    throw malformed(`the ${name} is not UTF-8 JSON`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw malformed(`the ${name} is not a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

/**
 * Splits and decodes a compact JWT without verifying anything but its shape. Throws
 * `TOKEN_TOO_LONG` or `TOKEN_MALFORMED` (length under 4, not three segments, bad base64url, not JSON).
 */
export function decodeTokenUnverified(token: string): DecodedToken {
  if (typeof token !== 'string') throw malformed('it is not a string');
  if (token.length > MAX_TOKEN_LENGTH) {
    throw new IrsaError(
      'TOKEN_TOO_LONG',
      `The token is ${token.length} characters; STS accepts at most ${MAX_TOKEN_LENGTH}.`,
      'Pass only the token (not a file of several), and keep custom claims small.',
    );
  }
  if (token.length < MIN_TOKEN_LENGTH)
    throw malformed(`it is ${token.length} characters long, STS needs at least 4`);
  const segments = token.split('.');
  if (segments.length !== 3) throw malformed(`it has ${segments.length} segment(s) instead of 3`);
  const [header = '', claims = '', signature = ''] = segments;
  const decoded = { header: decodeJsonObject(header, 'header'), claims: decodeJsonObject(claims, 'claims') };
  // An empty signature is left to the alg and signature checks, which explain it better.
  if (signature !== '') decodeSegment(signature, 'signature');
  return decoded;
}

/** Says how an issuer differs from the expected one (trailing slash, case, scheme), for messages. */
export function describeIssuerDifference(actual: string, expected: string): string {
  if (actual === `${expected}/`) return `"${actual}" has a trailing slash that "${expected}" does not`;
  if (expected === `${actual}/`) return `"${actual}" lacks the trailing slash of "${expected}"`;
  if (actual.toLowerCase() === expected.toLowerCase()) {
    return `"${actual}" differs from "${expected}" only in letter case, and IAM compares case-sensitively`;
  }
  const strip = (url: string) => url.replace(/^[a-z]+:\/\//i, '');
  if (strip(actual) === strip(expected)) return `"${actual}" uses a different scheme than "${expected}"`;
  return `"${actual}" is not "${expected}"`;
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

function checkIssuer(iss: unknown, expected: string): string {
  if (typeof iss !== 'string' || iss !== expected) {
    const how =
      typeof iss === 'string' ? describeIssuerDifference(iss, expected) : 'the token has no iss claim';
    throw new IrsaError(
      'TOKEN_ISSUER_MISMATCH',
      `The token's issuer does not match: ${how}.`,
      `Make kube-apiserver's --service-account-issuer, the discovery "issuer" and the IAM OIDC provider URL all exactly "${expected}".`,
      { detail: { iss, expected } },
    );
  }
  return iss;
}

/** Validates a JWKS document: an object with a `keys` array of objects and no private members. */
export function parseJwksDocument(jwks: unknown): { keys: Array<Record<string, unknown>> } {
  if (jwks === null || typeof jwks !== 'object' || !Array.isArray((jwks as { keys?: unknown }).keys)) {
    throw new IrsaError(
      'JWKS_INVALID',
      'The JWKS is not an object with a "keys" array.',
      'Publish a JWKS document ({"keys":[...]}) at the jwks_uri.',
    );
  }
  const keys = (jwks as { keys: unknown[] }).keys;
  if (!keys.every((key) => key !== null && typeof key === 'object' && !Array.isArray(key))) {
    throw new IrsaError(
      'JWKS_INVALID',
      'The JWKS "keys" array holds something that is not a JWK object.',
      'Publish only JWK objects in "keys".',
    );
  }
  // RFC 7517: "kty" is required and a string; "kid" is a string when present. Anything else is
  // not a key STS could use, and must not reach code that formats or compares it.
  const malformed = (keys as Array<Record<string, unknown>>).findIndex(
    (key) => typeof key.kty !== 'string' || (key.kid !== undefined && typeof key.kid !== 'string'),
  );
  if (malformed !== -1) {
    throw new IrsaError(
      'JWKS_INVALID',
      `JWKS key ${malformed} has no string "kty", or a "kid" that is not a string.`,
      'Publish JWKs with "kty" ("RSA" or "EC") and a string "kid".',
    );
  }
  assertNoPrivateMembers(jwks);
  return { keys: keys as Array<Record<string, unknown>> };
}

/**
 * Imported keys by alg and exact JWK content. Importing an RSA JWK costs about as much as
 * verifying a signature, and a warm JWKS holds the same few keys call after call. Keyed by
 * content, not kid, so a JWKS that changes a key is never answered from a stale entry.
 */
const importedKeys = new Map<string, ReturnType<typeof importJWK>>();
const IMPORTED_KEYS_MAX = 64;
/** The same, by JWK object, so a warm cache's objects skip even the content key. */
const importedByObject = new WeakMap<object, { alg: JwsAlg; key: ReturnType<typeof importJWK> }>();

function importVerificationKey(jwk: Record<string, unknown>, alg: JwsAlg): ReturnType<typeof importJWK> {
  const known = importedByObject.get(jwk);
  if (known !== undefined && known.alg === alg) return known.key;
  const id = `${alg} ${JSON.stringify(jwk)}`;
  let imported = importedKeys.get(id);
  if (imported === undefined) {
    if (importedKeys.size >= IMPORTED_KEYS_MAX) importedKeys.clear();
    const fresh = importJWK(jwk as JWK, alg);
    importedKeys.set(id, fresh);
    fresh.catch(() => importedKeys.delete(id));
    imported = fresh;
  }
  importedByObject.set(jwk, { alg, key: imported });
  return imported;
}

/**
 * JWKS documents already checked by {@link parseJwksDocument}. A fetched document is not changed
 * after it is fetched, so a warm cache's object is checked once, not on every token.
 */
const checkedJwks = new WeakSet<object>();

function checkedKeys(jwks: unknown): Array<Record<string, unknown>> {
  if (jwks !== null && typeof jwks === 'object' && checkedJwks.has(jwks)) {
    return (jwks as { keys: Array<Record<string, unknown>> }).keys;
  }
  const { keys } = parseJwksDocument(jwks);
  checkedJwks.add(jwks as object);
  return keys;
}

async function checkSignature(token: string, alg: JwsAlg, kid: string, jwks: unknown): Promise<void> {
  const keys = checkedKeys(jwks);
  const jwk = keys.find((key) => key.kid === kid && key.use !== 'enc');
  if (jwk === undefined) {
    throw new IrsaError(
      'TOKEN_KID_UNKNOWN',
      `The token's kid ${kid} is not in the issuer's JWKS; STS answers "Couldn't retrieve verification key from your identity provider".`,
      'Publish the signing key before it signs (wait for rotation to publish it), and keep retired keys published until their tokens expire.',
      { detail: { kid, published: keys.map((key) => key.kid) } },
    );
  }
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
  let key: Awaited<ReturnType<typeof importJWK>>;
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
    throw malformed((cause as Error).message);
  }
}

function numericDate(claims: Record<string, unknown>, name: string, required: boolean): number | undefined {
  const value = claims[name];
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new IrsaError(
      'TOKEN_CLAIM_INVALID',
      `The token's ${name} claim is ${value === undefined ? 'missing' : 'not a number of seconds'}.`,
      'Use a token minted by kube-apiserver (TokenRequest or a projected volume): it sets exp, iat and nbf.',
    );
  }
  return value;
}

function checkTimes(claims: Record<string, unknown>, now: Date): { exp: number; iat: number; nbf?: number } {
  const nowSeconds = Math.floor(now.getTime() / 1000);
  const exp = numericDate(claims, 'exp', true) as number;
  const iat = numericDate(claims, 'iat', true) as number;
  const nbf = numericDate(claims, 'nbf', false);
  const at = (seconds: number) => new Date(seconds * 1000).toISOString();
  if (nowSeconds > exp + CLOCK_SKEW_SECONDS) {
    throw new IrsaError(
      'TOKEN_EXPIRED',
      `The token expired at ${at(exp)} (now ${at(nowSeconds)}, ${CLOCK_SKEW_SECONDS} s of skew allowed).`,
      'Use a fresh token: kubelet refreshes projected tokens at 80% of their lifetime; check the node clock.',
    );
  }
  if (nbf !== undefined && nowSeconds + CLOCK_SKEW_SECONDS < nbf) {
    throw new IrsaError(
      'TOKEN_NOT_YET_VALID',
      `The token is not valid before ${at(nbf)} (now ${at(nowSeconds)}, ${CLOCK_SKEW_SECONDS} s of skew allowed).`,
      'Synchronise the clocks (NTP) of the control plane and of the machine verifying the token.',
    );
  }
  if (nowSeconds + CLOCK_SKEW_SECONDS < iat) {
    throw new IrsaError(
      'TOKEN_ISSUED_IN_FUTURE',
      `The token was issued at ${at(iat)}, in the future (now ${at(nowSeconds)}, ${CLOCK_SKEW_SECONDS} s of skew allowed).`,
      'Synchronise the clocks (NTP) of the control plane and of the machine verifying the token.',
    );
  }
  return nbf === undefined ? { exp, iat } : { exp, iat, nbf };
}

function checkAudience(aud: unknown, accepted: readonly string[]): string | string[] {
  const list = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : undefined;
  if (list === undefined || !list.every((item): item is string => typeof item === 'string')) {
    throw new IrsaError(
      'TOKEN_AUDIENCE_MISMATCH',
      'The token has no aud claim (or it is not a string or list of strings).',
      `Request the token with an audience the IAM OIDC provider lists, e.g. "${accepted[0] ?? 'sts.amazonaws.com'}".`,
    );
  }
  if (!list.some((item) => accepted.includes(item))) {
    throw new IrsaError(
      'TOKEN_AUDIENCE_MISMATCH',
      `The token's audience ${JSON.stringify(list)} holds none of the accepted ${JSON.stringify(accepted)}.`,
      `Set the projected token audience (or the webhook's audience annotation) to "${accepted[0] ?? 'sts.amazonaws.com'}", or add the token's audience as a client ID of the IAM OIDC provider.`,
    );
  }
  return aud as string | string[];
}

/** Parses `system:serviceaccount:<namespace>:<name>`; null when `sub` is not of that form. */
export function parseServiceAccountSubject(
  sub: unknown,
): { namespace: string; serviceAccount: string } | null {
  if (typeof sub !== 'string') return null;
  const parts = sub.split(':');
  if (parts.length !== 4 || parts[0] !== 'system' || parts[1] !== 'serviceaccount') return null;
  const namespace = parts[2] ?? '';
  const serviceAccount = parts[3] ?? '';
  if (namespace.length > 63 || !DNS_LABEL.test(namespace)) return null;
  if (serviceAccount.length > 253 || !DNS_SUBDOMAIN.test(serviceAccount)) return null;
  return { namespace, serviceAccount };
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
      'Pass at least one audience, usually "sts.amazonaws.com".',
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
      `${what}_FETCH_FAILED`,
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
