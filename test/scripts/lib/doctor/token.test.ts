import { describe, expect, it } from 'vitest';
import { decodeTokenUnverified } from '#core/verify-token.ts';
import { checkToken } from '#scripts/lib/doctor/checks/token.ts';
import type { CheckResult } from '#scripts/lib/doctor/types.ts';
import { context, documents, EC_KID, fakeFetch, mintToken, NOW, offlineDeps, RSA_KID } from './helpers.ts';

const ISSUER = 'https://oidc.example.com/c1';
const now = Math.floor(NOW.getTime() / 1000);

async function run(token: string, extra: { jwks?: unknown; clientIds?: string[] } = {}) {
  const ctx = context({ issuer: ISSUER }, offlineDeps(fakeFetch({})), {
    issuer: ISSUER,
    token,
    jwks: 'jwks' in extra ? extra.jwks : JSON.parse(documents(ISSUER).jwks),
  });
  try {
    ctx.decoded = decodeTokenUnverified(token);
  } catch {
    // a malformed token: checkToken reports it
  }
  if (extra.clientIds !== undefined) ctx.provider = { arn: 'arn', clientIds: extra.clientIds };
  const lines = await checkToken(ctx);
  return { ctx, status: Object.fromEntries(lines.map((l) => [l.id, l.status])), lines };
}

const byId = (lines: CheckResult[], id: string) => lines.find((l) => l.id === id) as CheckResult;

