/**
 * PEM text for the files kube-apiserver reads: the signing key (PKCS#8) and the verification bundle
 * (one `PUBLIC KEY` block per key that can still have signed a valid token).
 */
import { createHash } from 'node:crypto';
import type { Keyset } from '#core/keyset.ts';

function pem(label: string, der: Uint8Array): string {
  const body = Buffer.from(der)
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}

/** PKCS#8 DER → `PRIVATE KEY` PEM. */
export function privateKeyPem(pkcs8: Uint8Array): string {
  return pem('PRIVATE KEY', pkcs8);
}

/** The verification bundle: every key not deleted (pending, active, retired), in keyset order. */
export function verificationBundle(keyset: Keyset): { pem: string; kids: string[]; digest: string } {
  const keys = keyset.keys.filter((key) => key.state !== 'deleted');
  const text = keys
    .map(
      (key) =>
        `# kid ${key.kid} (${key.state})\n${pem('PUBLIC KEY', Buffer.from(key.publicKeySpki, 'base64'))}`,
    )
    .join('');
  return {
    pem: text,
    kids: keys.map((key) => key.kid),
    digest: createHash('sha256').update(text).digest('hex').slice(0, 16),
  };
}
