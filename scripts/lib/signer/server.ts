/**
 * The gRPC server: serves one {@link SignerService} as `ExternalJWTSigner` under both the `v1`
 * and `v1alpha1` packages on a Unix socket, logs every failed call as one JSON line, and removes
 * its socket on shutdown.
 */
import {
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  type ServiceError,
  type sendUnaryData,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { formatError, IrsaError, isIrsaError } from '#core/errors.ts';
import type { SignerObserver } from '../metrics/signer-metrics.ts';
import type { SignerLog } from './log.ts';
import { loadSignerService, SIGNER_PACKAGES } from './proto.ts';
import type { SignerService } from './service.ts';
import { statusFor } from './service.ts';
import {
  checkBoundSocket,
  parseSocket,
  prepareSocketPath,
  removeSocket,
  type SocketAddress,
} from './socket.ts';

/** A running signer server. */
export interface RunningSigner {
  address: SocketAddress;
  /** Stops accepting calls, waits up to `graceMs` for calls in flight, removes the socket. */
  close(graceMs?: number): Promise<void>;
}

/**
 * The gRPC server options the signer runs with (the benchmark's bare-server floor uses the same).
 * Channelz (call statistics for an admin service we do not serve) costs CPU on every call.
 */
export const SIGNER_SERVER_OPTIONS = {
  'grpc.max_receive_message_length': 1024 * 1024,
  'grpc.enable_channelz': 0,
} as const;

function failure(error: unknown): Partial<ServiceError> {
  // The message is the IrsaError's one-liner: codes and kids, never claims or key material.
  return { code: statusFor(error), details: formatError(error) };
}

function implementation(
  service: SignerService,
  log: SignerLog,
  pkg: string,
  metrics: SignerObserver | undefined,
): UntypedServiceImplementation {
  const logFailure = (rpc: string, error: unknown, started: bigint) =>
    log.log(statusFor(error) === 3 ? 'warn' : 'error', `${rpc} failed`, {
      rpc,
      package: pkg,
      grpcStatus: statusFor(error),
      code: isIrsaError(error) ? error.code : 'UNEXPECTED',
      error: formatError(error),
      ms: Number(process.hrtime.bigint() - started) / 1e6,
    });
  return {
    Sign(call: ServerUnaryCall<{ claims?: unknown }, unknown>, callback: sendUnaryData<unknown>) {
      const started = process.hrtime.bigint();
      service.sign(call.request.claims).then(
        (response) => {
          metrics?.signDone(started, undefined);
          callback(null, response);
        },
        (error: unknown) => {
          metrics?.signDone(started, error);
          logFailure('Sign', error, started);
          callback(failure(error));
        },
      );
    },
    FetchKeys(_call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) {
      const started = process.hrtime.bigint();
      try {
        const keys = service.fetchKeys();
        metrics?.fetchKeysDone(undefined);
        callback(null, keys);
      } catch (error) {
        metrics?.fetchKeysDone(error);
        logFailure('FetchKeys', error, started);
        callback(failure(error));
      }
    },
    Metadata(_call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) {
      callback(null, service.metadata());
    },
  };
}

function bind(server: Server, target: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.bindAsync(target, ServerCredentials.createInsecure(), (error) =>
      error ? reject(error) : resolve(),
    );
  });
}

/**
 * Starts serving `service` on `socket` (a path, `unix:///path` or `@name`). For a path: creates
 * the parent directory 0700 and refuses one other users can write, replaces a stale socket (never
 * a live one, never a non-socket), binds with umask 0177 and checks with lstat that the socket is
 * ours and 0600 before the server accepts calls (see `socket.ts`).
 */
export async function startSignerServer(options: {
  socket: string;
  service: SignerService;
  log: SignerLog;
  metrics?: SignerObserver;
}): Promise<RunningSigner> {
  const address = parseSocket(options.socket);
  const server = new Server(SIGNER_SERVER_OPTIONS);
  for (const pkg of SIGNER_PACKAGES) {
    server.addService(
      loadSignerService(pkg).service,
      implementation(options.service, options.log, pkg, options.metrics),
    );
  }
  let inode: number | undefined;
  if (address.kind === 'path') {
    const { replacedStale, dirMode } = await prepareSocketPath(address.path);
    if (replacedStale) options.log.log('warn', 'replaced a stale socket', { socket: address.path });
    if ((dirMode & 0o077) !== 0) {
      options.log.log('warn', 'the socket directory is readable by other users; the socket itself is 0600', {
        code: 'SIGNER_SOCKET_DIR_OPEN',
        socket: address.path,
        dirMode: `0${dirMode.toString(8)}`,
      });
    }
    const previous = process.umask(0o177);
    try {
      await bind(server, address.grpcTarget);
    } catch (cause) {
      throw new IrsaError(
        'SIGNER_SOCKET_BIND_FAILED',
        `Cannot listen on ${address.path}: ${cause instanceof Error ? cause.message : String(cause)}`,
        'Check that the directory is writable by the signer and no other process owns the path.',
        { cause },
      );
    } finally {
      process.umask(previous);
    }
    try {
      inode = await checkBoundSocket(address.path);
    } catch (error) {
      server.forceShutdown();
      throw error;
    }
  } else {
    try {
      await bind(server, address.grpcTarget);
    } catch (cause) {
      throw new IrsaError(
        'SIGNER_SOCKET_BIND_FAILED',
        `Cannot listen on abstract socket @${address.name}: ${cause instanceof Error ? cause.message : String(cause)}`,
        'Another process may hold that name; stop it or pass another --socket @name.',
        { cause },
      );
    }
  }
  options.log.log('info', 'signer listening', { socket: options.socket, packages: SIGNER_PACKAGES });
  let closed: Promise<void> | undefined;
  return {
    address,
    close(graceMs = 5_000) {
      closed ??= new Promise<void>((resolve) => {
        const timer = setTimeout(() => server.forceShutdown(), graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }).then(async () => {
        if (address.kind === 'path') await removeSocket(address.path, inode);
        options.log.log('info', 'signer stopped', { socket: options.socket });
      });
      return closed;
    },
  };
}
