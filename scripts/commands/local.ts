/**
 * `irsa-anywhere local` (what `npm start` runs): the whole system on loopback with software keys.
 * Prints the issuer, a sample token and its verification, a trust policy and the kube-apiserver
 * flags, then serves until interrupted.
 */
import { existsSync } from 'node:fs';
import { localPaths } from '#adapters/local/fs-store.ts';
import { parseKeySpec, readLocalConfig } from '#adapters/local/local-config.ts';
import { IrsaError } from '#core/errors.ts';
import { DEFAULT_AUDIENCE } from '#core/token-claims.ts';
import { buildTrustPolicy, oidcProviderArn } from '#core/trust-policy.ts';
import { verifyToken } from '#core/verify-token.ts';
import { type Io, parseIntFlag, type Register, runCommand, waitForShutdown } from '../lib/cli-support.ts';
import { fetchJson } from '../lib/fetch-json.ts';
import { mintLocalToken, type RunningLocalIssuer, startLocalIssuer } from '../lib/local-issuer.ts';
import { assertLoopbackHost, localIssuerUrl } from '../lib/local-server.ts';

/** The account id printed in the sample trust policy: AWS's documentation example account. */
const EXAMPLE_ACCOUNT_ID = '111122223333';

/**
 * The signer socket of the kind flow (docs/signer.md): a directory a non-root user can create (the
 * signer makes it 0700), mounted into the kind node.
 */
const KIND_SOCKET = '/tmp/irsa-kind/signer.sock';

/**
 * The kube-apiserver flags for a kind cluster signing through the local issuer: only flags
 * kube-apiserver accepts with an http issuer (it refuses an http --service-account-jwks-uri, and
 * serves no discovery for an http issuer, which a laptop cluster does not need).
 */
export function localApiserverFlags(dir: string, issuer: string): string[] {
  return [
    `kube-apiserver flags for a kind cluster signing through this issuer (run \`irsa-anywhere signer serve --backend local --dir ${dir} --socket ${KIND_SOCKET}\``,
    `on the host, and \`irsa-anywhere apiserver configure --distro kind --issuer ${issuer} --signer-socket ${KIND_SOCKET}\` writes the kind config; see docs/signer.md):`,
    `  --service-account-issuer=${issuer}`,
    `  --service-account-signing-endpoint=${KIND_SOCKET}`,
    '  --api-audiences=sts.amazonaws.com,https://kubernetes.default.svc.cluster.local',
    'No --service-account-jwks-uri: kube-apiserver requires https for it. A real cluster needs the https issuer of a deployed stack.',
  ];
}

/** Prints what a user needs to try the issuer: token, verification, trust policy, flags. */
export async function printLocalWelcome(io: Io, dir: string, running: RunningLocalIssuer): Promise<void> {
  const { issuer } = running;
  const token = await mintLocalToken({
    dir,
    namespace: 'default',
    serviceAccount: 'demo',
    audiences: [DEFAULT_AUDIENCE],
    ttlSeconds: 3600,
    now: new Date(),
  });
  const verified = await verifyToken(token, {
    issuer,
    audiences: [DEFAULT_AUDIENCE],
    now: new Date(),
    fetchJson: (url) => fetchJson(url),
  });
  const policy = buildTrustPolicy({
    providerArn: oidcProviderArn(EXAMPLE_ACCOUNT_ID, issuer),
    issuer,
    serviceAccounts: [{ namespace: 'default', serviceAccount: 'demo' }],
  });
  const steps = running.report.steps.map((step) => step.action.type).join(', ') || 'none (keys are current)';
  io.out(
    [
      `irsa-anywhere local issuer`,
      `  issuer:     ${issuer}`,
      `  discovery:  ${issuer}/.well-known/openid-configuration`,
      `  jwks:       ${issuer}/openid/v1/jwks`,
      `  state:      ${dir} (rotation steps this start: ${steps})`,
      '',
      'Sample projected token (system:serviceaccount:default:demo, aud sts.amazonaws.com):',
      token,
      '',
      `Verified the way STS does: ACCEPTED (kid ${verified.header.kid}, ${verified.header.alg})`,
      '',
      `Trust policy for a role (account ${EXAMPLE_ACCOUNT_ID} is a placeholder):`,
      JSON.stringify(policy, null, 2),
      '',
      ...localApiserverFlags(dir, issuer),
      '',
      `Try: npx irsa-anywhere token mint --dir ${dir} --namespace default --service-account demo > token.jwt`,
      `     npx irsa-anywhere verify --issuer ${issuer} --token token.jwt`,
      'Serving until interrupted (Ctrl-C).',
    ].join('\n'),
  );
}

/**
 * The issuer is `http://<host>:<port>`, and every token names it: a start on another port would
 * silently break every token minted before. `--port 0` (a new port each start) is refused for a
 * directory that already has an issuer; another fixed port is refused with the flag that keeps it.
 */
async function refuseIssuerChange(dir: string, host: string, port: number): Promise<void> {
  if (!existsSync(localPaths(dir).config)) return;
  const { config } = await readLocalConfig(dir);
  const wanted = port === 0 ? null : localIssuerUrl(host, port);
  if (wanted === config.issuer) return;
  const previous = new URL(config.issuer);
  throw new IrsaError(
    'FLAG_INVALID',
    `${port === 0 ? '--port 0 picks a new port, and so a new issuer, on every start' : `--host ${host} --port ${port} would change the issuer`}; ${dir} already serves ${config.issuer} and tokens it minted would stop verifying.`,
    `Pass --host ${previous.hostname} --port ${previous.port}, or use a new --dir for a new issuer.`,
  );
}

interface LocalOptions {
  dir: string;
  host: string;
  port: string;
  keySpec?: string;
}

export const register: Register = (program, io, setExit) => {
  program
    .command('local')
    .description(
      'Run the local issuer: software keys in --dir, documents served on loopback. `npm start` runs this.',
    )
    .option('--dir <dir>', 'state directory', '.irsa-anywhere')
    .option('--host <host>', 'loopback address to serve on', '127.0.0.1')
    .option('--port <port>', 'port to serve on (0 picks a free one)', '8900')
    .option('--key-spec <spec>', 'RSA_2048 (default) or ECC_NIST_P256, for new keys')
    .action(async (opts: LocalOptions) => {
      let running: RunningLocalIssuer | undefined;
      const code = await runCommand(io, async () => {
        assertLoopbackHost(opts.host);
        const port = parseIntFlag('--port', opts.port, 0, 65_535);
        const keySpec = opts.keySpec === undefined ? undefined : parseKeySpec(opts.keySpec);
        await refuseIssuerChange(opts.dir, opts.host, port);
        running = await startLocalIssuer({
          dir: opts.dir,
          host: opts.host,
          port,
          rotateEveryMs: 60_000,
          ...(keySpec === undefined ? {} : { keySpec }),
        });
        await printLocalWelcome(io, opts.dir, running);
      });
      if (code !== 0 || running === undefined) {
        await running?.close();
        setExit(code);
        return;
      }
      const issuer = running;
      await waitForShutdown(() => issuer.close());
      setExit(0);
    });
};
