/**
 * Certificate checks on parsed inputs: does the webhook's caBundle verify its serving certificate,
 * and how long until that certificate expires. Pure (node:crypto X509 parsing only, clock passed in).
 */
import { X509Certificate } from 'node:crypto';

/** Days before expiry that count as "expires soon". */
export const EXPIRY_WARNING_DAYS = 14;

/** Result of checking a serving certificate against a caBundle. */
export interface CertCheck {
  /** The caBundle holds a certificate that issued and signed the serving certificate. */
  verifies: boolean;
  /** ISO time the serving certificate stops being valid. */
  notAfter: string;
  /** Whole days left (negative when expired). */
  daysLeft: number;
  expired: boolean;
  expiresSoon: boolean;
  /** Subject of the serving certificate, for the report. */
  subject: string;
}

/** Splits PEM text into certificates. Throws when none parses. */
export function parsePemCertificates(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  const certs = blocks.map((block) => new X509Certificate(block));
  if (certs.length === 0) throw new Error('no PEM certificate found');
  return certs;
}

/**
 * Checks the first certificate of `servingPem` (intermediates may follow it) against the CAs in
 * `caBundlePem` at time `now`. A caBundle CA verifies it directly, or through one intermediate
 * given in the chain.
 */
export function checkServingCertificate(caBundlePem: string, servingPem: string, now: Date): CertCheck {
  const chain = parsePemCertificates(servingPem);
  const leaf = chain[0] as X509Certificate;
  const cas = parsePemCertificates(caBundlePem);
  const issuedBy = (cert: X509Certificate, issuer: X509Certificate) =>
    cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
  const verifies = cas.some(
    (ca) => issuedBy(leaf, ca) || chain.slice(1).some((mid) => issuedBy(leaf, mid) && issuedBy(mid, ca)),
  );
  const notAfter = new Date(leaf.validTo);
  const msLeft = notAfter.getTime() - now.getTime();
  const daysLeft = Math.floor(msLeft / 86_400_000);
  return {
    verifies,
    notAfter: notAfter.toISOString(),
    daysLeft,
    expired: msLeft <= 0,
    expiresSoon: msLeft > 0 && msLeft < EXPIRY_WARNING_DAYS * 86_400_000,
    subject: leaf.subject.replace(/\n/g, ', '),
  };
}
