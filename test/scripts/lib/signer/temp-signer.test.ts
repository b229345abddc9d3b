/** The helpers the benchmark uses: a signer in a child process, reached with the test client. */
import { access } from 'node:fs/promises';
import { expect, it } from 'vitest';
import { connectSigner } from '#scripts/lib/signer/client.ts';
import { startChildLocalSigner } from '#scripts/lib/signer/temp-signer.ts';
import { claimsSegment, verifiesWith } from './helpers.ts';

it('startChildLocalSigner serves the active key from another process and cleans up on close', async () => {
  const child = await startChildLocalSigner({ keySpec: 'ECC_NIST_P256' });
  expect(child.pid).not.toBe(process.pid);
  const client = connectSigner(child.target, 'v1alpha1');
  try {
    const claims = claimsSegment();
    const { header, signature } = await client.sign(claims);
    const spki = Buffer.from(child.activeKey.publicKeySpki, 'base64');
    expect(verifiesWith(`${header}.${claims}.${signature}`, spki, 'ES256')).toBe(true);
    const baseline = await child.localKeys.sign(child.activeKey, Buffer.from(`${header}.${claims}`));
    expect(baseline).toHaveLength(64);
  } finally {
    client.close();
    await child.close();
  }
  await expect(access(child.dir)).rejects.toMatchObject({ code: 'ENOENT' });
});
