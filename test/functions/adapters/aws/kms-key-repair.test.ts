import { describe, expect, it } from 'vitest';
import { keyAuthority, signingKeyPolicy } from '#adapters/aws/kms-key-policy.ts';
import { repairKey } from '#adapters/aws/kms-key-repair.ts';
import { FakeAws } from '../../../support/aws-fakes.ts';

const authority = keyAuthority('prod', [
  'arn:aws:iam::111122223333:role/rotate',
  'arn:aws:iam::111122223333:role/bootstrap',
]);

describe('repairKey', () => {
  it('refuses a key tagged for another cluster (KMS_KEY_FOREIGN) and changes nothing', async () => {
    const variants: Array<Record<string, string>> = [
      { cluster: 'other' },
      { 'irsa-anywhere:cluster': 'other' },
    ];
    for (const tags of variants) {
      const aws = new FakeAws();
      const keyId = aws.addSigningKey({ tags });
      const proc = aws.process();
      await expect(
        repairKey(proc.kms, { keyId, kid: 'k', cluster: 'prod', authority }),
      ).rejects.toMatchObject({
        code: 'KMS_KEY_FOREIGN',
      });
      expect(aws.state.keys.get(keyId)?.tags).toEqual(tags);
      expect(aws.state.keys.get(keyId)?.policy).toBeUndefined();
      expect(proc.calls).toEqual(['kms:ListResourceTags']);
    }
  });

  it('skips a key already pending deletion', async () => {
    const aws = new FakeAws();
    const keyId = aws.addSigningKey({ tags: { cluster: 'prod', 'managed-by': 'irsa-anywhere' } });
    const key = aws.state.keys.get(keyId);
    if (key === undefined || authority === undefined) throw new Error('setup');
    key.state = 'PendingDeletion';
    const proc = aws.process();
    proc.kmsMock
      .on((await import('@aws-sdk/client-kms')).PutKeyPolicyCommand)
      .rejects(Object.assign(new Error('pending deletion'), { name: 'KMSInvalidStateException' }));
    expect(await repairKey(proc.kms, { keyId, kid: 'k', cluster: 'prod', authority })).toEqual([]);
  });

  it('leaves the policy alone without an authority, and fixes the tags only', async () => {
    const aws = new FakeAws();
    const keyId = aws.addSigningKey({ tags: { cluster: 'prod', kid: 'k' } });
    const proc = aws.process();
    expect(await repairKey(proc.kms, { keyId, kid: 'k', cluster: 'prod', authority: undefined })).toEqual([
      'tags',
    ]);
    expect(aws.state.keys.get(keyId)?.policy).toBeUndefined();
    expect(proc.calls).toEqual(['kms:ListResourceTags', 'kms:TagResource']);
  });

  it('a key already right costs two reads and no write', async () => {
    if (authority === undefined) throw new Error('setup');
    const aws = new FakeAws();
    const keyId = aws.addSigningKey({
      tags: {
        'irsa-anywhere:cluster': 'prod',
        'irsa-anywhere:managed-by': 'irsa-anywhere',
        'irsa-anywhere:kid': 'k',
      },
      // Member order differs from what the adapter writes: compared as JSON, not as text.
      policy: JSON.stringify({ ...signingKeyPolicy(authority), Version: '2012-10-17' }, null, 2),
    });
    const proc = aws.process();
    expect(await repairKey(proc.kms, { keyId, kid: 'k', cluster: 'prod', authority })).toEqual([]);
    expect(proc.calls).toEqual(['kms:ListResourceTags', 'kms:GetKeyPolicy']);
  });
});
