import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { isIrsaError } from '#core/errors.ts';
import { createRoleCommand, shellQuote } from '#scripts/lib/stack/create-role.ts';

const policy = {
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Principal: { Federated: 'arn:aws:iam::111122223333:oidc-provider/oidc.example.com/c1' },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: { StringEquals: { 'oidc.example.com/c1:sub': "system:serviceaccount:it's:app" } },
    },
  ],
};

describe('createRoleCommand', () => {
  it('prints a create-role command whose quoted document the shell hands over unchanged', () => {
    const command = createRoleCommand('app-role', policy);
    expect(
      command.startsWith("aws iam create-role --role-name 'app-role' --assume-role-policy-document '"),
    ).toBe(true);
    // Let a real shell parse the quoting: the argument it sees must be the exact JSON.
    const echoed = execFileSync('sh', ['-c', `printf %s ${shellQuote(JSON.stringify(policy))}`]).toString();
    expect(JSON.parse(echoed)).toEqual(policy);
    expect(command).not.toContain('\n');
  });

  it('warns above the 2,048 default quota and refuses above 4,096', () => {
    const big = (n: number) => ({ ...policy, Sid: 'x'.repeat(n) });
    expect(createRoleCommand('r', big(2100)).split('\n')[0]).toMatch(
      /^# The trust policy is \d+ characters: above IAM's default quota/,
    );
    try {
      createRoleCommand('r', big(5000));
      expect.unreachable();
    } catch (error) {
      expect(isIrsaError(error, 'TRUST_POLICY_TOO_LONG')).toBe(true);
    }
  });

  it.each(['', 'a b', 'x'.repeat(65), "it's"])('rejects role name %j', (name) => {
    expect(() => createRoleCommand(name, policy)).toThrow(/--role-name/);
  });
});
