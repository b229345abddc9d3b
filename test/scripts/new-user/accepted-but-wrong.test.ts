/**
 * Issue 14 item 12 (the parts done here) and the `trust-policy --json` feature.
 */
import { describe, expect, it } from 'vitest';
import { runCli } from '../../support/run-cli.ts';

describe('12. accepted but wrong', () => {
  it('signer install --bin relative/path is refused: systemd needs an absolute ExecStart', async () => {
    const result = await runCli(
      'signer',
      'install',
      '--distro',
      'kubeadm',
      '--backend',
      'kms',
      '--state',
      's3://state-bucket/keyset.json',
      '--region',
      'eu-west-1',
      '--bin',
      'relative/path',
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error FLAG_INVALID: --bin relative\/path is not an absolute path/m);
    expect(result.stdout).not.toMatch(/ExecStart=relative/);
  });
});

describe('trust-policy --json', () => {
  it('prints the provider ARN, the policy, its length and the create-role command as one JSON object', async () => {
    const result = await runCli(
      'trust-policy',
      '--issuer',
      'https://oidc.example.com/prod',
      '--account-id',
      '111122223333',
      '--namespace',
      'apps',
      '--service-account',
      'web',
      '--role-name',
      'web-s3',
      '--json',
    );
    expect(result.code, result.stderr).toBe(0);
    const out = JSON.parse(result.stdout);
    expect(out.providerArn).toBe('arn:aws:iam::111122223333:oidc-provider/oidc.example.com/prod');
    expect(out.policy.Statement[0].Condition.StringEquals['oidc.example.com/prod:sub']).toBe(
      'system:serviceaccount:apps:web',
    );
    expect(out.characters).toBe(JSON.stringify(out.policy).length);
    expect(out.createRoleCommand).toMatch(/^aws iam create-role --role-name 'web-s3'/);
  });
});
