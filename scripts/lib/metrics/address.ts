/**
 * `--metrics-address`: where the Prometheus endpoint listens. A loopback `host:port`
 * (`127.0.0.1:9464`, `[::1]:9464`, `localhost:9464`) or an absolute Unix socket path. Metrics
 * say how busy a signer is and which key is active, so by default they stay on the node: any other
 * host is refused unless the operator passes `--metrics-allow-remote`.
 */
import { isAbsolute } from 'node:path';
import { IrsaError } from '#core/errors.ts';

/** A parsed metrics address. */
export type MetricsAddress =
  | { kind: 'tcp'; host: string; port: number; loopback: boolean }
  | { kind: 'unix'; path: string };

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|localhost)$/i;

function invalid(value: string, why: string): IrsaError {
  return new IrsaError(
    'FLAG_INVALID',
    `--metrics-address "${value}" ${why}.`,
    'Pass --metrics-address 127.0.0.1:9464 (a loopback host:port) or an absolute Unix socket path such as /run/irsa-anywhere/metrics.sock.',
  );
}

/**
 * Parses `--metrics-address`. Throws `FLAG_INVALID` for anything that is not a host:port or an
 * absolute path, and `FLAG_METRICS_ADDRESS_REMOTE` for a non-loopback host without `allowRemote`.
 */
export function parseMetricsAddress(value: string, allowRemote = false): MetricsAddress {
  if (value.startsWith('/') || value.startsWith('unix://')) {
    const path = value.startsWith('unix://') ? value.slice('unix://'.length) : value;
    if (!isAbsolute(path) || Buffer.byteLength(path) > 107)
      throw invalid(value, 'must be an absolute socket path of at most 107 bytes');
    return { kind: 'unix', path };
  }
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(value);
  if (match === null) throw invalid(value, 'is neither host:port nor an absolute Unix socket path');
  const host = match[1] ?? match[2] ?? '';
  const port = Number(match[3]);
  if (port > 65_535) throw invalid(value, 'has a port above 65535');
  const loopback = LOOPBACK.test(host);
  if (!loopback && !allowRemote) {
    throw new IrsaError(
      'FLAG_METRICS_ADDRESS_REMOTE',
      `--metrics-address ${value} is not a loopback address: the metrics would be reachable from other machines.`,
      'Use 127.0.0.1:<port> or a Unix socket path and scrape through a node-local agent, or pass --metrics-allow-remote if the port is firewalled.',
    );
  }
  return { kind: 'tcp', host, port, loopback };
}

/** The address in the form an operator types (`[::1]:9464`, `/run/x.sock`). */
export function formatMetricsAddress(address: MetricsAddress): string {
  if (address.kind === 'unix') return address.path;
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}
