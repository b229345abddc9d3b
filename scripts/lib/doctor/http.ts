/**
 * HTTP for doctor, the way STS fetches: https with the system's trusted roots, redirects NOT
 * followed (STS does not follow them), a timeout and a size cap. Plain http only for loopback.
 */
import http from 'node:http';
import https from 'node:https';
import { isLoopbackHost } from '#core/issuer.ts';

/** One HTTP exchange. `status` is 0 when no response arrived (`tlsError` or `networkError` says why). */
export interface HttpResult {
  url: string;
  status: number;
  headers: Record<string, string>;
  body: string;
  tlsError?: string;
  networkError?: string;
}

/** Fetches one URL without following redirects. Never throws for network or TLS failures. */
export type HttpFetch = (url: string) => Promise<HttpResult>;

/** Largest document doctor reads. */
export const MAX_BODY_BYTES = 1_048_576;

const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS|ERR_SSL|EPROTO|HOSTNAME/;

function failure(url: string, error: NodeJS.ErrnoException): HttpResult {
  const code = error.code ?? '';
  const text = `${code === '' ? '' : `${code}: `}${error.message}`;
  return TLS_CODES.test(code) || TLS_CODES.test(error.message)
    ? { url, status: 0, headers: {}, body: '', tlsError: text }
    : { url, status: 0, headers: {}, body: '', networkError: text };
}

/**
 * The real fetch: node:https (or node:http for a loopback host), certificate checked against the
 * trusted roots, no redirects followed, `timeoutMs` for the whole exchange.
 */
export function createHttpFetch(options: { timeoutMs?: number } = {}): HttpFetch {
  const timeoutMs = options.timeoutMs ?? 10_000;
  return (url) =>
    new Promise((resolve) => {
      let parsed: URL;
      try {
        parsed = new URL(url);
      } catch {
        resolve({ url, status: 0, headers: {}, body: '', networkError: 'not a URL' });
        return;
      }
      const loopback = isLoopbackHost(parsed.hostname.toLowerCase()) || parsed.hostname === '::1';
      if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && loopback)) {
        resolve({
          url,
          status: 0,
          headers: {},
          body: '',
          networkError: `${parsed.protocol} is not fetched (https only)`,
        });
        return;
      }
      const client = parsed.protocol === 'https:' ? https : http;
      const request = client.get(
        parsed,
        { timeout: timeoutMs, headers: { accept: 'application/json' } },
        (response) => {
          const chunks: Buffer[] = [];
          let size = 0;
          response.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_BODY_BYTES) {
              request.destroy(new Error(`response larger than ${MAX_BODY_BYTES} bytes`));
              return;
            }
            chunks.push(chunk);
          });
          response.on('end', () => {
            const headers: Record<string, string> = {};
            for (const [name, value] of Object.entries(response.headers)) {
              if (value !== undefined)
                headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
            }
            resolve({
              url,
              status: response.statusCode ?? 0,
              headers,
              body: Buffer.concat(chunks).toString('utf8'),
            });
          });
          response.on('error', (error) => resolve(failure(url, error)));
        },
      );
      request.on('timeout', () =>
        request.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })),
      );
      request.on('error', (error: NodeJS.ErrnoException) => resolve(failure(url, error)));
    });
}

/** One sentence saying why a fetch did not give a usable 200, or undefined when it did. */
export function describeFetchProblem(response: HttpResult): string | undefined {
  if (response.tlsError !== undefined) return `TLS failed: ${response.tlsError}`;
  if (response.networkError !== undefined) return `no response: ${response.networkError}`;
  if (response.status >= 300 && response.status < 400) {
    return `HTTP ${response.status} redirect to ${response.headers.location ?? '(no location)'}; STS does not follow redirects`;
  }
  if (response.status !== 200) return `HTTP ${response.status}`;
  return undefined;
}
