import { describe, expect, it } from 'vitest';
import { KmsKeys } from '#adapters/aws/kms-keys.ts';
import { KmsWrappedKeys } from '#adapters/aws/kms-wrapped-keys.ts';
import { S3KeysetStore } from '#adapters/aws/s3-keyset-store.ts';
import { S3Publisher } from '#adapters/aws/s3-publisher.ts';
import { composeAws, createAwsClients, deletionWindowDays } from '#adapters/compose.ts';
import { parseConfig } from '#core/config.ts';

const env = {
  CLUSTER_NAME: 'prod',
  ISSUER_URL: 'https://oidc.example.com/prod',
  STATE_BUCKET: 'state-bucket',
  PUBLIC_BUCKET: 'public-bucket',
};
const clients = createAwsClients({ region: 'us-east-1' });

describe('composeAws', () => {
  it('kms mode: S3 store and publisher, KMS asymmetric keys', () => {
    const ports = composeAws(parseConfig(env), clients);
    expect(ports.store).toBeInstanceOf(S3KeysetStore);
    expect(ports.publisher).toBeInstanceOf(S3Publisher);
    expect(ports.keys).toBeInstanceOf(KmsKeys);
  });

  it('file mode: KMS-wrapped keys', () => {
    const ports = composeAws(
      parseConfig({ ...env, KEY_MODE: 'file', WRAPPING_KEY_ID: 'alias/wrap' }),
      clients,
    );
    expect(ports.keys).toBeInstanceOf(KmsWrappedKeys);
  });

  it('raises the KMS deletion window to cover the retention, within 7-30 days', () => {
    expect(deletionWindowDays(parseConfig(env))).toBe(7);
    // 20-day tokens: retention is 20 days plus skew, cache and lag, so 21 days.
    const long = parseConfig({
      ...env,
      MAX_TOKEN_LIFETIME_SECONDS: String(20 * 86_400),
      ROTATION_PERIOD_DAYS: '30',
    });
    expect(deletionWindowDays(long)).toBe(21);
    const huge = parseConfig({
      ...env,
      MAX_TOKEN_LIFETIME_SECONDS: String(60 * 86_400),
      ROTATION_PERIOD_DAYS: '90',
    });
    expect(deletionWindowDays(huge)).toBe(30);
  });
});

describe('ScheduleKeyDeletion uses the retention-covering window (issue 12 item 6)', () => {
  it('20-day token retention schedules 21 days, not the configured 7', async () => {
    const { mockClient } = await import('aws-sdk-client-mock');
    const { ScheduleKeyDeletionCommand } = await import('@aws-sdk/client-kms');
    const own = createAwsClients({ region: 'us-east-1' });
    const kms = mockClient(own.kms);
    kms.on(ScheduleKeyDeletionCommand).resolves({});
    const config = parseConfig({
      ...env,
      MAX_TOKEN_LIFETIME_SECONDS: String(20 * 86_400),
      ROTATION_PERIOD_DAYS: '30',
    });
    const { keys } = composeAws(config, own);
    await keys.destroy({
      kid: 'k'.repeat(43),
      location: { type: 'kms', keyId: 'key-1' },
    });
    const sent = kms.commandCalls(ScheduleKeyDeletionCommand)[0]?.args[0].input;
    expect(sent?.PendingWindowInDays).toBe(21);
    kms.restore();
  });
});
