/** Test helpers for metrics: scrape an endpoint and read one sample out of the exposition text. */
import { request } from 'node:http';

/** GETs `/metrics` from `address` (`host:port` or a Unix socket path); resolves status and body. */
export function scrape(
  address: string,
  path = '/metrics',
): Promise<{ status: number; body: string; type: string }> {
  const target = address.startsWith('/')
    ? { socketPath: address }
    : (() => {
        const url = new URL(`http://${address}`);
        return { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port) };
      })();
  return new Promise((resolve, reject) => {
    const req = request({ ...target, path, method: 'GET' }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          body: Buffer.concat(chunks).toString('utf8'),
          type: String(response.headers['content-type']),
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

/** The value of the sample `series` (name plus its exact `{labels}`), or undefined. */
export function sample(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

/** Every sample line of metric family `prefix` (no comments). */
export function lines(text: string, prefix: string): string[] {
  return text.split('\n').filter((line) => line.startsWith(prefix));
}