describe('token checks', () => {
  it('passes every line for a good token (RSA and EC), each with its value', async () => {
    for (const key of ['rsa', 'ec'] as const) {
      const { ctx, status, lines } = await run(await mintToken({ iss: ISSUER, key }));
      expect(
        Object.values(status).every((s) => s === 'PASS'),
        JSON.stringify(lines),
      ).toBe(true);
      expect(byId(lines, 'token.kid').detail).toBe(key === 'rsa' ? RSA_KID : EC_KID);
      expect(byId(lines, 'token.sub').detail).toBe('system:serviceaccount:apps:web');
      expect(ctx.verified?.serviceAccount).toBe('web');
    }
  });

  it('fails token.format for something that is not a JWT', async () => {
    const { status } = await run('not-a-jwt');
    expect(status['token.format']).toBe('FAIL');
    expect(status['token.alg']).toBe('SKIP');
  });

  it('fails token.alg for an HS256 token', async () => {
    const good = await mintToken({ iss: ISSUER });
    const [, claims, sig] = good.split('.');
    const header = Buffer.from(JSON.stringify({ alg: 'HS256', kid: RSA_KID })).toString('base64url');
    const { status, lines } = await run(`${header}.${claims}.${sig}`);
    expect(status['token.format']).toBe('PASS');
    expect(status['token.alg']).toBe('FAIL');
    expect(byId(lines, 'token.alg').detail).toContain('TOKEN_ALG_NOT_ALLOWED');
  });

  it('fails token.kid for an unknown kid, with the STS wording and advice', async () => {
    const { status, lines } = await run(
      await mintToken({ iss: ISSUER, kid: 'unknown-kid-0000000000000000000000000000000' }),
    );
    expect(status['token.alg']).toBe('PASS');
    expect(status['token.kid']).toBe('FAIL');
    const kid = byId(lines, 'token.kid');
    expect(kid.detail).toContain("Couldn't retrieve verification key");
    expect(kid.fix).toMatch(/Publish the signing key before it signs/);
    expect(status['token.signature']).toBe('SKIP');
    expect(status['token.iss']).toBe('SKIP');
  });

  it('fails token.signature for a token signed by another key under a published kid', async () => {
    const forged = await mintToken({ iss: ISSUER, key: 'ec', kid: RSA_KID });
    const { status } = await run(forged);
    expect(status['token.kid']).toBe('PASS');
    expect(status['token.signature']).toBe('FAIL');
    const good = await mintToken({ iss: ISSUER });
    const [h, c, s] = good.split('.');
    const tampered = `${h}.${c}.${(s ?? '').slice(0, -4)}AAAA`;
    expect((await run(tampered)).status['token.signature']).toBe('FAIL');
  });

  it('fails token.iss for a trailing slash, explains it, and still checks the rest', async () => {
    const { status, lines } = await run(await mintToken({ iss: `${ISSUER}/` }));
    const iss = byId(lines, 'token.iss');
    expect(iss.status).toBe('FAIL');
    expect(iss.detail).toContain('has a trailing slash');
    expect(iss.fix).toContain(`exactly "${ISSUER}"`);
    expect(status['token.signature']).toBe('PASS');
  });

  it('fails token.iss for another host and goes on to the claims after it', async () => {
    const { status } = await run(await mintToken({ iss: 'https://other.example.com' }));
    expect(status).toMatchObject({
      'token.iss': 'FAIL',
      'token.aud': 'PASS',
      'token.time': 'PASS',
      'token.sub': 'PASS',
    });
  });

  it('fails token.aud for a wrong audience, naming what IAM accepts', async () => {
    const { status, lines } = await run(
      await mintToken({ iss: ISSUER, aud: ['https://kubernetes.default.svc'] }),
    );
    expect(status['token.iss']).toBe('PASS');
    const aud = byId(lines, 'token.aud');
    expect(aud.status).toBe('FAIL');
    expect(aud.detail).toContain('https://kubernetes.default.svc');
    expect(aud.fix).toContain('sts.amazonaws.com');
    expect(status['token.time']).toBe('PASS');
    expect(status['token.sub']).toBe('PASS');
  });

  it('checks aud against the IAM provider client IDs when they are known', async () => {
    const token = await mintToken({ iss: ISSUER, aud: 'my-app' });
    expect((await run(token, { clientIds: ['my-app'] })).status['token.aud']).toBe('PASS');
    expect((await run(token, { clientIds: ['sts.amazonaws.com'] })).status['token.aud']).toBe('FAIL');
  });

  it('fails token.time for an expired token and for one from the future, allowing 5 minutes of skew', async () => {
    const expired = await run(await mintToken({ iss: ISSUER, iat: now - 7200, exp: now - 301 }));
    expect(expired.status['token.time']).toBe('FAIL');
    expect(byId(expired.lines, 'token.time').detail).toContain('TOKEN_EXPIRED');
    expect(expired.status['token.sub']).toBe('PASS');
    expect(
      (await run(await mintToken({ iss: ISSUER, iat: now - 7200, exp: now - 299 }))).status['token.time'],
    ).toBe('PASS');
    const future = await run(await mintToken({ iss: ISSUER, iat: now + 600 }));
    expect(future.status['token.time']).toBe('FAIL');
  });

  it('fails token.sub for a subject that is not a service account', async () => {
    const { status, lines } = await run(await mintToken({ iss: ISSUER, sub: 'admin@example.com' }));
    expect(status['token.sub']).toBe('FAIL');
    expect(byId(lines, 'token.sub').detail).toContain('TOKEN_SUBJECT_INVALID');
  });

  it('reports several problems of one token on their own lines', async () => {
    const { status } = await run(
      await mintToken({ iss: `${ISSUER}`, aud: 'wrong', sub: 'nobody', iat: now - 7200, exp: now - 3600 }),
    );
    expect(status).toMatchObject({
      'token.iss': 'PASS',
      'token.aud': 'FAIL',
      'token.time': 'FAIL',
      'token.sub': 'FAIL',
    });
  });

  it('checks only the shape when the JWKS could not be read', async () => {
    const { status } = await run(await mintToken({ iss: ISSUER }), { jwks: undefined });
    expect(status).toMatchObject({
      'token.format': 'PASS',
      'token.alg': 'PASS',
      'token.kid': 'SKIP',
      'token.sub': 'SKIP',
    });
  });
});

describe('token checks without a JWKS', () => {
  it('still fails a malformed token on token.format', async () => {
    const { status } = await run('a.b', { jwks: undefined });
    expect(status['token.format']).toBe('FAIL');
    expect(status['token.alg']).toBe('SKIP');
  });
});
