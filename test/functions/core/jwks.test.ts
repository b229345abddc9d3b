import { describe, expect, it } from 'vitest';
import { assertNoPrivateMembers, buildJwks, MAX_KEYS_PER_TYPE, PRIVATE_JWK_MEMBERS } from '#core/jwks.ts';
import { freshSpki, OPENSSL_KIDS, recordFor, spkiDer } from './key-fixtures.ts';

const rsa = spkiDer('rsa-2048');
const ec = spkiDer('ec-p256');

describe('buildJwks', () => {
  it('publishes pending, active and retired keys, never deleted or revoked ones', () => {
    const retired = freshSpki('ECC_NIST_P256');
    const deleted = freshSpki('ECC_NIST_P256');
    const revoked = freshSpki('ECC_NIST_P256');
    const jwks = buildJwks([
      recordFor(rsa, 'active', '2026-01-08T00:00:00Z'),
      recordFor(ec, 'pending', '2026-01-14T00:00:00Z', 'ECC_NIST_P256'),
      recordFor(retired, 'retired', '2026-01-01T00:00:00Z', 'ECC_NIST_P256'),
      recordFor(deleted, 'deleted', '2025-12-20T00:00:00Z', 'ECC_NIST_P256'),
      recordFor(revoked, 'retired', '2025-12-25T00:00:00Z', 'ECC_NIST_P256', { revoked: true }),
    ]);
    expect(jwks.keys.map((key) => key.kid)).toEqual([
      OPENSSL_KIDS['rsa-2048'],
      OPENSSL_KIDS['ec-p256'],
      recordFor(retired, 'retired', '').kid,
    ]);
  });

  it('orders active, then pending, then retired by createdAt descending, ties by kid', () => {
    const a = freshSpki('ECC_NIST_P256');
    const b = freshSpki('ECC_NIST_P256');
    const c = freshSpki('ECC_NIST_P256');
    const d = freshSpki('ECC_NIST_P256');
    const records = [
      recordFor(a, 'retired', '2026-01-01T00:00:00Z', 'ECC_NIST_P256'),
      recordFor(b, 'retired', '2026-01-03T00:00:00Z', 'ECC_NIST_P256'),
      recordFor(c, 'retired', '2026-01-03T00:00:00Z', 'ECC_NIST_P256'),
      recordFor(d, 'pending', '2025-01-01T00:00:00Z', 'ECC_NIST_P256'),
      recordFor(rsa, 'active', '2026-01-02T00:00:00Z'),
    ];
    const tie = [records[1]?.kid ?? '', records[2]?.kid ?? ''].sort();
    const expected = [records[4]?.kid, records[3]?.kid, ...tie, records[0]?.kid];
    expect(buildJwks(records).keys.map((key) => key.kid)).toEqual(expected);
    expect(buildJwks([...records].reverse()).keys.map((key) => key.kid)).toEqual(expected);
  });

  it(`caps each key type at ${MAX_KEYS_PER_TYPE} (JWKS_TOO_MANY_KEYS)`, () => {
    const records = Array.from({ length: MAX_KEYS_PER_TYPE }, (_, index) =>
      recordFor(
        freshSpki('ECC_NIST_P256'),
        index === 0 ? 'active' : 'retired',
        '2026-01-01T00:00:00Z',
        'ECC_NIST_P256',
      ),
    );
    expect(buildJwks([...records, recordFor(rsa, 'pending', '2026-01-01T00:00:00Z')]).keys).toHaveLength(101);
    const extra = recordFor(freshSpki('ECC_NIST_P256'), 'retired', '2026-01-01T00:00:00Z', 'ECC_NIST_P256');
    expect(() => buildJwks([...records, extra])).toThrow(
      expect.objectContaining({ code: 'JWKS_TOO_MANY_KEYS' }),
    );
  });

  it('refuses a record whose kid is not the SHA-256 of its SPKI (JWKS_KID_MISMATCH)', () => {
    const record = { ...recordFor(rsa, 'active', '2026-01-01T00:00:00Z'), kid: 'not-the-kid' };
    expect(() => buildJwks([record])).toThrow(expect.objectContaining({ code: 'JWKS_KID_MISMATCH' }));
  });

  it('refuses duplicate kids (JWKS_DUPLICATE_KID)', () => {
    const record = recordFor(rsa, 'active', '2026-01-01T00:00:00Z');
    expect(() => buildJwks([record, { ...record, state: 'retired' }])).toThrow(
      expect.objectContaining({ code: 'JWKS_DUPLICATE_KID' }),
    );
  });

  it('refuses a publicKeySpki that is not base64 (JWKS_KEY_INVALID)', () => {
    const record = { ...recordFor(rsa, 'active', '2026-01-01T00:00:00Z'), publicKeySpki: 'not base64!' };
    expect(() => buildJwks([record])).toThrow(expect.objectContaining({ code: 'JWKS_KEY_INVALID' }));
  });
});

describe('assertNoPrivateMembers', () => {
  it.each([...PRIVATE_JWK_MEMBERS])(
    'throws JWKS_PRIVATE_MEMBER for a "%s" member, naming its path',
    (member) => {
      const jwks = {
        keys: [
          { kty: 'RSA', n: 'x', e: 'AQAB' },
          { kty: 'RSA', [member]: 'secret' },
        ],
      };
      expect(() => assertNoPrivateMembers(jwks)).toThrow(
        expect.objectContaining({ code: 'JWKS_PRIVATE_MEMBER', detail: { path: `keys[1].${member}` } }),
      );
    },
  );

  it('looks at every depth and never puts the value in the message', () => {
    const nested = { keys: [{ kty: 'EC', extra: { inner: [{ d: 'SECRET-VALUE' }] } }] };
    try {
      assertNoPrivateMembers(nested);
      expect.unreachable('should have thrown');
    } catch (error) {
      expect(error).toMatchObject({ code: 'JWKS_PRIVATE_MEMBER' });
      expect(String((error as Error).message)).toContain('keys[0].extra.inner[0].d');
      expect(String((error as Error).message)).not.toContain('SECRET-VALUE');
    }
  });

  it('accepts a public JWKS', () => {
    expect(() =>
      assertNoPrivateMembers(buildJwks([recordFor(rsa, 'active', '2026-01-01T00:00:00Z')])),
    ).not.toThrow();
  });
});
