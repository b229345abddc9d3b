import { describe, expect, it } from 'vitest';
import { publicJwkFromSpki } from '#core/jwk.ts';
import { OPENSSL_KIDS, privateKey, spkiDer } from './key-fixtures.ts';

describe('publicJwkFromSpki', () => {
  it('builds an RSA JWK with kty, n, e, kid, alg RS256 and use sig, and nothing private', () => {
    const jwk = publicJwkFromSpki(spkiDer('rsa-2048'));
    const expected = privateKey('rsa-2048').export({ format: 'jwk' });
    expect(jwk).toEqual({
      kty: 'RSA',
      use: 'sig',
      kid: OPENSSL_KIDS['rsa-2048'],
      alg: 'RS256',
      n: expected.n,
      e: 'AQAB',
    });
    expect(Object.keys(jwk)).toEqual(['kty', 'use', 'kid', 'alg', 'n', 'e']);
  });

  it('builds an EC P-256 JWK with kty, crv, x, y and alg ES256', () => {
    const jwk = publicJwkFromSpki(spkiDer('ec-p256'));
    const expected = privateKey('ec-p256').export({ format: 'jwk' });
    expect(jwk).toEqual({
      kty: 'EC',
      use: 'sig',
      kid: OPENSSL_KIDS['ec-p256'],
      alg: 'ES256',
      crv: 'P-256',
      x: expected.x,
      y: expected.y,
    });
    expect(jwk.x).toHaveLength(43);
  });

  it('infers ES384 and ES512 from the curve', () => {
    expect(publicJwkFromSpki(spkiDer('ec-p384')).alg).toBe('ES384');
    expect(publicJwkFromSpki(spkiDer('ec-p521')).alg).toBe('ES512');
  });

  it('accepts RS384 and RS512 for an RSA key', () => {
    expect(publicJwkFromSpki(spkiDer('rsa-2048'), 'RS512').alg).toBe('RS512');
  });

  it('rejects an algorithm that does not fit the key (KEY_ALG_MISMATCH)', () => {
    expect(() => publicJwkFromSpki(spkiDer('rsa-2048'), 'ES256')).toThrow(
      expect.objectContaining({ code: 'KEY_ALG_MISMATCH' }),
    );
    expect(() => publicJwkFromSpki(spkiDer('ec-p384'), 'ES256')).toThrow(
      expect.objectContaining({ code: 'KEY_ALG_MISMATCH' }),
    );
  });

  it('rejects RSA keys under 2048 bits (KEY_UNSUPPORTED)', () => {
    expect(() => publicJwkFromSpki(spkiDer('rsa-1024-too-small'))).toThrow(
      expect.objectContaining({ code: 'KEY_UNSUPPORTED' }),
    );
  });

  it('rejects bytes that are not an SPKI (KEY_SPKI_INVALID)', () => {
    expect(() => publicJwkFromSpki(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]))).toThrow(
      expect.objectContaining({ code: 'KEY_SPKI_INVALID' }),
    );
  });
});
