import { DecryptCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { generateKeyPairDer, KmsWrappedKeys, unwrapPrivateKey } from '#adapters/aws/kms-wrapped-keys.ts';
import type { KeyRecord } from '#core/keyset.ts';
import { kidFromSpki } from '#core/kid.ts';
import { awsError, body } from './aws-fakes.ts';

const kms = mockClient(KMSClient);
const s3 = mockClient(S3Client);
const clients = { kms: new KMSClient({ region: 'us-east-1' }), s3: new S3Client({ region: 'us-east-1' }) };
const options = { ...clients, bucket: 'state', cluster: 'prod', wrappingKeyId: 'wrap-1' };

beforeEach(() => {
  kms.reset();
  s3.reset();
});

describe('KmsWrappedKeys', () => {
  it('encrypts the PKCS#8 key with context {cluster, kid}, stores only the ciphertext, and zeroes the plaintext', async () => {
    const pair = await generateKeyPairDer('ECC_NIST_P256');
    const plaintext = Uint8Array.from(pair.pkcs8);
    const kid = kidFromSpki(pair.spki);
    kms.on(EncryptCommand).resolves({ CiphertextBlob: Uint8Array.of(1, 2, 3) });
    s3.on(PutObjectCommand).resolves({});
    const created = await new KmsWrappedKeys({ ...options, generate: async () => pair }).create(
      'ECC_NIST_P256',
    );

    expect(created).toEqual({
      location: { type: 'wrapped', object: `keys/${kid}.wrapped`, wrappingKeyId: 'wrap-1' },
      publicKeySpki: pair.spki,
    });
    const encrypt = kms.commandCalls(EncryptCommand)[0]?.args[0].input;
    expect(encrypt?.KeyId).toBe('wrap-1');
    expect(encrypt?.EncryptionContext).toEqual({ cluster: 'prod', kid });
    expect(Buffer.from(encrypt?.Plaintext ?? []).equals(Buffer.alloc(plaintext.length))).toBe(true); // zeroed after use
    expect(s3).toReceiveCommandWith(PutObjectCommand, {
      Bucket: 'state',
      Key: `keys/${kid}.wrapped`,
      Body: Uint8Array.of(1, 2, 3),
      IfNoneMatch: '*',
    });
  });

  it('does not store anything when Encrypt fails', async () => {
    kms.on(EncryptCommand).rejects(awsError('ThrottlingException', 400));
    await expect(new KmsWrappedKeys(options).create('RSA_2048')).rejects.toMatchObject({
      name: 'ThrottlingException',
    });
    expect(s3).not.toReceiveCommand(PutObjectCommand);
  });

  it('destroy deletes the wrapped object and tolerates a missing one', async () => {
    s3.on(DeleteObjectCommand).resolvesOnce({}).rejectsOnce(awsError('NoSuchKey', 404));
    const key = { location: { type: 'wrapped', object: 'keys/a.wrapped', wrappingKeyId: 'w' } } as KeyRecord;
    const keys = new KmsWrappedKeys(options);
    await keys.destroy(key);
    await keys.destroy(key);
    expect(s3).toReceiveCommandWith(DeleteObjectCommand, { Bucket: 'state', Key: 'keys/a.wrapped' });
  });
});

describe('unwrapPrivateKey', () => {
  it('round-trips: decrypts with the same context and checks the kid', async () => {
    const pair = await generateKeyPairDer('RSA_2048');
    const kid = kidFromSpki(pair.spki);
    s3.on(GetObjectCommand).resolves({ Body: body(Uint8Array.of(9, 9)) });
    kms.on(DecryptCommand).resolves({ Plaintext: Uint8Array.from(pair.pkcs8) });
    const key = {
      kid,
      location: { type: 'wrapped', object: `keys/${kid}.wrapped`, wrappingKeyId: 'w' },
    } as KeyRecord;
    const der = await unwrapPrivateKey({ ...clients, bucket: 'state', cluster: 'prod' }, key);
    expect(Buffer.from(der).equals(Buffer.from(pair.pkcs8))).toBe(true);
    expect(kms).toReceiveCommandWith(DecryptCommand, {
      EncryptionContext: { cluster: 'prod', kid },
      KeyId: 'w',
    });
  });

  it('refuses a wrapped key that is not the key of the record', async () => {
    const pair = await generateKeyPairDer('ECC_NIST_P256');
    s3.on(GetObjectCommand).resolves({ Body: body(Uint8Array.of(9)) });
    kms.on(DecryptCommand).resolves({ Plaintext: Uint8Array.from(pair.pkcs8) });
    const key = {
      kid: 'other',
      location: { type: 'wrapped', object: 'keys/other.wrapped', wrappingKeyId: 'w' },
    } as KeyRecord;
    await expect(
      unwrapPrivateKey({ ...clients, bucket: 'state', cluster: 'prod' }, key),
    ).rejects.toMatchObject({
      code: 'WRAPPED_KEY_MISMATCH',
    });
  });

  it('says WRAPPED_KEY_MISSING when the object is gone', async () => {
    s3.on(GetObjectCommand).rejects(awsError('NoSuchKey', 404));
    const key = {
      kid: 'x',
      location: { type: 'wrapped', object: 'keys/x.wrapped', wrappingKeyId: 'w' },
    } as KeyRecord;
    await expect(
      unwrapPrivateKey({ ...clients, bucket: 'state', cluster: 'prod' }, key),
    ).rejects.toMatchObject({
      code: 'WRAPPED_KEY_MISSING',
    });
  });
});
