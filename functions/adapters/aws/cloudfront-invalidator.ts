/**
 * After a revoke, CloudFront may serve the old JWKS (with the revoked key) until its cached copy
 * expires (`max-age`, 300 s by default). The rotate function therefore invalidates the two document
 * paths on its own distribution (the IAM grant names only that distribution's ARN).
 *
 * One `CreateInvalidation` call, signed with the SDK's own SigV4 signer and sent with node:https,
 * instead of `@aws-sdk/client-cloudfront`: that client alone would add ~26 KB to the rotate zip,
 * past its 150 KB budget, for a single fixed XML request.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, Provider, SourceData } from '@smithy/types';

const API_VERSION = '2020-05-31';
const HOST = 'cloudfront.amazonaws.com';

/** The two public document paths below the issuer's path prefix (`''` or `team-a`). */
export function documentPaths(publicPrefix: string): string[] {
  const base = publicPrefix === '' ? '' : `/${publicPrefix}`;
  return [`${base}/.well-known/openid-configuration`, `${base}/openid/v1/jwks`];
}

/** Invalidates `paths`; `reference` makes a retried call idempotent (CloudFront's CallerReference). */
export type Invalidate = (paths: readonly string[], reference: string) => Promise<string | undefined>;

/** The request body of CreateInvalidation (restXml). */
export function invalidationBody(paths: readonly string[], reference: string): string {
  const xml = (text: string) =>
    text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  const items = paths.map((path) => `<Path>${xml(path)}</Path>`).join('');
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    `<InvalidationBatch xmlns="http://cloudfront.amazonaws.com/doc/${API_VERSION}/">` +
    `<Paths><Quantity>${paths.length}</Quantity><Items>${items}</Items></Paths>` +
    `<CallerReference>${xml(reference)}</CallerReference></InvalidationBatch>`
  );
}

/** SHA-256 (and HMAC-SHA-256 with a secret) in the shape the SigV4 signer expects. */
class Sha256 {
  readonly #secret: SourceData | undefined;
  #hash: Hash | Hmac;
  constructor(secret?: SourceData) {
    this.#secret = secret;
    this.#hash = Sha256.#make(secret);
  }
  static #make(secret: SourceData | undefined): Hash | Hmac {
    if (secret === undefined) return createHash('sha256');
    return createHmac('sha256', typeof secret === 'string' ? secret : Sha256.#bytes(secret));
  }
  static #bytes(data: ArrayBuffer | ArrayBufferView): Uint8Array {
    return data instanceof ArrayBuffer
      ? new Uint8Array(data)
      : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }
  reset(): void {
    this.#hash = Sha256.#make(this.#secret);
  }
  update(data: SourceData): void {
    this.#hash.update(typeof data === 'string' ? data : Sha256.#bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#hash.digest());
  }
}

/** Where the request goes; tests point it at a loopback server. */
export interface InvalidatorOptions {
  credentials: Provider<AwsCredentialIdentity>;
  /** Override of `https://cloudfront.amazonaws.com` (tests). */
  endpoint?: URL;
  timeoutMs?: number;
}

/** An {@link Invalidate} on one distribution; returns the invalidation id. */
export function cloudFrontInvalidator(distributionId: string, options: InvalidatorOptions): Invalidate {
  const signer = new SignatureV4({
    service: 'cloudfront',
    region: 'us-east-1',
    credentials: options.credentials,
    sha256: Sha256,
  });
  const endpoint = options.endpoint ?? new URL(`https://${HOST}`);
  return async (paths, reference) => {
    const body = invalidationBody(paths, reference);
    const signed = await signer.sign({
      method: 'POST',
      protocol: endpoint.protocol,
      hostname: endpoint.hostname,
      ...(endpoint.port === '' ? {} : { port: Number(endpoint.port) }),
      path: `/${API_VERSION}/distribution/${encodeURIComponent(distributionId)}/invalidation`,
      query: {},
      headers: {
        host: endpoint.host,
        'content-type': 'text/xml',
        'content-length': String(Buffer.byteLength(body)),
      },
      body,
    });
    const answer = await send(endpoint, signed.path, signed.headers, body, options.timeoutMs ?? 10_000);
    return /<Id>([^<]+)<\/Id>/.exec(answer)?.[1];
  };
}

function send(
  endpoint: URL,
  path: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
): Promise<string> {
  return new Promise((resolve, reject) => {
    // Plain http only for a loopback test server; AWS is always https.
    const loopback = endpoint.hostname === '127.0.0.1' || endpoint.hostname === 'localhost';
    const request = endpoint.protocol === 'http:' && loopback ? httpRequest : httpsRequest;
    const req = request(
      {
        protocol: endpoint.protocol,
        hostname: endpoint.hostname,
        port: endpoint.port,
        path,
        method: 'POST',
        headers,
        timeout: timeoutMs,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve(text);
          else
            reject(new Error(`CloudFront CreateInvalidation answered HTTP ${status}: ${text.slice(0, 300)}`));
        });
      },
    );
    req.on('timeout', () =>
      req.destroy(new Error(`CloudFront CreateInvalidation timed out after ${timeoutMs} ms`)),
    );
    req.on('error', reject);
    req.end(body);
  });
}
