/**
 * PUT of a custom resource answer to CloudFormation's pre-signed S3 URL, with a timeout and a few
 * retries. The URL is a credential of sorts: it is never logged.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** Sends `body` with an empty Content-Type, as the pre-signed URL requires. Rejects on non-2xx. */
export function putOnce(url: string, body: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    // CloudFormation always gives https; plain http is accepted for loopback tests.
    const request = url.startsWith('http://') ? httpRequest : httpsRequest;
    const req = request(
      url,
      {
        method: 'PUT',
        headers: { 'content-type': '', 'content-length': Buffer.byteLength(body) },
        timeout: timeoutMs,
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve();
          else reject(new Error(`CloudFormation response URL answered HTTP ${status}`));
        });
      },
    );
    req.on('timeout', () =>
      req.destroy(new Error(`CloudFormation response URL timed out after ${timeoutMs} ms`)),
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** {@link putOnce} with up to 3 attempts, 5 s each. */
export async function httpsPut(url: string, body: string): Promise<void> {
  let last: unknown;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    try {
      await putOnce(url, body, 5_000);
      return;
    } catch (error) {
      last = error;
    }
  }
  throw last;
}
