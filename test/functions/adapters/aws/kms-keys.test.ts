import {
  CreateKeyCommand,
  DescribeKeyCommand,
  GetPublicKeyCommand,
  KMSClient,
  ScheduleKeyDeletionCommand,
  TagResourceCommand,
} from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { keyAuthority, signingKeyPolicy } from '#adapters/aws/kms-key-policy.ts';
import { KmsKeys } from '#adapters/aws/kms-keys.ts';
import type { KeyRecord } from '#core/keyset.ts';
import { spkiDer } from '../../core/key-fixtures.ts';
import { awsError } from './aws-fakes.ts';

const kms = mockClient(KMSClient);
const client = new KMSClient({ region: 'us-east-1' });
const record = (keyId: string): KeyRecord => ({
  kid: 'k',
  alg: 'RS256',
  keySpec: 'RSA_2048',
  state: 'deleted',
  publicKeySpki: '',
  location: { type: 'kms', keyId },
  createdAt: '2026-01-01T00:00:00Z',
});

beforeEach(() => kms.reset());

describe('KmsKeys.create', () => {
  it('creates a SIGN_VERIFY key with its key policy, then tags it, and returns its DER public key', async () => {
    const spki = spkiDer('rsa-2048');
    kms.on(CreateKeyCommand).resolves({ KeyMetadata: { KeyId: 'key-1', Arn: 'arn:aws:kms:r:1:key/key-1' } });
    kms.on(GetPublicKeyCommand).resolves({ PublicKey: spki, KeySpec: 'RSA_2048' });
    kms.on(TagResourceCommand).resolves({});
    const authority = keyAuthority('prod', ['arn:aws:iam::111122223333:role/rotate']);
    if (authority === undefined) throw new Error('no authority');
    const created = await new KmsKeys({ kms: client, cluster: 'prod', authority }).create('RSA_2048');
    expect(created).toEqual({
      location: { type: 'kms', keyId: 'key-1', keyArn: 'arn:aws:kms:r:1:key/key-1' },
      publicKeySpki: spki,
    });
    expect(kms).toReceiveCommandWith(CreateKeyCommand, {
      KeySpec: 'RSA_2048',
      KeyUsage: 'SIGN_VERIFY',
      Origin: 'AWS_KMS',
      Policy: JSON.stringify(signingKeyPolicy(authority)),
    });
    // No tags at CreateKey (that would need an unscoped IAM TagResource grant): tagged right after.
    expect(kms.commandCalls(CreateKeyCommand)[0]?.args[0].input.Tags).toBeUndefined();
    expect(kms).toReceiveCommandWith(TagResourceCommand, {
      KeyId: 'key-1',
      Tags: [
        { TagKey: 'irsa-anywhere:cluster', TagValue: 'prod' },
        { TagKey: 'irsa-anywhere:managed-by', TagValue: 'irsa-anywhere' },
      ],
    });
  });

  it('without the function role ARNs, keys keep the KMS default policy (the previous behaviour)', async () => {
    kms.on(CreateKeyCommand).resolves({ KeyMetadata: { KeyId: 'key-1' } });
    kms.on(GetPublicKeyCommand).resolves({ PublicKey: spkiDer('rsa-2048'), KeySpec: 'RSA_2048' });
    kms.on(TagResourceCommand).resolves({});
    const keys = new KmsKeys({ kms: client, cluster: 'prod' });
    await keys.create('RSA_2048');
    expect(keys.hasKeyPolicy).toBe(false);
    expect(kms.commandCalls(CreateKeyCommand)[0]?.args[0].input.Policy).toBeUndefined();
  });

  it('accepts the deprecated CustomerMasterKeySpec when KeySpec is absent (moto)', async () => {
    kms.on(CreateKeyCommand).resolves({ KeyMetadata: { KeyId: 'key-1' } });
    kms
      .on(GetPublicKeyCommand)
      .resolves({ PublicKey: spkiDer('ec-p256'), CustomerMasterKeySpec: 'ECC_NIST_P256' });
    const created = await new KmsKeys({ kms: client, cluster: 'prod' }).create('ECC_NIST_P256');
    expect(created.location).toEqual({ type: 'kms', keyId: 'key-1' });
  });

  it('refuses a key whose spec is not the one asked for', async () => {
    kms.on(CreateKeyCommand).resolves({ KeyMetadata: { KeyId: 'key-1' } });
    kms
      .on(GetPublicKeyCommand)
      .resolves({ PublicKey: spkiDer('ec-p256'), CustomerMasterKeySpec: 'ECC_NIST_P256' });
    kms.on(ScheduleKeyDeletionCommand).resolves({});
    await expect(new KmsKeys({ kms: client, cluster: 'prod' }).create('RSA_2048')).rejects.toMatchObject({
      code: 'KMS_KEY_SPEC_MISMATCH',
    });
    expect(kms).toReceiveCommandWith(ScheduleKeyDeletionCommand, { KeyId: 'key-1' });
  });

  it('schedules deletion of a key it created but could not read back, then fails', async () => {
    kms.on(CreateKeyCommand).resolves({ KeyMetadata: { KeyId: 'key-1' } });
    kms.on(GetPublicKeyCommand).rejects(awsError('ThrottlingException', 400));
    kms.on(ScheduleKeyDeletionCommand).resolves({});
    await expect(new KmsKeys({ kms: client, cluster: 'prod' }).create('RSA_2048')).rejects.toMatchObject({
      name: 'ThrottlingException',
    });
    expect(kms).toReceiveCommandWith(ScheduleKeyDeletionCommand, { KeyId: 'key-1', PendingWindowInDays: 7 });
  });

  it('surfaces KMS throttling to the caller', async () => {
    kms.on(CreateKeyCommand).rejects(awsError('ThrottlingException', 400));
    await expect(new KmsKeys({ kms: client, cluster: 'prod' }).create('RSA_2048')).rejects.toMatchObject({
      name: 'ThrottlingException',
    });
  });
});

