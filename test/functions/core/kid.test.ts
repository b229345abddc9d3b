import { createHash, createPublicKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { kidFromSpki } from '#core/kid.ts';
import { OPENSSL_KIDS, privateKey, spkiDer } from './key-fixtures.ts';

describe('kidFromSpki (kube-apiserver keyIDFromPublicKey: base64url(SHA-256(DER SPKI)))', () => {
  it.each(['rsa-2048', 'ec-p256', 'ec-p384', 'ec-p521'] as const)(
    'matches the value openssl computes for %s',
    (name) => {
      expect(kidFromSpki(spkiDer(name))).toBe(OPENSSL_KIDS[name]);
    },
  );

  it('is the same when the SPKI is derived from the private key', () => {
    const spki = createPublicKey(privateKey('ec-p256')).export({ format: 'der', type: 'spki' });
    expect(kidFromSpki(new Uint8Array(spki))).toBe(OPENSSL_KIDS['ec-p256']);
  });

  it('has no padding and uses the url-safe alphabet (43 characters)', () => {
    expect(kidFromSpki(spkiDer('rsa-2048'))).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('is not the RFC 7638 thumbprint', () => {
    const jwk = privateKey('rsa-2048').export({ format: 'jwk' });
    const thumbprint = createHash('sha256')
      .update(JSON.stringify({ e: jwk.e, kty: 'RSA', n: jwk.n }))
      .digest('base64url');
    expect(kidFromSpki(spkiDer('rsa-2048'))).not.toBe(thumbprint);
  });

  it('rejects empty input with KEY_SPKI_INVALID', () => {
    expect(() => kidFromSpki(new Uint8Array())).toThrow(
      expect.objectContaining({ code: 'KEY_SPKI_INVALID' }),
    );
  });
});
