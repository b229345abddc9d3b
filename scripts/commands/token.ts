/** `irsa-anywhere token mint`: a projected service-account token from the local issuer. */
import { assertLocalDir, readLocalConfig } from '#adapters/local/local-config.ts';
import { DEFAULT_AUDIENCE } from '#core/token-claims.ts';
import { parseIntFlag, parseTimeFlag, type Register, runCommand } from '../lib/cli-support.ts';
import { mintLocalToken } from '../lib/local-issuer.ts';

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

/** `--ttl`: 600 s up to the local issuer's maximum token lifetime, one range in every message. */
async function parseTtl(dir: string, ttl: string): Promise<number> {
  await assertLocalDir(dir);
  const { policy } = await readLocalConfig(dir);
  return parseIntFlag('--ttl', ttl, 600, policy.maxTokenLifetimeSeconds);
}

export const register: Register = (program, io, setExit) => {
  const token = program.command('token').description('Tokens from the local issuer.');
  token
    .command('mint')
    .description(
      'Print one compact JWT signed by the active local key, shaped like a projected service-account token.',
    )
    .option('--dir <dir>', 'local issuer directory', '.irsa-anywhere')
    .requiredOption('--namespace <ns>', 'namespace of the service account')
    .requiredOption('--service-account <sa>', 'service account name')
    .option('--audience <aud>', 'audience (repeatable); default sts.amazonaws.com', collect)
    .option('--ttl <seconds>', 'lifetime in seconds', '3600')
    .option('--at <iso-time>', 'issue the token as if at this time (testing)')
    .action(
      async (opts: {
        dir: string;
        namespace: string;
        serviceAccount: string;
        audience?: string[];
        ttl: string;
        at?: string;
      }) => {
        setExit(
          await runCommand(io, async () => {
            const jwt = await mintLocalToken({
              dir: opts.dir,
              namespace: opts.namespace,
              serviceAccount: opts.serviceAccount,
              audiences: opts.audience ?? [DEFAULT_AUDIENCE],
              ttlSeconds: await parseTtl(opts.dir, opts.ttl),
              now: opts.at === undefined ? new Date() : parseTimeFlag('--at', opts.at),
            });
            io.out(jwt);
          }),
        );
      },
    );
};