describe('KmsKeys.label and destroy', () => {
  it('tags the key with its kid', async () => {
    kms.on(TagResourceCommand).resolves({});
    await new KmsKeys({ kms: client, cluster: 'prod' }).label({ type: 'kms', keyId: 'key-1' }, 'the-kid');
    expect(kms).toReceiveCommandWith(TagResourceCommand, {
      KeyId: 'key-1',
      Tags: [{ TagKey: 'irsa-anywhere:kid', TagValue: 'the-kid' }],
    });
  });

  it('schedules deletion with a 7-day window by default, or the configured one', async () => {
    kms.on(ScheduleKeyDeletionCommand).resolves({});
    await new KmsKeys({ kms: client, cluster: 'prod' }).destroy(record('key-1'));
    await new KmsKeys({ kms: client, cluster: 'prod', deletionWindowDays: 30 }).destroy(record('key-2'));
    expect(kms).toReceiveCommandWith(ScheduleKeyDeletionCommand, { KeyId: 'key-1', PendingWindowInDays: 7 });
    expect(kms).toReceiveCommandWith(ScheduleKeyDeletionCommand, { KeyId: 'key-2', PendingWindowInDays: 30 });
  });

  it('is idempotent: a key already pending deletion or gone counts as destroyed', async () => {
    kms
      .on(ScheduleKeyDeletionCommand, { KeyId: 'pending' })
      .rejects(awsError('KMSInvalidStateException', 400));
    kms.on(DescribeKeyCommand).resolves({ KeyMetadata: { KeyId: 'pending', KeyState: 'PendingDeletion' } });
    kms.on(ScheduleKeyDeletionCommand, { KeyId: 'gone' }).rejects(awsError('NotFoundException', 400));
    const keys = new KmsKeys({ kms: client, cluster: 'prod' });
    await keys.destroy(record('pending'));
    await keys.destroy(record('gone'));
  });

  it('still fails for an invalid state that is not pending deletion', async () => {
    kms.on(ScheduleKeyDeletionCommand).rejects(awsError('KMSInvalidStateException', 400));
    kms.on(DescribeKeyCommand).resolves({ KeyMetadata: { KeyId: 'k', KeyState: 'PendingImport' } });
    await expect(new KmsKeys({ kms: client, cluster: 'prod' }).destroy(record('k'))).rejects.toMatchObject({
      name: 'KMSInvalidStateException',
    });
  });

  it('refuses a non-KMS key location and a deletion window outside 7-30 days', async () => {
    const keys = new KmsKeys({ kms: client, cluster: 'prod' });
    await expect(
      keys.destroy({ ...record('x'), location: { type: 'local', file: 'keys/x.pem' } }),
    ).rejects.toMatchObject({
      code: 'KEY_LOCATION_MISMATCH',
    });
    expect(() => new KmsKeys({ kms: client, cluster: 'prod', deletionWindowDays: 3 })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
  });
});
