/**
 * The signer end to end over a real Unix socket with a real gRPC client, in both proto packages
 * (`v1` for k8s >= 1.34, `v1alpha1` for 1.32-1.33), on the local backend.
 */
import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildJwks } from '#core/jwks.ts';
import type { KeySpec } from '#core/keyset.ts';
import { kidFromSpki } from '#core/kid.ts';
import { verifyTokenWithJwks } from '#core/verify-token.ts';
import { connectSigner } from '#scripts/lib/signer/client.ts';
import { memoryLog } from '#scripts/lib/signer/log.ts';
import { SIGNER_PACKAGES } from '#scripts/lib/signer/proto.ts';
import { startTempLocalSigner, type TempSigner } from '#scripts/lib/signer/temp-signer.ts';
import { claimsSegment, grpcCode, verifiesWith } from './helpers.ts';

const INVALID_ARGUMENT = 3;
const ISSUER = 'http://127.0.0.1:1/issuer';

describe.each<[KeySpec, 'RS256' | 'ES256']>([
  ['RSA_2048', 'RS256'],
  ['ECC_NIST_P256', 'ES256'],
])('signer with a %s key', (keySpec, alg) => {
  let signer: TempSigner;
  const log = memoryLog();

  beforeAll(async () => {
    signer = await startTempLocalSigner({ keySpec, log });
  });
  afterAll(async () => {
    await signer?.close();
  });

  it('creates the socket 0600 in a 0700 directory', async () => {
    const socket = await stat(signer.socketPath);
    expect(socket.isSocket()).toBe(true);
    expect(socket.mode & 0o777).toBe(0o600);
    expect((await stat(dirname(signer.socketPath))).mode & 0o777).toBe(0o700);
  });

  describe.each(SIGNER_PACKAGES)('package %s', (pkg) => {
    it('Metadata reports the max token expiration (86400 by default)', async () => {
      const client = connectSigner(signer.target, pkg);
      try {
        expect(await client.metadata()).toEqual({ max_token_expiration_seconds: 86_400 });
      } finally {
        client.close();
      }
    });

    it('FetchKeys returns the active key as PKIX DER under its kid, with the refresh hint and read time', async () => {
      const before = Math.floor(signer.signer.cache.snapshot?.readAt.getTime() ?? 0) / 1000;
      const client = connectSigner(signer.target, pkg);
      try {
        const fetched = await client.fetchKeys();
        expect(fetched.keys).toHaveLength(1);
        const key = fetched.keys[0];
        expect(key?.key_id).toBe(signer.activeKey.kid);
        expect(kidFromSpki(key?.key ?? new Uint8Array())).toBe(signer.activeKey.kid);
        expect(Buffer.from(key?.key ?? []).toString('base64')).toBe(signer.activeKey.publicKeySpki);
        expect(key?.exclude_from_oidc_discovery).toBe(false);
        expect(fetched.refresh_hint_seconds).toBe(60);
        expect(fetched.data_timestamp?.seconds).toBe(Math.floor(before));
      } finally {
        client.close();
      }
    });

    it('Sign returns a header {alg, kid, typ} and a signature that verify against FetchKeys and the published JWKS', async () => {
      const client = connectSigner(signer.target, pkg);
      try {
        const claims = claimsSegment({ iss: ISSUER });
        const { header, signature } = await client.sign(claims);
        expect(JSON.parse(Buffer.from(header, 'base64url').toString())).toStrictEqual({
          alg,
          kid: signer.activeKey.kid,
          typ: 'JWT',
        });
        const jwt = `${header}.${claims}.${signature}`;
        const { keys } = await client.fetchKeys();
        const listed = keys.find((k) => k.key_id === signer.activeKey.kid);
        expect(listed).toBeDefined();
        expect(verifiesWith(jwt, listed?.key ?? new Uint8Array(), alg)).toBe(true);
        const jwks = buildJwks([signer.activeKey]);
        expect(jwks.keys.map((k) => k.kid)).toContain(signer.activeKey.kid);
        const verified = await verifyTokenWithJwks(jwt, {
          issuer: ISSUER,
          audiences: ['sts.amazonaws.com'],
          now: new Date(),
          jwks,
        });
        expect(verified.header.kid).toBe(signer.activeKey.kid);
        expect(verified.serviceAccount).toBe('app');
        if (alg === 'ES256') expect(Buffer.from(signature, 'base64url')).toHaveLength(64);
        else expect(Buffer.from(signature, 'base64url')).toHaveLength(256);
      } finally {
        client.close();
      }
    });

    it.each([
      ['empty', ''],
      ['padding', `${claimsSegment()}=`],
      ['standard base64 characters', Buffer.from('{"sub":"a?>"}').toString('base64')],
      ['not JSON', Buffer.from('not json').toString('base64url')],
      ['a JSON array', Buffer.from('[1,2]').toString('base64url')],
      ['a JSON string', Buffer.from('"x"').toString('base64url')],
      ['an impossible length', 'abcde'],
      ['a whole JWT', `e30.${claimsSegment()}`],
    ])('Sign rejects claims that are %s with INVALID_ARGUMENT', async (_name, claims) => {
      const client = connectSigner(signer.target, pkg);
      try {
        expect(await grpcCode(client.sign(claims))).toBe(INVALID_ARGUMENT);
      } finally {
        client.close();
      }
    });
  });

  it('logs every failed call as one JSON event without the claims', () => {
    const failures = log.events.filter((e) => e.msg === 'Sign failed');
    expect(failures.length).toBeGreaterThanOrEqual(16);
    expect(failures.every((e) => e.fields.code === 'SIGN_CLAIMS_INVALID' && e.fields.grpcStatus === 3)).toBe(
      true,
    );
    const text = JSON.stringify(log.events);
    expect(text).not.toContain(Buffer.from('not json').toString('base64url'));
  });
});
