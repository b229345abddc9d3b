/**
 * `verify`: our STS-style verification (`verifyToken`, discovery and JWKS served from a warm
 * in-memory cache) against jose's `jwtVerify` with a local JWKS on the same tokens, interleaved.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createLocalJWKSet, jwtVerify, SignJWT } from 'jose';
import { buildDiscovery, discoveryUrlFor, jwksUriFor } from '#core/discovery.ts';
import { publicJwkFromSpki } from '#core/jwk.ts';
import type { Jwks } from '#core/jwks.ts';
import { CLOCK_SKEW_SECONDS } from '#core/policy.ts';
import { DEFAULT_AUDIENCE } from '#core/token-claims.ts';
import { verifyToken } from '#core/verify-token.ts';
import type { ThroughputFigures } from './report.ts';
import { alternatingLoop, compareThroughput, type LoopResult } from './stats.ts';

const ISSUER = 'https://oidc.example.com/bench';
const AUDIENCE = DEFAULT_AUDIENCE;
const TOKENS = 16;

function spki(key: KeyObject): Uint8Array {
  return new Uint8Array(key.export({ format: 'der', type: 'spki' }));
}

/** Tokens as kube-apiserver mints them, signed by the active RSA key, and the issuer's documents. */
export async function verifyFixture(
  now: Date,
): Promise<{ tokens: string[]; jwks: Jwks; discovery: unknown }> {
  const active = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const retired = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const activeJwk = publicJwkFromSpki(spki(active.publicKey), 'RS256');
  const jwks: Jwks = { keys: [activeJwk, publicJwkFromSpki(spki(retired.publicKey), 'ES256')] };
  const iat = Math.floor(now.getTime() / 1000) - 60;
  const tokens: string[] = [];
  for (let i = 0; i < TOKENS; i += 1) {
    tokens.push(
      await new SignJWT({
        'kubernetes.io': { namespace: 'team-a', serviceaccount: { name: `app-${i}`, uid: `uid-${i}` } },
      })
        .setProtectedHeader({ alg: 'RS256', kid: activeJwk.kid })
        .setIssuer(ISSUER)
        .setSubject(`system:serviceaccount:team-a:app-${i}`)
        .setAudience([AUDIENCE])
        .setIssuedAt(iat)
        .setNotBefore(iat)
        .setExpirationTime(iat + 3600)
        .sign(active.privateKey),
    );
  }
  return { tokens, jwks, discovery: buildDiscovery(ISSUER, jwks) };
}

/** Runs the verify benchmark for `rounds` interleaved rounds of `roundMs` each. */
export async function benchVerify(options: { rounds: number; roundMs: number }): Promise<ThroughputFigures> {
  const now = new Date();
  const { tokens, jwks, discovery } = await verifyFixture(now);
  // A warm cache: both documents already fetched and parsed, served without I/O.
  const documents = new Map<string, unknown>([
    [discoveryUrlFor(ISSUER), discovery],
    [jwksUriFor(ISSUER), jwks],
  ]);
  const fetchJson = async (url: string): Promise<unknown> => {
    const document = documents.get(url);
    if (document === undefined) throw new Error(`not cached: ${url}`);
    return document;
  };
  const joseKeys = createLocalJWKSet(jwks);
  let i = 0;
  let j = 0;
  const ours = async () => {
    i = (i + 1) % tokens.length;
    await verifyToken(tokens[i] as string, { issuer: ISSUER, audiences: [AUDIENCE], now, fetchJson });
  };
  const jose = async () => {
    j = (j + 1) % tokens.length;
    await jwtVerify(tokens[j] as string, joseKeys, {
      issuer: ISSUER,
      audience: AUDIENCE,
      algorithms: ['RS256', 'ES256'],
      currentDate: now,
      clockTolerance: CLOCK_SKEW_SECONDS,
    });
  };
  // Warm-up: JIT, jose's key import cache, our code paths.
  await alternatingLoop(ours, jose, { minMs: options.roundMs });
  const results = { a: [] as LoopResult[], b: [] as LoopResult[] };
  for (let round = 0; round < options.rounds; round += 1) {
    const { a, b } = await alternatingLoop(ours, jose, { minMs: options.roundMs, minCalls: 50 });
    results.a.push(a);
    results.b.push(b);
  }
  return compareThroughput(results.a, results.b);
}
