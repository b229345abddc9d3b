import { createPublicKey, sign, verify } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { derToJoseSignature, joseToDerSignature } from '#core/ecdsa.ts';
import { privateKey } from './key-fixtures.ts';

const hex = (text: string): Uint8Array => new Uint8Array(Buffer.from(text.replace(/\s/g, ''), 'hex'));
const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

// r has its top bit set (DER adds 0x00); s is 31 bytes (DER drops its leading zero byte).
const R_HIGH = `80${'11'.repeat(31)}`;
const S_SHORT = `7f${'22'.repeat(30)}`;
const DER_HIGH_SHORT = `3044 0221 00${R_HIGH} 021f ${S_SHORT}`;

describe('derToJoseSignature (RFC 7518 §3.4: r || s, fixed width)', () => {
  it('strips the sign byte of a high r and left-pads a short s (known answer)', () => {
    expect(toHex(derToJoseSignature(hex(DER_HIGH_SHORT)))).toBe(`${R_HIGH}00${S_SHORT}`);
  });

  it('decodes a one-byte r and s', () => {
    const jose = derToJoseSignature(hex('3006 020101 020102'));
    expect(toHex(jose)).toBe(`${'00'.repeat(31)}01${'00'.repeat(31)}02`);
  });

  it('decodes a P-521 signature whose SEQUENCE needs a long-form length', () => {
    const r = `01${'ab'.repeat(65)}`; // 66 bytes, top bit clear
    const s = 'cd'.repeat(65); // 65 bytes, top bit set: DER adds 0x00
    const der = hex(`3081 88 0242 ${r} 0242 00${s}`);
    expect(toHex(derToJoseSignature(der, 66))).toBe(`${r}00${s}`);
  });

  it.each([
    ['not a SEQUENCE', '3106 020101 020101'],
    ['SEQUENCE length too long', '3007 020101 020101'],
    ['trailing bytes', '3006 020101 020101 00'],
    ['r not an INTEGER', '3006 030101 020101'],
    ['negative r', '3006 020181 020101'],
    ['needless leading zero', '3007 02020001 020101'],
    ['zero r', '3006 020100 020101'],
    ['empty r', '3005 0200 020101'],
    ['r too long', `3025 0221 01${'11'.repeat(32)} 020101`],
    ['truncated', '3006 0201'],
    ['empty input', ''],
  ])('rejects %s with ECDSA_DER_INVALID', (_name, der) => {
    expect(() => derToJoseSignature(hex(der))).toThrow(
      expect.objectContaining({ code: 'ECDSA_DER_INVALID' }),
    );
  });

  it('rejects a component size that is not a JWS curve', () => {
    expect(() => derToJoseSignature(hex('3006 020101 020102'), 31)).toThrow(
      expect.objectContaining({ code: 'ECDSA_COMPONENT_SIZE_INVALID' }),
    );
  });

  it('turns an OpenSSL DER signature into one that verifies as ieee-p1363', () => {
    const key = privateKey('ec-p256');
    const data = Buffer.from('header.claims');
    for (let i = 0; i < 20; i += 1) {
      const der = sign('sha256', data, { key, dsaEncoding: 'der' });
      const jose = derToJoseSignature(new Uint8Array(der));
      expect(jose).toHaveLength(64);
      expect(verify('sha256', data, { key: createPublicKey(key), dsaEncoding: 'ieee-p1363' }, jose)).toBe(
        true,
      );
    }
  });
});

describe('joseToDerSignature', () => {
  it('is the inverse of the known answer', () => {
    expect(toHex(joseToDerSignature(hex(`${R_HIGH}00${S_SHORT}`)))).toBe(DER_HIGH_SHORT.replace(/\s/g, ''));
  });

  it.each([63, 65, 0])('rejects %i bytes with ECDSA_JOSE_INVALID', (length) => {
    expect(() => joseToDerSignature(new Uint8Array(length).fill(1))).toThrow(
      expect.objectContaining({ code: 'ECDSA_JOSE_INVALID' }),
    );
  });

  it('rejects a zero component', () => {
    expect(() => joseToDerSignature(new Uint8Array(64).fill(1, 32))).toThrow(
      expect.objectContaining({ code: 'ECDSA_JOSE_INVALID' }),
    );
  });

  it('round-trips every r || s for P-256, P-384 and P-521 (property)', () => {
    const nonZero = (size: number) =>
      fc.uint8Array({ minLength: size, maxLength: size }).filter((bytes) => bytes.some((byte) => byte !== 0));
    for (const size of [32, 48, 66]) {
      fc.assert(
        fc.property(nonZero(size), nonZero(size), (r, s) => {
          const jose = new Uint8Array([...r, ...s]);
          expect(derToJoseSignature(joseToDerSignature(jose), size)).toEqual(jose);
        }),
        { numRuns: 300 },
      );
    }
  });

  it('produces DER that OpenSSL verifies', () => {
    const key = privateKey('ec-p384');
    const data = Buffer.from('x');
    const jose = sign('sha384', data, { key, dsaEncoding: 'ieee-p1363' });
    const der = joseToDerSignature(new Uint8Array(jose));
    expect(verify('sha384', data, { key: createPublicKey(key), dsaEncoding: 'der' }, der)).toBe(true);
  });
});
