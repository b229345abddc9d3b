/**
 * Test helpers for doctor: the fixture keys, public documents built with the core functions,
 * tokens minted with jose, a fake fetch and a fake kube client over recorded responses.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SignJWT } from 'jose';
import { buildPublicDocuments } from '#core/discovery.ts';
import type { KeyRecord } from '#core/keyset.ts';
import { kidFromSpki } from '#core/kid.ts';
import type { HttpFetch, HttpResult } from '#scripts/lib/doctor/http.ts';
import type { KubeClient, KubeResponse } from '#scripts/lib/doctor/kube-client.ts';
import type { CheckResult, DoctorContext, DoctorDeps, DoctorOptions } from '#scripts/lib/doctor/types.ts';

const keyFile = (name: string): string =>
  readFileSync(new URL(`../../../fixtures/keys/${name}`, import.meta.url), 'utf8');
const fixtureFile = (name: string): string =>
  readFileSync(new URL(`../../../fixtures/doctor/${name}`, import.meta.url), 'utf8');

/** A recorded response from test/fixtures/doctor. */
export function recorded<T>(name: string): T {
  return JSON.parse(fixtureFile(name)) as T;
}

export const RSA_PRIVATE: KeyObject = createPrivateKey(keyFile('rsa-2048.pem'));
export const EC_PRIVATE: KeyObject = createPrivateKey(keyFile('ec-p256.pem'));
const spki = (key: KeyObject) => new Uint8Array(createPublicKey(key).export({ format: 'der', type: 'spki' }));
export const RSA_KID = kidFromSpki(spki(RSA_PRIVATE));
export const EC_KID = kidFromSpki(spki(EC_PRIVATE));

/** The fixed time of the tests. */
export const NOW = new Date('2026-03-01T12:00:00Z');
const nowSeconds = Math.floor(NOW.getTime() / 1000);

/** The active RSA key and a pending EC key, as keyset records. */
export function keyRecords(): KeyRecord[] {
  return [
    {
      kid: RSA_KID,
      alg: 'RS256',
      keySpec: 'RSA_2048',
      state: 'active',
      publicKeySpki: Buffer.from(spki(RSA_PRIVATE)).toString('base64'),
      location: { type: 'local', file: 'keys/rsa.pem' },
      createdAt: '2026-02-20T00:00:00.000Z',
      publishedAt: '2026-02-20T00:00:00.000Z',
      activatedAt: '2026-02-20T00:00:00.000Z',
    },
    {
      kid: EC_KID,
      alg: 'ES256',
      keySpec: 'ECC_NIST_P256',
      state: 'pending',
      publicKeySpki: Buffer.from(spki(EC_PRIVATE)).toString('base64'),
      location: { type: 'local', file: 'keys/ec.pem' },
      createdAt: '2026-02-28T00:00:00.000Z',
      publishedAt: '2026-02-28T00:00:00.000Z',
    },
  ];
}

/** Discovery and JWKS for `issuer`, built by core `buildPublicDocuments`. */
export function documents(issuer: string): { discovery: string; jwks: string } {
  return buildPublicDocuments(issuer, keyRecords());
}

export interface MintOptions {
  iss: string;
  aud?: string | string[];
  sub?: string;
  kid?: string;
  iat?: number;
  exp?: number;
  key?: 'rsa' | 'ec';
}

/** A projected-token-shaped JWT signed with a fixture key. */
export async function mintToken(options: MintOptions): Promise<string> {
  const ec = options.key === 'ec';
  const iat = options.iat ?? nowSeconds - 60;
  return new SignJWT({
    sub: options.sub ?? 'system:serviceaccount:apps:web',
    aud: options.aud ?? ['sts.amazonaws.com'],
    'kubernetes.io': {
      namespace: 'apps',
      serviceaccount: { name: 'web', uid: '0b6f4c58-8a2c-4b43-9a6c-4f3d0a4b8c11' },
    },
  })
    .setProtectedHeader({
      alg: ec ? 'ES256' : 'RS256',
      kid: options.kid ?? (ec ? EC_KID : RSA_KID),
      typ: 'JWT',
    })
    .setIssuer(options.iss)
    .setIssuedAt(iat)
    .setNotBefore(iat)
    .setExpirationTime(options.exp ?? iat + 3600)
    .sign(ec ? EC_PRIVATE : RSA_PRIVATE);
}

/** An HTTP 200 JSON response. */
export function ok(url: string, body: string, headers: Record<string, string> = {}): HttpResult {
  return { url, status: 200, headers: { 'content-type': 'application/json', ...headers }, body };
}

/** A fetch that answers from `responses` by URL and 404s anything else. Records the URLs asked. */
export function fakeFetch(
  responses: Record<string, Omit<HttpResult, 'url'> | HttpResult>,
): HttpFetch & { calls: string[] } {
  const calls: string[] = [];
  const fetch = async (url: string): Promise<HttpResult> => {
    calls.push(url);
    const found = responses[url];
    return found === undefined ? { url, status: 404, headers: {}, body: 'Not Found' } : { ...found, url };
  };
  return Object.assign(fetch, { calls });
}

/** The public documents of `issuer` served by a fake fetch, with CloudFront-like headers. */
export function servedIssuer(
  issuer: string,
  override: Partial<Record<'discovery' | 'jwks', Partial<HttpResult>>> = {},
) {
  const docs = documents(issuer);
  const cache = { 'cache-control': 'max-age=300' };
  return fakeFetch({
    [`${issuer}/.well-known/openid-configuration`]: {
      ...ok('', docs.discovery, cache),
      ...override.discovery,
    },
    [`${issuer}/openid/v1/jwks`]: { ...ok('', docs.jwks, cache), ...override.jwks },
  });
}

/** A kube client answering from recorded responses keyed by `METHOD path`. */
export function fakeKube(
  responses: Record<string, KubeResponse | (() => KubeResponse)>,
): KubeClient & { calls: Array<{ method: string; path: string; body?: unknown }> } {
  const calls: Array<{ method: string; path: string; body?: unknown }> = [];
  return {
    calls,
    request: async (method, path, body) => {
      calls.push(body === undefined ? { method, path } : { method, path, body });
      const found = responses[`${method} ${path}`];
      if (found === undefined)
        return { status: 404, body: JSON.stringify({ kind: 'Status', code: 404, message: 'not found' }) };
      return typeof found === 'function' ? found() : found;
    },
  };
}

/** Deps with no AWS, no kube, files from `files`. */
export function offlineDeps(fetch: HttpFetch, files: Record<string, string> = {}): DoctorDeps {
  return {
    fetch,
    now: () => NOW,
    readFile: async (path) => {
      const text = files[path];
      if (text === undefined)
        throw Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), {
          code: 'ENOENT',
        });
      return text;
    },
    awsUnavailable: 'no AWS_PROFILE, AWS_ACCESS_KEY_ID or ~/.aws files',
  };
}

/** A fresh context, as runDoctor builds it, with `extra` already found by earlier checks. */
export function context(
  options: DoctorOptions,
  deps: DoctorDeps,
  extra: Partial<DoctorContext> = {},
): DoctorContext {
  return { options, deps, audience: 'sts.amazonaws.com', loopback: false, ...extra };
}

/** The line with `id`, failing the test when it is missing. */
export function line(results: readonly CheckResult[], id: string) {
  const found = results.find((r) => r.id === id);
  if (found === undefined) throw new Error(`no line ${id} in ${results.map((r) => r.id).join(', ')}`);
  return found;
}
