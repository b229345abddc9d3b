/**
 * ECDSA signature encodings. KMS `Sign` and OpenSSL return DER (`SEQUENCE { INTEGER r, INTEGER s }`);
 * JWS (RFC 7518 §3.4) wants `r || s`, each left-padded to the curve's size (32 bytes for P-256,
 * 48 for P-384, 66 for P-521). DER integers are minimal and signed, so a component may be shorter
 * than the curve size or carry a leading 0x00 when its top bit is set.
 */
import { IrsaError } from './errors.ts';

/** Component sizes of the curves JWS uses: P-256, P-384, P-521. */
const COMPONENT_SIZES: ReadonlySet<number> = new Set([32, 48, 66]);

function derInvalid(problem: string): IrsaError {
  return new IrsaError(
    'ECDSA_DER_INVALID',
    `The ECDSA signature is not valid DER: ${problem}.`,
    'Check that the signer returned an ECDSA DER signature (KMS ECDSA_SHA_256 with a P-256 key) and pass it unchanged.',
  );
}

function joseInvalid(problem: string): IrsaError {
  return new IrsaError(
    'ECDSA_JOSE_INVALID',
    `The ECDSA signature is not a JOSE r||s value: ${problem}.`,
    'Pass the raw r||s signature: 64 bytes for ES256, 96 for ES384, 132 for ES512.',
  );
}

/** Reads a DER length at `offset`; returns the length and the offset of the content. */
function readLength(der: Uint8Array, offset: number): { length: number; next: number } {
  const first = der[offset];
  if (first === undefined) throw derInvalid('it ends inside a length');
  if (first < 0x80) return { length: first, next: offset + 1 };
  if (first !== 0x81) throw derInvalid('a length uses an unsupported long form');
  const length = der[offset + 1];
  if (length === undefined) throw derInvalid('it ends inside a length');
  if (length < 0x80) throw derInvalid('a length is not minimally encoded');
  return { length, next: offset + 2 };
}

function readInteger(
  der: Uint8Array,
  offset: number,
  size: number,
  name: string,
): { value: Uint8Array; next: number } {
  if (der[offset] !== 0x02) throw derInvalid(`${name} is not an INTEGER`);
  const { length, next } = readLength(der, offset + 1);
  if (length === 0) throw derInvalid(`${name} is empty`);
  const end = next + length;
  if (end > der.length) throw derInvalid(`${name} runs past the end`);
  let bytes = der.subarray(next, end);
  const lead = bytes[0] ?? 0;
  if (lead & 0x80) throw derInvalid(`${name} is negative`);
  if (lead === 0 && bytes.length > 1) {
    if (((bytes[1] ?? 0) & 0x80) === 0) throw derInvalid(`${name} has a needless leading zero`);
    bytes = bytes.subarray(1);
  }
  if (bytes.every((byte) => byte === 0)) throw derInvalid(`${name} is zero`);
  if (bytes.length > size) throw derInvalid(`${name} is longer than ${size} bytes`);
  const value = new Uint8Array(size);
  value.set(bytes, size - bytes.length);
  return { value, next: end };
}

/**
 * Converts a DER ECDSA signature to the JOSE `r || s` form with components of `componentBytes`
 * (32 for ES256, the default; 48 for ES384; 66 for ES512). Throws `ECDSA_DER_INVALID` on anything
 * that is not exactly one minimal DER SEQUENCE of two positive INTEGERs that fit.
 */
export function derToJoseSignature(der: Uint8Array, componentBytes = 32): Uint8Array {
  if (!COMPONENT_SIZES.has(componentBytes)) {
    throw new IrsaError(
      'ECDSA_COMPONENT_SIZE_INVALID',
      `ECDSA component size ${componentBytes} is not 32, 48 or 66 bytes.`,
      'Use 32 for ES256 (P-256), 48 for ES384 (P-384) or 66 for ES512 (P-521).',
    );
  }
  if (!(der instanceof Uint8Array) || der[0] !== 0x30) throw derInvalid('it does not start with a SEQUENCE');
  const { length, next } = readLength(der, 1);
  if (next + length !== der.length) throw derInvalid('the SEQUENCE length does not match the data');
  const r = readInteger(der, next, componentBytes, 'r');
  const s = readInteger(der, r.next, componentBytes, 's');
  if (s.next !== der.length) throw derInvalid('there are bytes after s');
  const jose = new Uint8Array(componentBytes * 2);
  jose.set(r.value, 0);
  jose.set(s.value, componentBytes);
  return jose;
}

function encodeInteger(component: Uint8Array): Uint8Array {
  let start = 0;
  while (start < component.length - 1 && component[start] === 0) start += 1;
  const trimmed = component.subarray(start);
  const pad = ((trimmed[0] ?? 0) & 0x80) !== 0 ? 1 : 0;
  const out = new Uint8Array(2 + pad + trimmed.length);
  out[0] = 0x02;
  out[1] = pad + trimmed.length;
  out.set(trimmed, 2 + pad);
  return out;
}

/**
 * Converts a JOSE `r || s` ECDSA signature (64, 96 or 132 bytes) to minimal DER, as OpenSSL and
 * KMS `Verify` expect. Throws `ECDSA_JOSE_INVALID` for other lengths or a zero component.
 */
export function joseToDerSignature(jose: Uint8Array): Uint8Array {
  if (!(jose instanceof Uint8Array) || !COMPONENT_SIZES.has(jose.length / 2)) {
    throw joseInvalid(`it is ${jose?.length ?? 0} bytes long`);
  }
  const size = jose.length / 2;
  const r = jose.subarray(0, size);
  const s = jose.subarray(size);
  if (r.every((byte) => byte === 0) || s.every((byte) => byte === 0)) throw joseInvalid('r or s is zero');
  const body = [encodeInteger(r), encodeInteger(s)];
  const bodyLength = body[0]!.length + body[1]!.length;
  const header = bodyLength < 0x80 ? [0x30, bodyLength] : [0x30, 0x81, bodyLength];
  const der = new Uint8Array(header.length + bodyLength);
  der.set(header, 0);
  der.set(body[0]!, header.length);
  der.set(body[1]!, header.length + body[0]!.length);
  return der;
}
