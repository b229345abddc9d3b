/**
 * A tiny kube-apiserver client: GET a path, POST a TokenRequest. Enough for doctor; the interface
 * is injected so checks are tested with recorded responses.
 */

import http from 'node:http';
import https from 'node:https';
import { IrsaError } from '#core/errors.ts';
import type { KubeTarget } from './kubeconfig.ts';

/** One response from kube-apiserver. */
export interface KubeResponse {
  status: number;
  body: string;
}

/** Per-request options. `accept` replaces the default `application/json`. */
export interface KubeRequestOptions {
  accept?: string;
}

/**
 * What doctor asks of a cluster. A request that gets no HTTP answer rejects with
 * `KUBE_UNREACHABLE`; any HTTP status resolves.
 */
export interface KubeClient {
  request(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    options?: KubeRequestOptions,
  ): Promise<KubeResponse>;
}

/**
 * The Accept header for kube-apiserver's `/openid/v1/jwks`: it serves only
 * `application/jwk-set+json` there and answers 406 to a bare `application/json`.
 */
export const JWKS_ACCEPT = 'application/jwk-set+json, application/json';

/** A {@link KubeClient} over node:https with the kubeconfig's CA and credentials. */
export function createKubeClient(target: KubeTarget, options: { timeoutMs?: number } = {}): KubeClient {
  const base = new URL(target.server);
  const client = base.protocol === 'http:' ? http : https;
  return {
    request: (method, path, body, requestOptions) =>
      new Promise((resolve, reject) => {
        const payload = body === undefined ? undefined : JSON.stringify(body);
        const headers: Record<string, string> = { accept: requestOptions?.accept ?? 'application/json' };
        if (payload !== undefined) headers['content-type'] = 'application/json';
        if (target.token !== undefined) headers.authorization = `Bearer ${target.token}`;
        const request = client.request(
          new URL(`${base.pathname.replace(/\/+$/, '')}${path}`, base),
          {
            method,
            headers,
            timeout: options.timeoutMs ?? 10_000,
            ...(target.ca === undefined ? {} : { ca: target.ca }),
            ...(target.clientCert === undefined ? {} : { cert: target.clientCert, key: target.clientKey }),
            ...(target.insecureSkipTlsVerify === true ? { rejectUnauthorized: false } : {}),
          },
          (response) => {
            const chunks: Buffer[] = [];
            response.on('data', (chunk: Buffer) => chunks.push(chunk));
            response.on('end', () =>
              resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
            );
            response.on('error', reject);
          },
        );
        request.on('timeout', () => request.destroy(new Error('kube-apiserver did not answer in time')));
        request.on('error', (error) =>
          reject(
            new IrsaError(
              'KUBE_UNREACHABLE',
              `Cannot reach kube-apiserver at ${target.server}: ${error.message}`,
              'Check the kubeconfig server address, its CA, and that this machine can reach the API server.',
              { cause: error },
            ),
          ),
        );
        if (payload !== undefined) request.write(payload);
        request.end();
      }),
  };
}

/** What a TokenRequest got: the token, or the HTTP status and kube-apiserver's message. */
export type TokenRequestAnswer = { token: string } | { status: number; message: string };

/** kube-apiserver's `Status.message` in an error body, or '' when the body has none. */
export function kubeStatusMessage(body: string): string {
  try {
    const message = (JSON.parse(body) as { message?: unknown } | null)?.message;
    return typeof message === 'string' ? message : '';
  } catch {
    return '';
  }
}

/**
 * Requests a token for `namespace/serviceAccount` with the TokenRequest API, as kubelet does for a
 * projected volume. An HTTP refusal is returned (the caller words the advice); a 2xx answer
 * without a token throws `KUBE_TOKEN_REQUEST_FAILED`.
 */
export async function requestServiceAccountToken(
  kube: KubeClient,
  namespace: string,
  serviceAccount: string,
  audience: string,
  expirationSeconds = 600,
): Promise<TokenRequestAnswer> {
  const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/serviceaccounts/${encodeURIComponent(serviceAccount)}/token`;
  const response = await kube.request('POST', path, {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    spec: { audiences: [audience], expirationSeconds },
  });
  if (response.status !== 201 && response.status !== 200) {
    return { status: response.status, message: kubeStatusMessage(response.body) };
  }
  let token: unknown;
  try {
    token = (JSON.parse(response.body) as { status?: { token?: unknown } } | null)?.status?.token;
  } catch {
    token = undefined;
  }
  if (typeof token !== 'string' || token === '') {
    throw new IrsaError(
      'KUBE_TOKEN_REQUEST_FAILED',
      'The TokenRequest answer holds no status.token.',
      'Check the cluster version (TokenRequest needs Kubernetes 1.22 or later).',
    );
  }
  return { token };
}

/** How kube-apiserver answered the first request: any HTTP status, or none at all. */
export type ApiServerReach = { status: number } | { unreachable: unknown };

/**
 * GET /version, which every authenticated (and usually anonymous) caller may read: an answer of
 * any status proves the server is reachable; 401 says the credentials were rejected.
 */
export async function probeApiServer(kube: KubeClient): Promise<ApiServerReach> {
  try {
    return { status: (await kube.request('GET', '/version')).status };
  } catch (error) {
    return { unreachable: error };
  }
}
