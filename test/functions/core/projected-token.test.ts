import { generateKeyPairSync, sign } from 'node:crypto';
import { base64url, compactVerify, decodeJwt, decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';
import {
  assertServiceAccountName,
  buildProjectedTokenClaims,
  encodeJsonSegment,
  signCompactJwt,
} from '#core/projected-token.ts';

const NOW = new Date('2026-03-01T12:00:00Z');
const input = {
  issuer: 'https://oidc.example.com/c1',
  audiences: ['sts.amazonaws.com'],
  namespace: 'team-a',
  serviceAccount: 'app',
  serviceAccountUid: 'sa-uid',
  pod: { name: 'app-1', uid: 'pod-uid' },
  now: NOW,
  ttlSeconds: 3600,
  jti: 'jti-1',
};

describe('buildProjectedTokenClaims (the claims kube-apiserver puts in a projected token)', () => {
  it('sets iss, sub, aud as an array, iat/nbf/exp in seconds, jti and kubernetes.io', () => {
    expect(buildProjectedTokenClaims(input)).toEqual({
      aud: ['sts.amazonaws.com'],
      exp: 1772366400 + 3600,
      iat: 1772366400,
      iss: 'https://oidc.example.com/c1',
      jti: 'jti-1',
      'kubernetes.io': {
        namespace: 'team-a',
        serviceaccount: { name: 'app', uid: 'sa-uid' },
        pod: { name: 'app-1', uid: 'pod-uid' },
      },
      nbf: 1772366400,
      sub: 'system:serviceaccount:team-a:app',
    });
  });

  it('refuses names Kubernetes would refuse, and an empty audience list', () => {
    expect(() => assertServiceAccountName('Team_A', 'app')).toThrow(
      expect.objectContaining({ code: 'NAMESPACE_INVALID' }),
    );
    expect(() => assertServiceAccountName('team-a', 'a:b')).toThrow(
      expect.objectContaining({ code: 'SERVICE_ACCOUNT_INVALID' }),
    );
    expect(() => buildProjectedTokenClaims({ ...input, audiences: [] })).toThrow(
      expect.objectContaining({ code: 'TOKEN_AUDIENCE_MISSING' }),
    );
  });
});

describe('signCompactJwt', () => {
  it('assembles header {alg, kid, typ} . claims . signature that jose verifies', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const claims = encodeJsonSegment(buildProjectedTokenClaims(input));
    const jwt = await signCompactJwt(
      { alg: 'ES256', kid: 'k1' },
      claims,
      async (data) => new Uint8Array(sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' })),
    );
    expect(decodeProtectedHeader(jwt)).toEqual({ alg: 'ES256', kid: 'k1', typ: 'JWT' });
    expect(jwt.split('.')[1]).toBe(claims);
    expect(decodeJwt(jwt).sub).toBe('system:serviceaccount:team-a:app');
    await expect(compactVerify(jwt, publicKey)).resolves.toBeDefined();
    expect(base64url.decode(jwt.split('.')[2] ?? '')).toHaveLength(64);
  });
});
