/**
 * key-sync's Prometheus metrics: when the last pass succeeded, which key is installed (an info
 * series, the only kid label) and how old it is, and failures by stable error code. In loop mode
 * they are served on `--metrics-address`; in timer mode (`--once`) each pass rewrites a
 * node_exporter textfile-collector file (`--metrics-textfile`, `*.prom`), atomically and 0644.
 * A pass starts from the previous file, so a failed pass keeps the last success and counters add up.
 */
import { readFile } from 'node:fs/promises';
import { Counter, Gauge, Registry } from 'prom-client';
import { isErrorCode } from '#core/error-codes.ts';
import { IrsaError } from '#core/errors.ts';
import { atomicWrite } from '../file-change.ts';
import { codeLabel } from './codes.ts';

/** What a successful pass reports (kids only, never key material). */
export interface SyncOutcome {
  kid: string;
  activatedAt?: string;
}

/** key-sync's registry and the two hooks that feed it. */
export interface KeySyncMetrics {
  registry: Registry;
  succeeded(outcome: SyncOutcome): void;
  failed(error: unknown): void;
  /** Restores the last success and the failure counts from an earlier textfile's text. */
  seed(text: string): void;
}

const KID = /^[A-Za-z0-9_-]{1,1024}$/;
const SAMPLE = /^(irsa_key_sync_[a-z_]+)(?:\{(\w+)="([^"\\]*)"\})? (\S+)$/;

/** A fresh registry for key-sync; `clock` gives "now" for the key age. */
export function createKeySyncMetrics(clock: () => Date): KeySyncMetrics {
  const registry = new Registry();
  const registers = [registry];
  const lastSuccess = new Gauge({
    name: 'irsa_key_sync_last_success_timestamp_seconds',
    help: 'Unix time of the last key-sync pass that succeeded.',
    registers,
  });
  const installed = new Gauge({
    name: 'irsa_key_sync_installed_key_info',
    help: 'Always 1, labelled with the kid of the signing key installed for kube-apiserver.',
    labelNames: ['kid'] as const,
    registers,
  });
  let activatedSeconds: number | undefined;
  const activated = new Gauge({
    name: 'irsa_key_sync_installed_key_activation_timestamp_seconds',
    help: 'Unix time the installed key became active (age in a textfile: time() minus this).',
    registers,
  });
  new Gauge({
    name: 'irsa_key_sync_installed_key_age_seconds',
    help: 'Seconds since the installed key became active, as of the scrape (or of the pass, in a textfile).',
    registers,
    collect() {
      this.reset();
      if (activatedSeconds !== undefined) this.set(clock().getTime() / 1000 - activatedSeconds);
    },
  });
  const failures = new Counter({
    name: 'irsa_key_sync_failures_total',
    help: 'key-sync passes that failed, by error code.',
    labelNames: ['code'] as const,
    registers,
  });
  const setActivated = (seconds: number | undefined) => {
    activatedSeconds = seconds;
    activated.reset();
    if (seconds !== undefined) activated.set(seconds);
  };
  return {
    registry,
    succeeded(outcome) {
      lastSuccess.set(clock().getTime() / 1000);
      installed.reset();
      installed.set({ kid: outcome.kid }, 1);
      const at = outcome.activatedAt === undefined ? Number.NaN : Date.parse(outcome.activatedAt);
      setActivated(Number.isFinite(at) ? at / 1000 : undefined);
    },
    failed(error) {
      failures.inc({ code: codeLabel(error) });
    },
    seed(text) {
      for (const line of text.split('\n')) {
        const match = SAMPLE.exec(line);
        if (match === null) continue;
        const [, name, label, value, raw] = match;
        const number = Number(raw);
        if (!Number.isFinite(number) || number < 0) continue;
        if (name === 'irsa_key_sync_last_success_timestamp_seconds') lastSuccess.set(number);
        else if (name === 'irsa_key_sync_installed_key_activation_timestamp_seconds') setActivated(number);
        else if (name === 'irsa_key_sync_installed_key_info' && label === 'kid' && KID.test(value ?? ''))
          installed.set({ kid: value ?? '' }, 1);
        else if (
          name === 'irsa_key_sync_failures_total' &&
          label === 'code' &&
          (value === 'UNEXPECTED' || isErrorCode(value ?? ''))
        )
          failures.inc({ code: value ?? '' }, number);
      }
    },
  };
}

/** Checks `--metrics-textfile`: node_exporter's textfile collector reads only `*.prom` files. */
export function checkTextfilePath(path: string): string {
  if (!/^\/.+\/[^/]+\.prom$/.test(path)) {
    throw new IrsaError(
      'FLAG_INVALID',
      `--metrics-textfile "${path}" must be an absolute path ending in .prom.`,
      "Pass a file in node_exporter's --collector.textfile.directory, e.g. /var/lib/node_exporter/textfile_collector/irsa_key_sync.prom.",
    );
  }
  return path;
}

/** Loads an earlier textfile into `metrics`; a missing or unreadable file starts from zero. */
export async function seedFromTextfile(metrics: KeySyncMetrics, path: string): Promise<void> {
  try {
    metrics.seed(await readFile(path, 'utf8'));
  } catch {
    // First run, or the file was removed: nothing to carry over.
  }
}

/** Writes the registry to `path` atomically (temp dot-file + rename, which node_exporter skips), 0644. */
export async function writeTextfile(metrics: KeySyncMetrics, path: string): Promise<void> {
  await atomicWrite(path, await metrics.registry.metrics(), { mode: 0o644 });
}

/**
 * Wraps one key-sync pass so its outcome feeds `metrics` (and rewrites `textfile` when given).
 * The pass's own result or error passes through unchanged.
 */
export function observeSync<T extends SyncOutcome, O>(
  pass: (options: O) => Promise<T>,
  metrics: KeySyncMetrics,
  textfile?: string,
): (options: O) => Promise<T> {
  return async (options) => {
    try {
      const report = await pass(options);
      metrics.succeeded(report);
      return report;
    } catch (error) {
      metrics.failed(error);
      throw error;
    } finally {
      if (textfile !== undefined) await writeTextfile(metrics, textfile);
    }
  };
}
