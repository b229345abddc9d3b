/** The caBundle / serving certificate checks on the recorded certificates (test/fixtures/audit/certs). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkServingCertificate, parsePemCertificates } from '#scripts/lib/audit/certs.ts';

const pem = (name: string) =>
  readFileSync(new URL(`../../../fixtures/audit/certs/${name}`, import.meta.url), 'utf8');
const NOW = new Date('2026-12-15T00:00:00Z');

describe('serving certificate checks', () => {
  it('a certificate issued by the caBundle CA verifies and is not expiring', () => {
    expect(checkServingCertificate(pem('webhook-ca.pem'), pem('serving.pem'), NOW)).toMatchObject({
      verifies: true,
      expired: false,
      expiresSoon: false,
    });
  });

  it('a certificate issued by another CA does not verify, even with that CA also in the bundle order reversed', () => {
    expect(checkServingCertificate(pem('webhook-ca.pem'), pem('serving-other-ca.pem'), NOW).verifies).toBe(
      false,
    );
    const both = pem('other-ca.pem') + pem('webhook-ca.pem');
    expect(checkServingCertificate(both, pem('serving-other-ca.pem'), NOW).verifies).toBe(true);
  });

  it('a self-signed serving certificate verifies when the caBundle is itself (cert-manager selfSigned issuer)', () => {
    expect(checkServingCertificate(pem('webhook-ca.pem'), pem('webhook-ca.pem'), NOW).verifies).toBe(true);
  });

  it('expiry: under 14 days is "soon", past notAfter is expired', () => {
    const cert = pem('serving-expiring.pem');
    expect(checkServingCertificate(pem('webhook-ca.pem'), cert, NOW)).toMatchObject({
      expiresSoon: true,
      expired: false,
      daysLeft: 11,
    });
    expect(
      checkServingCertificate(pem('webhook-ca.pem'), cert, new Date('2026-12-01T00:00:00Z')).expiresSoon,
    ).toBe(false);
    expect(
      checkServingCertificate(pem('webhook-ca.pem'), cert, new Date('2027-01-01T00:00:00Z')),
    ).toMatchObject({
      expired: true,
      expiresSoon: false,
    });
  });

  it('refuses text without a certificate', () => {
    expect(() => parsePemCertificates('not a pem')).toThrow('no PEM certificate');
  });
});
