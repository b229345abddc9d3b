import { describe, expect, it } from 'vitest';
import { IrsaError } from '#core/errors.ts';
import { issuerHostPath, validateIssuerUrl } from '#core/issuer.ts';

function failure(url: string, options?: { allowLoopbackHttp?: boolean }): IrsaError {
  try {
    validateIssuerUrl(url, options);
  } catch (error) {
    if (error instanceof IrsaError) return error;
    throw error;
  }
  throw new Error(`expected ${url} to be rejected`);
}

describe('validateIssuerUrl', () => {
  it.each([
    'https://oidc.example.com',
    'https://oidc.example.com/team-a',
    'https://d111111abcdef8.cloudfront.net/clusters/prod-1',
    'https://my-bucket.s3.eu-west-1.amazonaws.com/cluster',
  ])('accepts %s unchanged', (url) => {
    expect(validateIssuerUrl(url)).toBe(url);
  });

  it.each([
    ['', 'ISSUER_EMPTY', 'https://oidc.example.com/my-cluster'],
    [`https://example.com/${'a'.repeat(240)}`, 'ISSUER_TOO_LONG', 'shorter'],
    ['https://example.com/a b', 'ISSUER_INVALID', 'https://example.com/ab'],
    ['example.com/x', 'ISSUER_INVALID', 'https://<host>'],
    ['http://oidc.example.com/x', 'ISSUER_NOT_HTTPS', '"https://oidc.example.com/x"'],
    ['ftp://oidc.example.com', 'ISSUER_NOT_HTTPS', '"https://oidc.example.com"'],
    ['HTTPS://oidc.example.com', 'ISSUER_SCHEME_CASE', '"https://oidc.example.com"'],
    ['https://user:pw@oidc.example.com/x', 'ISSUER_USERINFO', '"https://oidc.example.com/x"'],
    ['https://oidc.example.com:8443/x', 'ISSUER_PORT', '"https://oidc.example.com/x"'],
    ['https://oidc.example.com:443', 'ISSUER_PORT', '"https://oidc.example.com"'],
    ['https://OIDC.Example.com/x', 'ISSUER_HOST_CASE', '"https://oidc.example.com/x"'],
    ['https://oidc.example.com./x', 'ISSUER_HOST_INVALID', 'no trailing dot'],
    ['https://oidc_example.com', 'ISSUER_HOST_INVALID', 'DNS name'],
    ['https:///x', 'ISSUER_HOST_INVALID', 'https://<host>'],
    ['https://oidc.example.com/x?a=b', 'ISSUER_QUERY', '"https://oidc.example.com/x"'],
    ['https://oidc.example.com/x?', 'ISSUER_QUERY', '"https://oidc.example.com/x"'],
    ['https://oidc.example.com/x#frag', 'ISSUER_FRAGMENT', '"https://oidc.example.com/x"'],
    [
      'https://oidc.example.com/',
      'ISSUER_TRAILING_SLASH',
      'Remove the trailing slash: use "https://oidc.example.com"',
    ],
    ['https://oidc.example.com/x/y/', 'ISSUER_TRAILING_SLASH', 'use "https://oidc.example.com/x/y"'],
    ['https://oidc.example.com//x', 'ISSUER_PATH_INVALID', 'single slashes'],
    ['https://oidc.example.com/a/../b', 'ISSUER_PATH_INVALID', 'single slashes'],
  ])('rejects %j with %s and a fix containing %j', (url, code, fixPart) => {
    const error = failure(url);
    expect(error.code).toBe(code);
    expect(error.fix).toContain(fixPart);
    expect(error.fix.length).toBeGreaterThan(10);
  });

  it('accepts exactly 255 characters and rejects 256', () => {
    const base = 'https://example.com/';
    expect(validateIssuerUrl(base + 'a'.repeat(255 - base.length))).toHaveLength(255);
    expect(failure(base + 'a'.repeat(256 - base.length)).code).toBe('ISSUER_TOO_LONG');
  });

  it.each([
    'http://127.0.0.1:8900',
    'http://127.1.2.3:8900/x',
    'http://localhost:8900',
    'http://[::1]:8900',
    'http://localhost',
  ])('accepts loopback %s only with allowLoopbackHttp', (url) => {
    expect(validateIssuerUrl(url, { allowLoopbackHttp: true })).toBe(url);
    expect(() => validateIssuerUrl(url)).toThrow(IrsaError);
  });

  it.each([
    ['http://10.0.0.1:8900', 'ISSUER_NOT_HTTPS'],
    ['http://128.0.0.1', 'ISSUER_NOT_HTTPS'],
    ['http://localhost.example.com', 'ISSUER_NOT_HTTPS'],
    ['http://127.0.0.1:0', 'ISSUER_PORT'],
    ['http://127.0.0.1:99999', 'ISSUER_PORT'],
  ])('still rejects %s in local mode (%s)', (url, code) => {
    expect(failure(url, { allowLoopbackHttp: true }).code).toBe(code);
  });

  it('explains that http is for loopback in local mode', () => {
    expect(failure('http://127.0.0.1:8900').message).toContain('loopback');
  });
});

describe('issuerHostPath (the IAM condition-key prefix)', () => {
  it.each([
    ['https://oidc.example.com/team-a', 'oidc.example.com/team-a'],
    ['https://oidc.example.com', 'oidc.example.com'],
    ['http://127.0.0.1:8900', '127.0.0.1:8900'],
  ])('%s → %s', (issuer, hostPath) => {
    expect(issuerHostPath(issuer)).toBe(hostPath);
  });

  it('rejects an invalid issuer', () => {
    expect(() => issuerHostPath('https://oidc.example.com/')).toThrow(
      expect.objectContaining({ code: 'ISSUER_TRAILING_SLASH' }),
    );
  });
});
