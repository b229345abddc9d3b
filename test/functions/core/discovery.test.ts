import { createLocalJWKSet, jwtVerify, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { buildDiscovery, buildPublicDocuments, jwksUriFor } from '#core/discovery.ts';
import { buildJwks } from '#core/jwks.ts';
import { OPENSSL_KIDS, privateKey, recordFor, spkiDer } from './key-fixtures.ts';

const ISSUER = 'https://oidc.example.com/team-a';
const rsa = recordFor(spkiDer('rsa-2048'), 'active', '2026-01-02T00:00:00Z');
const ec = recordFor(spkiDer('ec-p256'), 'pending', '2026-01-03T00:00:00Z', 'ECC_NIST_P256');

describe('buildDiscovery (as kube-apiserver serves /.well-known/openid-configuration)', () => {
  it('has exactly the kube-apiserver fields, jwks_uri = issuer + /openid/v1/jwks', () => {
    expect(buildDiscovery(ISSUER, buildJwks([ec, rsa]))).toEqual({
      issuer: ISSUER,
      jwks_uri: 'https://oidc.example.com/team-a/openid/v1/jwks',
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['ES256', 'RS256'],
    });
    expect(jwksUriFor('https://h')).toBe('https://h/openid/v1/jwks');
  });

  it('lists each algorithm once', () => {
    expect(buildDiscovery(ISSUER, buildJwks([rsa])).id_token_signing_alg_values_supported).toEqual(['RS256']);
  });

  it('rejects a bad issuer', () => {
    expect(() => buildDiscovery(`${ISSUER}/`, buildJwks([rsa]))).toThrow(
      expect.objectContaining({ code: 'ISSUER_TRAILING_SLASH' }),
    );
  });
});

describe('buildPublicDocuments', () => {
  it('produces the exact bytes, identical for the same keys in any order', () => {
    const docs = buildPublicDocuments(ISSUER, [ec, rsa]);
    expect(buildPublicDocuments(ISSUER, [rsa, ec])).toEqual(docs);
    expect(docs.discovery).toBe(
      '{"issuer":"https://oidc.example.com/team-a","jwks_uri":"https://oidc.example.com/team-a/openid/v1/jwks",' +
        '"response_types_supported":["id_token"],"subject_types_supported":["public"],' +
        '"id_token_signing_alg_values_supported":["ES256","RS256"]}',
    );
    const jwks = JSON.parse(docs.jwks) as { keys: Array<Record<string, string>> };
    expect(jwks.keys.map((key) => key.kid)).toEqual([OPENSSL_KIDS['rsa-2048'], OPENSSL_KIDS['ec-p256']]);
    expect(
      docs.jwks.startsWith(
        `{"keys":[{"kty":"RSA","use":"sig","kid":"${OPENSSL_KIDS['rsa-2048']}","alg":"RS256","n":"`,
      ),
    ).toBe(true);
  });

  it('allows loopback http for local mode', () => {
    const docs = buildPublicDocuments('http://127.0.0.1:8900', [rsa]);
    expect(JSON.parse(docs.discovery)).toMatchObject({ jwks_uri: 'http://127.0.0.1:8900/openid/v1/jwks' });
  });

  it('refuses an empty JWKS (JWKS_EMPTY)', () => {
    expect(() => buildPublicDocuments(ISSUER, [])).toThrow(expect.objectContaining({ code: 'JWKS_EMPTY' }));
    expect(() => buildPublicDocuments(ISSUER, [{ ...rsa, state: 'deleted' }])).toThrow(
      expect.objectContaining({ code: 'JWKS_EMPTY' }),
    );
  });

  it('refuses a JWKS without the active key (JWKS_NO_ACTIVE_KEY)', () => {
    expect(() => buildPublicDocuments(ISSUER, [ec])).toThrow(
      expect.objectContaining({ code: 'JWKS_NO_ACTIVE_KEY' }),
    );
    expect(() => buildPublicDocuments(ISSUER, [ec, { ...rsa, revoked: true }])).toThrow(
      expect.objectContaining({ code: 'JWKS_NO_ACTIVE_KEY' }),
    );
  });

  it('refuses two active keys (JWKS_MULTIPLE_ACTIVE_KEYS)', () => {
    expect(() => buildPublicDocuments(ISSUER, [rsa, { ...ec, state: 'active' }])).toThrow(
      expect.objectContaining({ code: 'JWKS_MULTIPLE_ACTIVE_KEYS' }),
    );
  });

  it('publishes a JWKS that jose (an independent implementation) uses to verify RS256 and ES256 tokens', async () => {
    const keySet = createLocalJWKSet(JSON.parse(buildPublicDocuments(ISSUER, [ec, rsa]).jwks));
    for (const [alg, kid, name] of [
      ['RS256', OPENSSL_KIDS['rsa-2048'], 'rsa-2048'],
      ['ES256', OPENSSL_KIDS['ec-p256'], 'ec-p256'],
    ] as const) {
      const token = await new SignJWT({ sub: 'system:serviceaccount:a:b' })
        .setProtectedHeader({ alg, kid })
        .setIssuer(ISSUER)
        .sign(privateKey(name));
      const { protectedHeader } = await jwtVerify(token, keySet, { issuer: ISSUER });
      expect(protectedHeader.kid).toBe(kid);
    }
  });
});
