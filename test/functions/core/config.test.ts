import { describe, expect, it } from 'vitest';
import { type Env, parseConfig } from '#core/config.ts';
import { IrsaError } from '#core/errors.ts';

const base: Env = {
  CLUSTER_NAME: 'prod',
  ISSUER_URL: 'https://d111.cloudfront.net',
  STATE_BUCKET: 'irsa-anywhere-prod-state',
  PUBLIC_BUCKET: 'irsa-anywhere-prod-public',
};

function failure(env: Env): IrsaError {
  try {
    parseConfig(env);
  } catch (error) {
    if (error instanceof IrsaError) return error;
    throw error;
  }
  throw new Error('parseConfig accepted the environment');
}

describe('parseConfig', () => {
  it('parses the minimum environment with the documented defaults', () => {
    const config = parseConfig(base);
    expect(config).toMatchObject({
      cluster: 'prod',
      issuer: 'https://d111.cloudfront.net',
      publicPrefix: '',
      keyMode: 'kms',
      keyDeletionWindowDays: 7,
      policy: {
        keySpec: 'RSA_2048',
        rotationPeriodSeconds: 7 * 86_400,
        publishLeadSeconds: 24 * 3_600,
        maxTokenLifetimeSeconds: 86_400,
        jwksMaxAgeSeconds: 300,
      },
    });
    expect('wrappingKeyId' in config).toBe(false);
  });

  it('reads every setting and derives the public prefix from the issuer path', () => {
    const config = parseConfig({
      ...base,
      ISSUER_URL: 'https://oidc.example.com/team-a/prod',
      KEY_MODE: 'file',
      KEY_SPEC: 'ECC_NIST_P256',
      WRAPPING_KEY_ID: 'arn:aws:kms:eu-west-1:123456789012:key/abc',
      ROTATION_PERIOD_DAYS: '30',
      PUBLISH_LEAD_HOURS: '48',
      MAX_TOKEN_LIFETIME_SECONDS: '3600',
      JWKS_MAX_AGE_SECONDS: '60',
      NODE_SYNC_LAG_SECONDS: '120',
      KEY_DELETION_WINDOW_DAYS: '30',
    });
    expect(config).toMatchObject({
      publicPrefix: 'team-a/prod',
      keyMode: 'file',
      wrappingKeyId: 'arn:aws:kms:eu-west-1:123456789012:key/abc',
      keyDeletionWindowDays: 30,
      policy: { keySpec: 'ECC_NIST_P256', rotationPeriodSeconds: 30 * 86_400, jwksMaxAgeSeconds: 60 },
    });
  });

  it.each([
    ['CLUSTER_NAME', { CLUSTER_NAME: undefined }],
    ['CLUSTER_NAME', { CLUSTER_NAME: 'has spaces' }],
    ['ISSUER_URL', { ISSUER_URL: '' }],
    ['ISSUER_URL', { ISSUER_URL: 'https://oidc.example.com/' }],
    ['ISSUER_URL', { ISSUER_URL: 'http://oidc.example.com' }],
    ['STATE_BUCKET', { STATE_BUCKET: undefined }],
    ['PUBLIC_BUCKET', { PUBLIC_BUCKET: 'Not_A_Bucket' }],
    ['KEY_MODE', { KEY_MODE: 'hsm' }],
    ['KEY_SPEC', { KEY_SPEC: 'RSA_4096' }],
    ['WRAPPING_KEY_ID', { KEY_MODE: 'file' }],
    ['ROTATION_PERIOD_DAYS', { ROTATION_PERIOD_DAYS: 'weekly' }],
    ['MAX_TOKEN_LIFETIME_SECONDS', { MAX_TOKEN_LIFETIME_SECONDS: '1.5' }],
    ['MAX_TOKEN_LIFETIME_SECONDS', { MAX_TOKEN_LIFETIME_SECONDS: '60' }],
    ['PUBLISH_LEAD_HOURS', { PUBLISH_LEAD_HOURS: '0.1' }],
    ['KEY_DELETION_WINDOW_DAYS', { KEY_DELETION_WINDOW_DAYS: '3' }],
  ])('fails with CONFIG_INVALID naming %s', (variable, override) => {
    const error = failure({ ...base, ...override });
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain(variable);
    expect(error.fix.length).toBeGreaterThan(0);
  });

  it('names the issuer problem code for a trailing slash', () => {
    expect(failure({ ...base, ISSUER_URL: 'https://oidc.example.com/x/' }).message).toContain(
      'ISSUER_TRAILING_SLASH',
    );
  });
});
