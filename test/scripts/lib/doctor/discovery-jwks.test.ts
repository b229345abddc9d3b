import { describe, expect, it } from 'vitest';
import { checkDiscovery } from '#scripts/lib/doctor/checks/discovery.ts';
import { checkCacheControl, checkJwks } from '#scripts/lib/doctor/checks/jwks.ts';
import { checkIssuerUrl } from '#scripts/lib/doctor/checks/setup.ts';
import type { HttpResult } from '#scripts/lib/doctor/http.ts';
import { context, documents, fakeFetch, line, offlineDeps, ok, recorded, servedIssuer } from './helpers.ts';

const ISSUER = 'https://oidc.example.com/c1';
const DISCOVERY = `${ISSUER}/.well-known/openid-configuration`;
const JWKS = `${ISSUER}/openid/v1/jwks`;

async function discoveryLines(fetch: ReturnType<typeof fakeFetch>) {
  const ctx = context({ issuer: ISSUER }, offlineDeps(fetch), { issuer: ISSUER });
  return { ctx, lines: await checkDiscovery(ctx) };
}

describe('issuer.url', () => {
  it('passes a canonical https issuer and fails one with a trailing slash, giving the fixed URL', async () => {
    const good = context({ issuer: ISSUER }, offlineDeps(fakeFetch({})));
    expect(line(await checkIssuerUrl(good), 'issuer.url').status).toBe('PASS');
    const bad = context({ issuer: `${ISSUER}/` }, offlineDeps(fakeFetch({})));
    const result = line(await checkIssuerUrl(bad), 'issuer.url');
    expect(result.status).toBe('FAIL');
    expect(result.detail).toContain('ISSUER_TRAILING_SLASH');
    expect(result.fix).toContain(`"${ISSUER}"`);
    expect(bad.issuerProblem).toBeDefined();
  });
});

describe('discovery', () => {
  it('passes a document served with 200 whose issuer and jwks_uri are exact', async () => {
    const { ctx, lines } = await discoveryLines(servedIssuer(ISSUER));
    for (const id of ['discovery.fetch', 'discovery.issuer', 'discovery.jwks_uri', 'discovery.algs']) {
      expect(line(lines, id).status, id).toBe('PASS');
    }
    expect(ctx.jwksUrl).toBe(JWKS);
  });

  it('fails a redirect, naming where it goes and that STS does not follow it', async () => {
    const { lines } = await discoveryLines(
      fakeFetch({ [DISCOVERY]: recorded<HttpResult>('http-redirect.json') }),
    );
    const fetch = line(lines, 'discovery.fetch');
    expect(fetch.status).toBe('FAIL');
    expect(fetch.detail).toMatch(
      /HTTP 301 redirect to https:\/\/irsa-c1-public\.s3\.us-east-1.*STS does not follow redirects/,
    );
    expect(fetch.fix).toMatch(/regional S3 domain/);
    expect(line(lines, 'discovery.issuer').status).toBe('SKIP');
  });

  it('fails an untrusted certificate', async () => {
    const { lines } = await discoveryLines(
      fakeFetch({ [DISCOVERY]: recorded<HttpResult>('http-tls-error.json') }),
    );
    expect(line(lines, 'discovery.fetch')).toMatchObject({
      status: 'FAIL',
      detail: expect.stringMatching(/TLS failed: UNABLE_TO_VERIFY_LEAF_SIGNATURE/),
    });
  });

  it('fails an issuer with a trailing slash, or in another case, and explains the difference', async () => {
    const slash = documents(ISSUER).discovery.replace(`"issuer":"${ISSUER}"`, `"issuer":"${ISSUER}/"`);
    const { lines } = await discoveryLines(fakeFetch({ [DISCOVERY]: ok('', slash) }));
    expect(line(lines, 'discovery.issuer')).toMatchObject({
      status: 'FAIL',
      detail: expect.stringContaining('has a trailing slash'),
    });
    const upper = documents(ISSUER).discovery.replace(
      `"issuer":"${ISSUER}"`,
      '"issuer":"https://OIDC.example.com/c1"',
    );
    const second = await discoveryLines(fakeFetch({ [DISCOVERY]: ok('', upper) }));
    expect(line(second.lines, 'discovery.issuer').detail).toContain('only in letter case');
  });

  it('fails a plain-http jwks_uri and warns about one on another host or path', async () => {
    const withUri = (uri: string) =>
      documents(ISSUER).discovery.replace(`"jwks_uri":"${JWKS}"`, `"jwks_uri":"${uri}"`);
    const http = await discoveryLines(
      fakeFetch({ [DISCOVERY]: ok('', withUri('http://oidc.example.com/c1/openid/v1/jwks')) }),
    );
    expect(line(http.lines, 'discovery.jwks_uri').status).toBe('FAIL');
    expect(http.ctx.jwksUrl).toBeUndefined();
    const host = await discoveryLines(
      fakeFetch({ [DISCOVERY]: ok('', withUri('https://keys.example.net/c1/jwks')) }),
    );
    expect(line(host.lines, 'discovery.jwks_uri')).toMatchObject({
      status: 'WARN',
      detail: expect.stringContaining('not the issuer host'),
    });
    const path = await discoveryLines(fakeFetch({ [DISCOVERY]: ok('', withUri(`${ISSUER}/keys.json`)) }));
    expect(line(path.lines, 'discovery.jwks_uri').status).toBe('WARN');
  });

  it('warns when the discovery document lists an algorithm STS does not accept', async () => {
    const hs = documents(ISSUER).discovery.replace(
      /"id_token_signing_alg_values_supported":\[[^\]]*\]/,
      '"id_token_signing_alg_values_supported":["HS256"]',
    );
    const { lines } = await discoveryLines(fakeFetch({ [DISCOVERY]: ok('', hs) }));
    expect(line(lines, 'discovery.algs').status).toBe('WARN');
  });
});

