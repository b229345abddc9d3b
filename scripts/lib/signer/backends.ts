/**
 * The signer's backends: where the keyset comes from and what signs. `kms` reads `keyset.json`
 * from the state bucket and signs with KMS; `local` uses the local issuer's directory. Both give
 * the same pair of ports, so tests inject fakes (for example one that is "down") the same way.
 */
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { KmsSigner } from '#adapters/aws/kms-signer.ts';
import { S3KeysetStore } from '#adapters/aws/s3-keyset-store.ts';
import { LocalKeysetStore, localPaths } from '#adapters/local/fs-store.ts';
import { LocalKeys } from '#adapters/local/software-keys.ts';
import type { SigningBackend } from '#core/ports.ts';
import { type CliAws, cliAws } from '../aws-clients.ts';
import { parseStateUrl } from '../state-url.ts';
import type { KeysetSource } from './keyset-cache.ts';

/** A keyset source and a signing backend, plus a name for logs. */
export interface SignerBackend {
  source: KeysetSource;
  signer: SigningBackend;
  describe: string;
}

/** Where and as whom the signer's KMS client talks (endpoint and credentials: the benchmark's fake KMS). */
export interface SignerKmsClientOptions {
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

/** The signer's factory: its region is `--region`, then the CLI's usual chain. */
export function signerAws(region?: string): CliAws {
  return cliAws('the kms backend (S3 and KMS)', { flag: region });
}

/**
 * The signer's KMS client, from the CLI's factory with two documented overrides. One attempt per
 * call with short timeouts: the signer's own bounded retry handles throttling within the Sign
 * deadline, so SDK retries would only multiply the wait. Connections are kept alive and reused
 * (the SDK's default agent; `npm run bench` counts the connections), and the client is built
 * once, never per call.
 */
export function signerKmsClient(aws: CliAws, options: SignerKmsClientOptions = {}): KMSClient {
  return aws.client(KMSClient, {
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 1_000, requestTimeout: 3_000, throwOnRequestTimeout: true },
    // Resolve the middleware stack once per command class, not on every Sign: a large share of
    // the SDK's per-call CPU in the profile (see docs/benchmarks.md).
    cacheMiddleware: true,
  });
}

/**
 * kms backend: keyset from S3 (`S3KeysetStore`), signatures from KMS (`KmsSigner`). Resolves the
 * region first, so a node without one fails at start (`AWS_REGION_MISSING`), not on every Sign.
 */
export async function kmsBackend(options: { state: string; region?: string }): Promise<SignerBackend> {
  const { bucket, key } = parseStateUrl(options.state);
  const aws = signerAws(options.region);
  await aws.region();
  return {
    source: new S3KeysetStore({ s3: aws.client(S3Client), bucket, key }),
    signer: new KmsSigner({ kms: signerKmsClient(aws) }),
    describe: `s3://${bucket}/${key}`,
  };
}

/** local backend: the local issuer's `state/keyset.json` and software keys under `dir`. */
export function localBackend(dir: string): SignerBackend {
  const paths = localPaths(dir);
  return {
    source: new LocalKeysetStore(paths.state),
    signer: new LocalKeys(paths.state),
    describe: paths.keyset,
  };
}
