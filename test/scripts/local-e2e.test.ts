/**
 * End to end in local mode: the issuer on a free port, a token minted and verified over HTTP, an
 * independent JOSE implementation (jose's remote JWKS) accepting the published documents, then a
 * full rotation cycle with the machine clock moved forward.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type RunningLocalIssuer, startLocalIssuer } from '#scripts/lib/local-issuer.ts';
import { runCli } from '../support/run-cli.ts';

const DAY = 86_400_000;
let dir: string;
let issuer: RunningLocalIssuer;
let t0: number;

async function mint(at: Date, ttlSeconds = 3600): Promise<string> {
  const result = await runCli(
    'token',
    'mint',
    '--dir',
    dir,
    '--namespace',
    'team-a',
    '--service-account',
    'app',
    '--at',
    at.toISOString(),
    '--ttl',
    String(ttlSeconds),
  );
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return result.stdout.trim();
}

async function verifyAt(token: string, at: Date) {
  const file = join(dir, `token-${Math.random()}.jwt`);
  await writeFile(file, token);
  return runCli('verify', '--issuer', issuer.issuer, '--token', file, '--at', at.toISOString(), '--json');
}

async function status(at: Date) {
  const result = await runCli('status', '--dir', dir, '--at', at.toISOString(), '--json');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as { keys: Array<{ kid: string; state: string }> };
}

/**
 * A real rotation at `at`: the machine clock moves there (only `Date` is faked), because
 * `rotate --at` is a drill that writes nothing and a keyset never records times after the clock.
 */
async function rotate(at: Date) {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(at);
  const result = await runCli('rotate', '--dir', dir, '--json');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as { steps: Array<{ action: { type: string } }> };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'irsa-e2e-'));
  issuer = await startLocalIssuer({ dir, host: '127.0.0.1', port: 0 });
  t0 = Date.now();
});
afterAll(async () => {
  vi.useRealTimers();
  await issuer?.close();
});

describe('local issuer end to end', () => {
  it('serves discovery and a JWKS that an independent JOSE implementation accepts', async () => {
    const discovery = (await (
      await fetch(`${issuer.issuer}/.well-known/openid-configuration`)
    ).json()) as Record<string, unknown>;
    expect(discovery).toMatchObject({
      issuer: issuer.issuer,
      jwks_uri: `${issuer.issuer}/openid/v1/jwks`,
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
    });
    const token = await mint(new Date());
    const jwks = createRemoteJWKSet(new URL(String(discovery.jwks_uri)));
    const { payload, protectedHeader } = await jwtVerify(token, jwks, {
      issuer: issuer.issuer,
      audience: 'sts.amazonaws.com',
    });
    expect(payload.sub).toBe('system:serviceaccount:team-a:app');
    expect(protectedHeader.typ).toBe('JWT');
  });

  it('publishes every key with kid = base64url(SHA-256(DER SPKI))', async () => {
    const jwks = (await (await fetch(`${issuer.issuer}/openid/v1/jwks`)).json()) as {
      keys: Array<Record<string, string>>;
    };
    expect(jwks.keys.length).toBeGreaterThan(0);
    const { createPublicKey } = await import('node:crypto');
    for (const jwk of jwks.keys) {
      const der = createPublicKey({ key: jwk, format: 'jwk' }).export({ format: 'der', type: 'spki' });
      expect(jwk.kid).toBe(createHash('sha256').update(der).digest('base64url'));
      expect(Object.keys(jwk).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
    }
  });

  it('verifies a minted token with `irsa-anywhere verify`, and rejects a wrong audience', async () => {
    const token = await mint(new Date());
    const ok = await verifyAt(token, new Date());
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ accepted: true, sub: 'system:serviceaccount:team-a:app' });
    const file = join(dir, 'token.jwt');
    await writeFile(file, token);
    const wrongAud = await runCli(
      'verify',
      '--issuer',
      issuer.issuer,
      '--token',
      file,
      '--audience',
      'other',
    );
    expect(wrongAud.code).not.toBe(0);
    expect(wrongAud.stderr).toMatch(/TOKEN_AUDIENCE_MISMATCH/);
  });

  it('rotates through a full cycle: the retired key verifies until retention ends, and fails after', async () => {
    const [first] = (await status(new Date(t0))).keys;
    expect(first?.state).toBe('active');
    // Day 6 + 1 h: the active key is due for rotation; a pending key is published beside it.
    expect((await rotate(new Date(t0 + 6 * DAY + 3_600_000))).steps.map((s) => s.action.type)).toContain(
      'create-pending',
    );
    const tokenFromOldKey = await mint(new Date(t0 + 7 * DAY), 86_400);
    // Day 7 + 2 h: the pending key has been published for 24 h, so it is promoted.
    expect((await rotate(new Date(t0 + 7 * DAY + 7_200_000))).steps.map((s) => s.action.type)).toContain(
      'promote',
    );
    const after = await status(new Date(t0 + 7 * DAY + 7_200_000));
    expect(after.keys.find((k) => k.kid === first?.kid)?.state).toBe('retired');
    const tokenFromNewKey = await mint(new Date(t0 + 7 * DAY + 7_300_000), 86_400);
    // Both tokens verify while the old key is retained.
    expect((await verifyAt(tokenFromOldKey, new Date(t0 + 7 * DAY + 8_000_000))).code).toBe(0);
    expect((await verifyAt(tokenFromNewKey, new Date(t0 + 7 * DAY + 8_000_000))).code).toBe(0);
    // Retention (1 day of token lifetime + skew + cache + node lag) ends: the old key leaves the JWKS.
    expect((await rotate(new Date(t0 + 9 * DAY))).steps.map((s) => s.action.type)).toEqual(
      expect.arrayContaining(['delete', 'publish', 'destroy']),
    );
    const rejected = await verifyAt(tokenFromOldKey, new Date(t0 + 9 * DAY));
    expect(rejected.code).not.toBe(0);
    expect(JSON.parse(rejected.stdout)).toMatchObject({ accepted: false, code: 'TOKEN_KID_UNKNOWN' });
    expect((await status(new Date(t0 + 9 * DAY))).keys.map((k) => k.kid)).not.toContain(first?.kid);
  });
});
