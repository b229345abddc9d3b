/**
 * Starting a signer from its parts: read the keyset, check the settings, listen, refresh. Used by
 * the `signer` command, the tests and the benchmark.
 */
import type { Clock } from '#core/ports.ts';
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
}

/** A running signer with its parts, for tests. */
export interface Signer extends RunningSigner {
  service: SignerService;
  cache: KeysetCache;
}

/**
 * Reads the keyset (failing if it cannot: a signer with no keys must not start), then serves it.
 * The keyset is re-read every `refreshHintSeconds`; a failed re-read keeps the last good one.
 */
export async function startSigner(options: SignerOptions): Promise<Signer> {
  const log = options.log ?? jsonLog();
  const settings = options.settings ?? resolveSettings();
  const cache = new KeysetCache({
    source: options.backend.source,
    clock: options.clock ?? (() => new Date()),
    log,
    describe: options.backend.describe,
  });
  await cache.load();
  const service = new SignerService({
    keys: cache,
    signer: options.backend.signer,
    extraKeys: options.extraKeys ?? [],
    settings,
    log,
  });
  const running = await startSignerServer({ socket: options.socket, service, log });
  if (options.refresh !== false) cache.start(settings.refreshHintSeconds * 1000);
  return {
    ...running,
    service,
    cache,
    close: async (graceMs?: number) => {
      cache.stop();
      await running.close(graceMs);
    },
  };
}
