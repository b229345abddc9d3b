/**
 * The `/metrics` endpoint: a small node:http server that answers `GET /metrics` with a
 * prom-client registry in Prometheus text exposition, and nothing else. A Unix socket is bound
 * under umask 0177 (born 0600, like the signer's own socket) and a stale one is replaced.
 */
import { chmod } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { IrsaError } from '#core/errors.ts';
import { prepareSocketPath, removeSocket } from '../signer/socket.ts';
import { formatMetricsAddress, type MetricsAddress } from './address.ts';

/** A listening metrics endpoint. */
export interface MetricsServer {
  /** Where it listens, with the real port when 0 was asked for (`127.0.0.1:40123`, or the path). */
  address: string;
  close(): Promise<void>;
}

function handler(registry: Registry): Parameters<typeof createServer>[1] {
  return (request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics\n');
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end();
      return;
    }
    registry.metrics().then(
      (text) => {
        response.writeHead(200, { 'content-type': registry.contentType });
        response.end(request.method === 'HEAD' ? undefined : text);
      },
      () => response.writeHead(500, { 'content-type': 'text/plain' }).end('metrics collection failed\n'),
    );
  };
}

function listen(server: Server, address: MetricsAddress): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const done = () => {
      server.off('error', reject);
      resolve();
    };
    if (address.kind === 'unix') server.listen(address.path, done);
    else server.listen(address.port, address.host, done);
  });
}

/**
 * Serves `registry` on `address`. Throws `METRICS_LISTEN_FAILED` when the port or path is taken
 * (and the socket errors of `prepareSocketPath` for a path that is not a stale socket).
 */
export async function startMetricsServer(
  registry: Registry,
  address: MetricsAddress,
): Promise<MetricsServer> {
  const server = createServer(handler(registry));
  // Scrapes are short; an idle keep-alive connection must not hold shutdown open.
  server.keepAliveTimeout = 5_000;
  const previous = address.kind === 'unix' ? process.umask(0o177) : undefined;
  try {
    if (address.kind === 'unix') await prepareSocketPath(address.path);
    await listen(server, address);
  } catch (cause) {
    if (cause instanceof IrsaError) throw cause;
    throw new IrsaError(
      'METRICS_LISTEN_FAILED',
      `Cannot serve metrics on ${formatMetricsAddress(address)}: ${cause instanceof Error ? cause.message : String(cause)}`,
      'Pick a free port (or socket path) for --metrics-address, or stop the process that holds it.',
      { cause },
    );
  } finally {
    if (previous !== undefined) process.umask(previous);
  }
  let shown = formatMetricsAddress(address);
  if (address.kind === 'unix') await chmod(address.path, 0o600);
  else shown = formatMetricsAddress({ ...address, port: (server.address() as AddressInfo).port });
  let closed: Promise<void> | undefined;
  return {
    address: shown,
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }).then(() => (address.kind === 'unix' ? removeSocket(address.path) : undefined));
      return closed;
    },
  };
}
