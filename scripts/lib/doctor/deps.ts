/**
 * The real dependencies of doctor: https fetch, the clock, files, AWS SDK clients (only when
 * credentials are configured, so a laptop without AWS gets clean SKIPs instead of timeouts on the
 * instance metadata service), and a kube client built from a kubeconfig.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { IAMClient } from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import { IrsaError } from '#core/errors.ts';
import { cliAws } from '../aws-clients.ts';
import { createHttpFetch } from './http.ts';
import { createKubeClient } from './kube-client.ts';
import { readKubeconfig } from './kubeconfig.ts';
import { type DoctorDeps, type DoctorOptions, KUBECONFIG_FIX } from './types.ts';

type Env = Readonly<Record<string, string | undefined>>;

/** Why no AWS credentials are configured, or undefined when some are. Reads only names, never values. */
export function awsCredentialsMissing(
  env: Env,
  home: string,
  exists: (file: string) => boolean = existsSync,
): string | undefined {
  const vars = [
    'AWS_ACCESS_KEY_ID',
    'AWS_PROFILE',
    'AWS_WEB_IDENTITY_TOKEN_FILE',
    'AWS_CONTAINER_CREDENTIALS_FULL_URI',
    'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  ];
  if (vars.some((name) => (env[name] ?? '') !== '')) return undefined;
  const files = [
    env.AWS_SHARED_CREDENTIALS_FILE ?? path.join(home, '.aws', 'credentials'),
    env.AWS_CONFIG_FILE ?? path.join(home, '.aws', 'config'),
  ];
  if (files.some((file) => exists(file))) return undefined;
  return 'no AWS_PROFILE, AWS_ACCESS_KEY_ID, web identity or ~/.aws files found';
}

/** The kubeconfig's text; a file that cannot be read is `KUBECONFIG_INVALID` naming the path. */
async function readKubeconfigFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new IrsaError(
      'KUBECONFIG_INVALID',
      `The kubeconfig ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'unreadable'}).`,
      KUBECONFIG_FIX,
    );
  }
}

/** Builds the real dependencies for `options`. */
export function realDoctorDeps(
  options: DoctorOptions & { region?: string },
  env: Env = process.env,
): DoctorDeps {
  const deps: DoctorDeps = {
    fetch: createHttpFetch(),
    now: () => new Date(),
    readFile: (file) => readFile(file, 'utf8'),
    kubeClient: async (file) => {
      const text = await readKubeconfigFile(file);
      return createKubeClient(
        await readKubeconfig(text, path.dirname(path.resolve(file)), (f) => readFile(f, 'utf8')),
      );
    },
  };
  const missing = awsCredentialsMissing(env, homedir());
  // With --assume STS needs no credentials of ours; with --stack/--role-arn the user expects AWS.
  const wanted =
    missing === undefined ||
    options.assume === true ||
    options.stack !== undefined ||
    options.roleArn !== undefined;
  if (!wanted) {
    deps.awsUnavailable = missing ?? 'no credentials';
    return deps;
  }
  const aws = cliAws('doctor (--stack, --role-arn, --assume)', { flag: options.region, env });
  deps.aws = {
    cfn: aws.client(CloudFormationClient),
    iam: aws.client(IAMClient, {}, { global: true }),
    sts: aws.client(STSClient),
  };
  return deps;
}