describe('jwks', () => {
  async function jwksLines(response: Omit<HttpResult, 'url'>) {
    const ctx = context({ issuer: ISSUER }, offlineDeps(fakeFetch({ [JWKS]: response })), {
      issuer: ISSUER,
      jwksUrl: JWKS,
    });
    return { ctx, lines: await checkJwks(ctx) };
  }
  const jwks = () => JSON.parse(documents(ISSUER).jwks) as { keys: Array<Record<string, unknown>> };

  it('passes the published JWKS on every line', async () => {
    const { ctx, lines } = await jwksLines(
      ok('', documents(ISSUER).jwks, { 'cache-control': 'max-age=300' }),
    );
    expect(lines.map((l) => [l.id, l.status])).toEqual([
      ['jwks.fetch', 'PASS'],
      ['jwks.parse', 'PASS'],
      ['jwks.private', 'PASS'],
      ['jwks.count', 'PASS'],
      ['jwks.algs', 'PASS'],
      ['jwks.cache', 'PASS'],
    ]);
    expect(ctx.jwks).toEqual(jwks());
  });

  it('fails a missing JWKS with the STS wording', async () => {
    const { lines } = await jwksLines({ status: 404, headers: {}, body: '' });
    expect(line(lines, 'jwks.fetch')).toMatchObject({
      status: 'FAIL',
      detail: expect.stringContaining("Couldn't retrieve verification key"),
    });
    expect(line(lines, 'jwks.cache').status).toBe('SKIP');
  });

  it('fails a document that is not a JWKS, or has no keys', async () => {
    expect(line((await jwksLines(ok('', '{"keys":{}}'))).lines, 'jwks.parse').status).toBe('FAIL');
    expect(line((await jwksLines(ok('', '{"keys":[]}'))).lines, 'jwks.parse').status).toBe('FAIL');
    expect(line((await jwksLines(ok('', 'not json'))).lines, 'jwks.parse').status).toBe('FAIL');
  });

  it('fails a JWKS that leaks a private member, naming the path', async () => {
    const leaked = jwks();
    (leaked.keys[0] as Record<string, unknown>).d = 'secret';
    const { lines } = await jwksLines(ok('', JSON.stringify(leaked), { 'cache-control': 'max-age=300' }));
    const privateLine = line(lines, 'jwks.private');
    expect(privateLine.status).toBe('FAIL');
    expect(privateLine.detail).toContain('keys[0].d');
    expect(privateLine.detail).not.toContain('secret');
    expect(line(lines, 'jwks.parse').status).toBe('PASS');
  });

  it('fails more than 100 keys of one type', async () => {
    const rsa = jwks().keys[0] as Record<string, unknown>;
    const many = { keys: Array.from({ length: 101 }, (_, i) => ({ ...rsa, kid: `k${i}` })) };
    expect(line((await jwksLines(ok('', JSON.stringify(many)))).lines, 'jwks.count')).toMatchObject({
      status: 'FAIL',
      detail: expect.stringContaining('101 RSA'),
    });
  });

  it('fails a symmetric or encryption key', async () => {
    const bad = jwks();
    bad.keys.push({ kty: 'oct', kid: 'hmac', alg: 'HS256' });
    expect(line((await jwksLines(ok('', JSON.stringify(bad)))).lines, 'jwks.algs')).toMatchObject({
      status: 'FAIL',
      detail: expect.stringContaining('hmac (oct/HS256)'),
    });
  });

  it('warns on a missing Cache-Control or a max-age above an hour', () => {
    expect(checkCacheControl(undefined).status).toBe('WARN');
    expect(checkCacheControl('public').status).toBe('WARN');
    expect(checkCacheControl('public, max-age=86400')).toMatchObject({
      status: 'WARN',
      detail: expect.stringContaining('86400 s'),
    });
    expect(checkCacheControl('public, max-age=3600').status).toBe('PASS');
    expect(checkCacheControl('max-age=300, s-maxage=300').status).toBe('PASS');
    expect(checkCacheControl('max-age=60, s-maxage=86400').status).toBe('WARN');
  });
});
