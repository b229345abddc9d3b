/**
 * Starting a signer from its parts: read the keyset, check the settings, listen, refresh. Used by
 * the `signer` command, the tests and the benchmark.
 */
import type { Clock } from '#core/ports.ts';
import type { MetricsAddress } from '../metrics/address.ts';
import { type MetricsServer, startMetricsServer } from '../metrics/server.ts';
import { createSignerMetrics } from '../metrics/signer-metrics.ts';
import type { SignerBackend } from './backends.ts';
import { resolveSettings, type SignerSettings } from './config.ts';
import type { ExtraKey } from './extra-keys.ts';
import { KeysetCache } from './keyset-cache.ts';
import { jsonLog, type SignerLog } from './log.ts';
import { type RunningSigner, startSignerServer } from './server.ts';
import { SignerService } from './service.ts';

/** Everything a signer needs. */
export interface SignerOptions {
  socket: string;
  backend: SignerBackend;
  settings?: SignerSettings;
  extraKeys?: readonly ExtraKey[];
  log?: SignerLog;
  clock?: Clock;
  /** Re-read the keyset every refresh interval (default true). */
  refresh?: boolean;
  /** Serve Prometheus metrics there (`--metrics-address`); off when absent. */
  metrics?: MetricsAddress;
}

/** A running signer with its parts, for tests. */
export interface Signer extends RunningSigner {
  service: SignerService;
  cache: KeysetCache;
  /** The metrics endpoint, when `metrics` was given. */
  metrics?: MetricsServer;
}

/**
 * Reads the keyset (failing if it cannot: a signer with no keys must not start), then serves it.
 * The keyset is re-read every `refreshHintSeconds`; a failed re-read keeps the last good one.
 */
export async function startSigner(options: SignerOptions): Promise<Signer> {
  const log = options.log ?? jsonLog();
  const settings = options.settings ?? resolveSettings();
  const clock = options.clock ?? (() => new Date());
  const extraKeys = options.extraKeys ?? [];
  // The gauges read the cache and service lazily, at scrape time.
  let service: SignerService | undefined;
  const metrics =
    options.metrics === undefined
      ? undefined
      : createSignerMetrics({
          snapshot: () => cache.snapshot,
          keysServed: () => service?.fetchKeys().keys.length ?? 0,
          clock,
        });
  const cache: KeysetCache = new KeysetCache({
    source: options.backend.source,
    clock,
    log,
    describe: options.backend.describe,
    ...(metrics === undefined ? {} : { onReadFailure: metrics.observer.keysetReadFailed }),
  });
  await cache.load();
  service = new SignerService({
    keys: cache,
    signer: options.backend.signer,
    extraKeys,
    settings,
    log,
    ...(metrics === undefined ? {} : { metrics: metrics.observer }),
  });
  // Metrics first: a bad --metrics-address must fail before the socket kube-apiserver waits for.
  const metricsServer =
    metrics === undefined || options.metrics === undefined
      ? undefined
      : await startMetricsServer(metrics.registry, options.metrics);
  if (metricsServer !== undefined) log.log('info', 'metrics listening', { address: metricsServer.address });
  let running: RunningSigner;
  try {
    running = await startSignerServer({
      socket: options.socket,
      service,
      log,
      ...(metrics === undefined ? {} : { metrics: metrics.observer }),
    });
  } catch (error) {
    await metricsServer?.close();
    throw error;
  }
  if (options.refresh !== false) cache.start(settings.refreshHintSeconds * 1000);
  return {
    ...running,
    service,
    cache,
    ...(metricsServer === undefined ? {} : { metrics: metricsServer }),
    close: async (graceMs?: number) => {
      cache.stop();
      await running.close(graceMs);
      await metricsServer?.close();
    },
  };
}
