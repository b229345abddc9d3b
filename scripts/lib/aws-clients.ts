/**
 * The one AWS SDK client factory of the CLI and the node agents (doctor, status/rotate --stack,
 * status --fleet, audit, key-sync, the signer). The Lambdas have their own composition root,
 * functions/adapters/compose.ts: one factory per side.
 *
 * The region is resolved once per factory, in the order the user expects: `--region`, then
 * `AWS_REGION`, then `AWS_DEFAULT_REGION` (the AWS CLI's variable, which the SDK alone ignores),
 * then the SDK's own chain (the profile's `region` in ~/.aws/config or credentials, then the EC2
 * instance metadata of a node). Nothing found is one clear `AWS_REGION_MISSING` line naming
 * `--region` and `AWS_REGION`, never the SDK's bare "Region is missing".
 *
 * Every client gets the same settings: the real per-attempt deadlines of aws-deadlines.ts and the
 * SDK's standard retry (`CLI_MAX_ATTEMPTS`). A caller overrides them only with a documented reason
 * (the signer's KMS client: one attempt, its own deadline, see signer/backends.ts).
 */
import { loadConfig, NODE_REGION_CONFIG_FILE_OPTIONS, NODE_REGION_CONFIG_OPTIONS } from '@smithy/core/config';
import { IrsaError } from '#core/errors.ts';
import { cliRequestHandler } from './aws-deadlines.ts';

type Env = Readonly<Record<string, string | undefined>>;

/** Attempts per call, the SDK's standard retry mode (throttling and 5xx are retried with backoff). */
export const CLI_MAX_ATTEMPTS = 3;

/**
 * IAM is a global service: its endpoint is the same for every region of a partition, so a missing
 * region is not an error for it; requests are signed for this region instead.
 */
export const GLOBAL_SERVICE_REGION = 'us-east-1';

/** Where the region comes from. `sdkRegion` is the SDK's profile/instance chain (injectable for tests). */
export interface RegionSources {
  /** `--region`, when the user passed it. */
  flag?: string | undefined;
  /** The environment (default `process.env`). */
  env?: Env;
  /** The SDK's region chain; undefined when it finds none. */
  sdkRegion?: () => Promise<string | undefined>;
}

/** The SDK's chain (env AWS_REGION, profile files, EC2 instance metadata); undefined when it finds none. */
async function sdkDefaultRegion(): Promise<string | undefined> {
  try {
    const region = await loadConfig(NODE_REGION_CONFIG_OPTIONS, NODE_REGION_CONFIG_FILE_OPTIONS)();
    return region === '' ? undefined : region;
  } catch {
    return undefined;
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/** The region from `sources`, or undefined when none names one. */
export async function findRegion(sources: RegionSources = {}): Promise<string | undefined> {
  const env = sources.env ?? process.env;
  return (
    nonEmpty(sources.flag) ??
    nonEmpty(env.AWS_REGION) ??
    nonEmpty(env.AWS_DEFAULT_REGION) ??
    nonEmpty(await (sources.sdkRegion ?? sdkDefaultRegion)())
  );
}

/** `AWS_REGION_MISSING` (exit 2): no region for `what`. */
export function regionMissing(what: string): IrsaError {
  return new IrsaError(
    'AWS_REGION_MISSING',
    `No AWS region is configured for ${what}.`,
    "Pass --region <region> (the stack's region), or set AWS_REGION.",
  );
}

/** Settings every CLI client gets; `Extra` adds what one service needs. */
export interface CliClientConfig {
  region: () => Promise<string>;
  maxAttempts: number;
  requestHandler: ReturnType<typeof cliRequestHandler>;
}

/** An SDK client class (`KMSClient`, `S3Client`, ...) constructible from the CLI's settings. */
export type ClientClass<C, Extra> = new (config: CliClientConfig & Extra) => C;

/** Per-client options. */
export interface ClientOptions {
  /** A global service (IAM): sign for `GLOBAL_SERVICE_REGION` when no region is configured. */
  global?: boolean;
}

/** The CLI's client factory: one region, the same deadlines and retry for every client. */
export interface CliAws {
  /** The resolved region (once; later calls reuse it). Rejects with `AWS_REGION_MISSING`. */
  region(): Promise<string>;
  /** A client of `Client` with the CLI's settings, plus `extra` (service options, documented overrides). */
  client<C, Extra extends object = object>(
    Client: ClientClass<C, Extra>,
    extra?: Extra & Partial<CliClientConfig>,
    options?: ClientOptions,
  ): C;
}

/**
 * The factory for one command. The region is resolved lazily, on the first call any client makes
 * (or `await aws.region()` to fail fast), so building clients costs nothing and reads no file.
 * `what` names what needs the region in the error ("stack \"x\"", "the kms backend").
 */
export function cliAws(what: string, sources: RegionSources = {}): CliAws {
  let found: Promise<string | undefined> | undefined;
  const lookup = () => {
    found ??= findRegion(sources);
    return found;
  };
  const region = async () => {
    const value = await lookup();
    if (value === undefined) throw regionMissing(what);
    return value;
  };
  const globalRegion = async () => (await lookup()) ?? GLOBAL_SERVICE_REGION;
  return {
    region,
    client: (Client, extra, options) =>
      new Client({
        region: options?.global === true ? globalRegion : region,
        maxAttempts: CLI_MAX_ATTEMPTS,
        requestHandler: cliRequestHandler(),
        ...extra,
      } as CliClientConfig & NonNullable<typeof extra>),
  };
}
