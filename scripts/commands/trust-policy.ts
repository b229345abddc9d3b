/** `irsa-anywhere trust-policy`: the IAM role trust policy for service accounts of this issuer. */
import { validateIssuerUrl } from '#core/issuer.ts';
import { assertServiceAccountName } from '#core/projected-token.ts';
import { DEFAULT_AUDIENCE } from '#core/token-claims.ts';
import { buildTrustPolicy, oidcProviderArn } from '#core/trust-policy.ts';
import { jsonOption } from '../lib/cli-options.ts';
import { printJson, type Register, runCommand } from '../lib/cli-support.ts';
import { createRoleCommand } from '../lib/stack/create-role.ts';

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

interface TrustPolicyOptions {
  issuer: string;
  accountId: string;
  namespace: string;
  serviceAccount: string[];
  audience: string;
  partition: string;
  roleName?: string;
}

export const register: Register = (program, io, setExit) => {
  program
    .command('trust-policy')
    .description(
      'Print the IAM role trust policy that lets these service accounts assume a role through this issuer.',
    )
    .requiredOption('--issuer <url>', 'issuer URL, exactly as registered with IAM')
    .requiredOption('--account-id <id>', 'AWS account id (12 digits)')
    .requiredOption('--namespace <ns>', 'namespace of the service accounts (wildcards * and ? allowed)')
    .requiredOption(
      '--service-account <sa>',
      'service account name (repeatable; wildcards * and ? allowed)',
      collect,
    )
    .option('--audience <aud>', 'token audience', DEFAULT_AUDIENCE)
    .option('--partition <p>', 'AWS partition', 'aws')
    .option('--role-name <name>', 'print the `aws iam create-role` command for this policy instead')
    .addOption(
      jsonOption(
        'print { providerArn, policy, characters } (and the create-role command with --role-name) as JSON',
      ),
    )
    .action(async (opts: TrustPolicyOptions & { json?: boolean }) => {
      setExit(
        await runCommand(
          io,
          () => {
            const issuer = validateIssuerUrl(opts.issuer, { allowLoopbackHttp: true });
            const wildcard = /[*?]/;
            for (const sa of opts.serviceAccount) {
              if (!wildcard.test(opts.namespace) && !wildcard.test(sa))
                assertServiceAccountName(opts.namespace, sa);
            }
            const policy = buildTrustPolicy({
              providerArn: oidcProviderArn(opts.accountId, issuer, opts.partition),
              issuer,
              serviceAccounts: opts.serviceAccount.map((serviceAccount) => ({
                namespace: opts.namespace,
                serviceAccount,
              })),
              audience: opts.audience,
            });
            const providerArn = oidcProviderArn(opts.accountId, issuer, opts.partition);
            if (opts.json === true) {
              printJson(io, {
                providerArn,
                policy,
                // IAM's default trust-policy quota counts the policy's characters (2,048, up to 4,096).
                characters: JSON.stringify(policy).length,
                ...(opts.roleName === undefined
                  ? {}
                  : { roleName: opts.roleName, createRoleCommand: createRoleCommand(opts.roleName, policy) }),
              });
            } else if (opts.roleName !== undefined) io.out(createRoleCommand(opts.roleName, policy));
            else printJson(io, policy);
          },
          { json: opts.json },
        ),
      );
    });
};
