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

/** What doctor asks of a cluster. */
export interface KubeClient {
  request(method: 'GET' | 'POST', path: string, body?: unknown): Promise<KubeResponse>;
}

/** A {@link KubeClient} over node:https with the kubeconfig's CA and credentials. */
export function createKubeClient(target: KubeTarget, options: { timeoutMs?: number } = {}): KubeClient {
  const base = new URL(target.server);
  const client = base.protocol === 'http:' ? http : https;
  return {
    request: (method, path, body) =>
      new Promise((resolve, reject) => {
        const payload = body === undefined ? undefined : JSON.stringify(body);
        const headers: Record<string, string> = { accept: 'application/json' };
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

/**
 * Requests a token for `namespace/serviceAccount` with the TokenRequest API, as kubelet does for a
 * projected volume. Throws `KUBE_TOKEN_REQUEST_FAILED` with the API's message.
 */
export async function requestServiceAccountToken(
  kube: KubeClient,
  namespace: string,
  serviceAccount: string,
  audience: string,
  expirationSeconds = 600,
): Promise<string> {
  const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/serviceaccounts/${encodeURIComponent(serviceAccount)}/token`;
  const response = await kube.request('POST', path, {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    spec: { audiences: [audience], expirationSeconds },
  });
  let parsed: { status?: { token?: unknown }; message?: unknown } = {};
  try {
    parsed = JSON.parse(response.body) as typeof parsed;
  } catch {
    // reported below
  }
  const token = parsed.status?.token;
  if (response.status !== 201 && response.status !== 200) {
    throw new IrsaError(
      'KUBE_TOKEN_REQUEST_FAILED',
      `TokenRequest for ${namespace}/${serviceAccount} failed with HTTP ${response.status}${typeof parsed.message === 'string' ? `: ${parsed.message}` : ''}.`,
      response.status === 404
        ? `Create the service account first: kubectl -n ${namespace} create serviceaccount ${serviceAccount}.`
        : 'Use a kubeconfig allowed to create serviceaccounts/token in that namespace (RBAC verb "create" on "serviceaccounts/token").',
    );
  }
  if (typeof token !== 'string' || token === '') {
    throw new IrsaError(
      'KUBE_TOKEN_REQUEST_FAILED',
      'The TokenRequest answer holds no status.token.',
      'Check the cluster version (TokenRequest needs Kubernetes 1.22 or later).',
    );
  }
  return token;
}
