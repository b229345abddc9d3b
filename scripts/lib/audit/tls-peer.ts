/**
 * Reads the certificate chain a TLS server presents, without trusting it (the point is to check
 * it against the webhook's caBundle ourselves). Used only when the audit runs inside the cluster,
 * where `<service>.<namespace>.svc` resolves.
 */
import { connect, type PeerCertificate } from 'node:tls';
import type { TlsPeerFetch } from './collect.ts';

const pem = (der: Buffer): string =>
  `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n')}-----END CERTIFICATE-----\n`;

/** A {@link TlsPeerFetch} over node:tls with a timeout. */
export function tlsPeerFetch(timeoutMs = 5_000): TlsPeerFetch {
  return (host, port) =>
    new Promise((resolve, reject) => {
      // Not trusting the peer is deliberate: the audit compares it with the caBundle itself.
      const socket = connect({ host, port, servername: host, rejectUnauthorized: false, timeout: timeoutMs });
      socket.once('secureConnect', () => {
        const chain: string[] = [];
        const seen = new Set<string>();
        let cert: PeerCertificate | undefined = socket.getPeerCertificate(true);
        while (cert?.raw !== undefined && !seen.has(cert.fingerprint256)) {
          seen.add(cert.fingerprint256);
          chain.push(pem(cert.raw));
          cert = (cert as PeerCertificate & { issuerCertificate?: PeerCertificate }).issuerCertificate;
        }
        socket.destroy();
        if (chain.length === 0) reject(new Error('no certificate presented'));
        else resolve(chain.join(''));
      });
      socket.once('timeout', () => socket.destroy(new Error(`no TLS answer within ${timeoutMs} ms`)));
      socket.once('error', reject);
    });
}
