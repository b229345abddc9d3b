/**
 * key-sync's metrics flags turned into a pass wrapper and an optional endpoint: `--metrics-address`
 * (loop mode only: a `--once` process exits before any scrape) and `--metrics-textfile` (either mode).
 * With neither flag the pass runs unwrapped and nothing is created.
 */
import { IrsaError } from '#core/errors.ts';
import { parseMetricsAddress } from './address.ts';
import {
  checkTextfilePath,
  createKeySyncMetrics,
  observeSync,
  type SyncOutcome,
  seedFromTextfile,
} from './key-sync-metrics.ts';
import { type MetricsServer, startMetricsServer } from './server.ts';

/** The metrics flags of `key-sync`. */
export interface KeySyncMetricsFlags {
  once?: boolean;
  metricsAddress?: string;
  metricsAllowRemote?: boolean;
  metricsTextfile?: string;
}

/** What the command does with metrics. */
export interface KeySyncMetricsSetup {
  wrap<T extends SyncOutcome, O>(pass: (options: O) => Promise<T>): (options: O) => Promise<T>;
  /** Starts the endpoint (loop mode); resolves its address, or undefined when there is none. */
  listen(): Promise<string | undefined>;
  close(): Promise<void>;
}

/**
 * Validates the flags (throws `FLAG_CONFLICT`, `FLAG_INVALID`, `FLAG_METRICS_ADDRESS_REMOTE`) and
 * loads the previous textfile so counters continue across timer runs.
 */
export async function keySyncMetricsFor(
  flags: KeySyncMetricsFlags,
  clock: () => Date = () => new Date(),
): Promise<KeySyncMetricsSetup> {
  if (flags.once === true && flags.metricsAddress !== undefined) {
    throw new IrsaError(
      'FLAG_CONFLICT',
      '--metrics-address cannot be combined with --once: the process exits before anything scrapes it.',
      'With --once (the systemd timer) use --metrics-textfile <dir>/irsa_key_sync.prom for node_exporter.',
    );
  }
  const address =
    flags.metricsAddress === undefined
      ? undefined
      : parseMetricsAddress(flags.metricsAddress, flags.metricsAllowRemote === true);
  const textfile = flags.metricsTextfile === undefined ? undefined : checkTextfilePath(flags.metricsTextfile);
  if (address === undefined && textfile === undefined) {
    return { wrap: (pass) => pass, listen: async () => undefined, close: async () => {} };
  }
  const metrics = createKeySyncMetrics(clock);
  if (textfile !== undefined) await seedFromTextfile(metrics, textfile);
  let server: MetricsServer | undefined;
  return {
    wrap: (pass) => observeSync(pass, metrics, textfile),
    listen: async () => {
      if (address === undefined) return undefined;
      server = await startMetricsServer(metrics.registry, address);
      return server.address;
    },
    close: async () => {
      await server?.close();
    },
  };
}
