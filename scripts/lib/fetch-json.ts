/**
 * Fetching the issuer's public documents the way STS does: one GET, no redirects followed (STS
 * fails on them), a time limit and a size limit, and JSON or a clear error.
 */
import { IrsaError } from '#core/errors.ts';

/** The largest document we read; a JWKS of 100 RSA keys is well under this. */
const MAX_BYTES = 1_000_000;

/** Options for {@link fetchJson}. */
export interface FetchJsonOptions {
  timeoutMs?: number;
  /** Injected for tests; the global fetch by default. */
  fetchImpl?: typeof fetch;
}

/** GETs `url` and returns its parsed JSON body. Throws `FETCH_*` errors that name the URL. */
export async function fetchJson(url: string, options: FetchJsonOptions = {}): Promise<unknown> {
  const fetchImpl = options.fetchImpl ?? fetch;
  let response: Response;
  try {
    response = await fetchImpl(url, {
      redirect: 'manual',
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      headers: { accept: 'application/json' },
    });
  } catch (error) {
    throw new IrsaError(
      'FETCH_FAILED',
      `Cannot reach ${url}: ${(error as Error).message}.`,
      'Check that the issuer is up and reachable from here (DNS, firewall, TLS certificate).',
      { cause: error },
    );
  }
  if (response.status >= 300 && response.status < 400) {
    throw new IrsaError(
      'FETCH_REDIRECT',
      `${url} answers with a redirect (${response.status}) to ${response.headers.get('location') ?? '?'}.`,
      'STS does not follow redirects: serve the documents at the issuer URL itself (for CloudFront, use the regional S3 origin domain).',
    );
  }
  if (response.status !== 200) {
    throw new IrsaError(
      'FETCH_STATUS',
      `${url} answers HTTP ${response.status}.`,
      'Publish the document at that path (run the rotate function, or restart the local issuer).',
    );
  }
  const text = await response.text();
  if (text.length > MAX_BYTES) {
    throw new IrsaError(
      'FETCH_TOO_LARGE',
      `${url} is larger than ${MAX_BYTES} bytes.`,
      'Serve the real discovery document or JWKS at that path.',
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new IrsaError(
      'FETCH_NOT_JSON',
      `${url} is not JSON.`,
      'Serve the discovery document and JWKS as JSON (Content-Type application/json).',
      { cause: error },
    );
  }
}
