/**
 * Decodes a compact JWT without verifying it: the STS length limits (4–20,000 characters), three
 * segments, strict canonical base64url, and a UTF-8 JSON object for the header and the claims.
 * Failures are `TOKEN_TOO_LONG` or `TOKEN_MALFORMED` (see docs/core-formats.md).
 */
import { IrsaError } from './errors.ts';

/** STS limits on the web identity token. */
export const MIN_TOKEN_LENGTH = 4;
export const MAX_TOKEN_LENGTH = 20_000;

/** Decoded, unverified parts of a compact JWS. */
export interface DecodedToken {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
}

/** The `TOKEN_MALFORMED` error, with `problem` saying what is wrong with the token's shape. */
export function malformedToken(problem: string): IrsaError {
  return new IrsaError(
    'TOKEN_MALFORMED',
    `The token is not a valid compact JWT: ${problem}.`,
    'Pass the token file content unchanged (three base64url segments separated by dots, no quotes or line breaks).',
  );
}

function decodeSegment(segment: string, name: string): Uint8Array {
  if (segment.length === 0) throw malformedToken(`the ${name} segment is empty`);
  if (!/^[A-Za-z0-9_-]+$/.test(segment)) throw malformedToken(`the ${name} segment is not base64url`);
  const bytes = Buffer.from(segment, 'base64url');
  if (bytes.toString('base64url') !== segment)
    throw malformedToken(`the ${name} segment is not canonical base64url`);
  return new Uint8Array(bytes);
}

/** One strict decoder for every call: building a TextDecoder costs about as much as decoding. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

function decodeJsonObject(segment: string, name: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(UTF8.decode(decodeSegment(segment, name)));
  } catch (error) {
    if (error instanceof IrsaError) throw error;
    throw malformedToken(`the ${name} is not UTF-8 JSON`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw malformedToken(`the ${name} is not a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

/**
 * Splits and decodes a compact JWT without verifying anything but its shape. Throws
 * `TOKEN_TOO_LONG` or `TOKEN_MALFORMED` (length under 4, not three segments, bad base64url, not JSON).
 */
export function decodeTokenUnverified(token: string): DecodedToken {
  if (typeof token !== 'string') throw malformedToken('it is not a string');
  if (token.length > MAX_TOKEN_LENGTH) {
    throw new IrsaError(
      'TOKEN_TOO_LONG',
      `The token is ${token.length} characters; STS accepts at most ${MAX_TOKEN_LENGTH}.`,
      'Pass only the token (not a file of several), and keep custom claims small.',
    );
  }
  if (token.length < MIN_TOKEN_LENGTH)
    throw malformedToken(`it is ${token.length} characters long, STS needs at least 4`);
  const segments = token.split('.');
  if (segments.length !== 3) throw malformedToken(`it has ${segments.length} segment(s) instead of 3`);
  const [header = '', claims = '', signature = ''] = segments;
  const decoded = { header: decodeJsonObject(header, 'header'), claims: decodeJsonObject(claims, 'claims') };
  // An empty signature is left to the alg and signature checks, which explain it better.
  if (signature !== '') decodeSegment(signature, 'signature');
  return decoded;
}
