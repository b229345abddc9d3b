/**
 * The local issuer's HTTP server: serves exactly the two public documents from `<dir>/public`,
 * as CloudFront does for a deployed stack. Loopback only.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { localPaths } from '#adapters/local/fs-store.ts';
import { IrsaError } from '#core/errors.ts';

const LOOPBACK_HOST = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|::1)$/;

/** Throws `FLAG_INVALID` unless `host` is a loopback address: the local issuer is plain http. */
export function assertLoopbackHost(host: string): void {
  if (!LOOPBACK_HOST.test(host)) {
    throw new IrsaError(
      'FLAG_INVALID',
      `--host ${host} is not a loopback address; the local issuer serves plain http.`,
      'Use --host 127.0.0.1 (or localhost); deploy the AWS stack for an https issuer.',
    );
  }
}

/** A running local server. */
export interface LocalServer {
  server: Server;
  port: number;
  close(): Promise<void>;
}

/**
 * Binds `host:port` (port 0 picks a free one) and serves the documents. Fails with
 * `LOCAL_PORT_IN_USE` before anything else happens when the port is taken.
 */
export async function startLocalServer(
  dir: string,
  host: string,
  port: number,
  maxAgeSeconds: number,
): Promise<LocalServer> {
  assertLoopbackHost(host);
  const paths = localPaths(dir);
  const routes = new Map([
    ['/.well-known/openid-configuration', paths.discovery],
    ['/openid/v1/jwks', paths.jwks],
  ]);
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    const file = routes.get(path);
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (file === undefined) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    readFile(file).then(
      (body) => {
        response.writeHead(200, {
          'content-type': 'application/json',
          'cache-control': `public, max-age=${maxAgeSeconds}`,
          'content-length': body.length,
        });
        response.end(request.method === 'HEAD' ? undefined : body);
      },
      () => response.writeHead(503, { 'content-type': 'text/plain' }).end('not published yet\n'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') {
        reject(
          new IrsaError(
            'LOCAL_PORT_IN_USE',
            `Port ${port} on ${host} is already in use.`,
            `Stop what uses it, or pass another --port (e.g. --port ${port + 1}).`,
          ),
        );
      } else reject(error);
    });
    server.listen(port, host, () => resolve());
  });
  const actualPort = (server.address() as AddressInfo).port;
  return {
    server,
    port: actualPort,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The issuer URL of a local server: `http://host:port`, with IPv6 in brackets. */
export function localIssuerUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
