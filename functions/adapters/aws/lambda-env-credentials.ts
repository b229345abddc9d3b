/**
 * Bundle-only replacement for `@aws-sdk/credential-provider-node` in the Lambda bundles (see the
 * esbuild `alias` in serverless.yml). Lambda always hands its role's credentials to the function
 * in the environment, so the full provider chain (SSO, INI files, process, IMDS, and the nested
 * STS/SSO clients: ~90 KB of code) is dead weight there. Tests and the CLI keep the real chain.
 */

/** Credentials as the SDK expects them. */
export interface EnvCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** Reads `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN` at each resolution. */
export function defaultProvider(): () => Promise<EnvCredentials> {
  return async () => {
    const accessKeyId = process.env.AWS_ACCESS_KEY_ID;
    const secretAccessKey = process.env.AWS_SECRET_ACCESS_KEY;
    if (
      accessKeyId === undefined ||
      accessKeyId === '' ||
      secretAccessKey === undefined ||
      secretAccessKey === ''
    ) {
      throw new Error(
        'No AWS credentials in the environment (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY); the Lambda runtime always sets them.',
      );
    }
    const sessionToken = process.env.AWS_SESSION_TOKEN;
    return sessionToken === undefined || sessionToken === ''
      ? { accessKeyId, secretAccessKey }
      : { accessKeyId, secretAccessKey, sessionToken };
  };
}
