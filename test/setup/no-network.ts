/**
 * Unit tests never reach the network: any connection to a host that is not loopback fails the
 * test at once. Loopback stays open for the local issuer, the signer socket and moto_server.
 */
import net from 'node:net';

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost|::ffff:127\.\d+\.\d+\.\d+)$/;
const originalConnect = net.Socket.prototype.connect;

type ConnectArgs = Parameters<typeof originalConnect>;

function hostOf(args: unknown[]): string | undefined {
  const first = args[0];
  if (Array.isArray(first)) return hostOf(first);
  if (first !== null && typeof first === 'object') {
    const options = first as { host?: string; path?: string };
    if (options.path !== undefined) return undefined; // Unix socket
    return options.host ?? 'localhost';
  }
  if (typeof first === 'number') return typeof args[1] === 'string' ? args[1] : 'localhost';
  return undefined; // a path string: Unix socket
}

net.Socket.prototype.connect = function connect(this: net.Socket, ...args: ConnectArgs) {
  const host = hostOf(args);
  if (host !== undefined && !LOOPBACK.test(host)) {
    throw new Error(`network access to ${host} is forbidden in tests: inject a fake instead`);
  }
  return originalConnect.apply(this, args);
} as typeof originalConnect;
