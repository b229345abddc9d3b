/**
 * The signer's Prometheus metrics. The service and server call the {@link SignerObserver} hooks
 * only when metrics are on (`observer?.x()`: one branch, no allocation when off); everything
 * derived from the keyset (ages, key counts, the active key) is computed at scrape time, never on
 * the Sign path. Labels carry results and stable error codes only: never claims, tokens or keys,
 * and no kid except on the one active-key info series.
 */
import { performance } from 'node:perf_hooks';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Clock } from '#core/ports.ts';
import type { KeysetSnapshot } from '../signer/keyset-cache.ts';
import { isThrottling } from '../signer/retry.ts';
import { codeLabel } from './codes.ts';

/** Hooks the signer calls. `error` is undefined on success. */
export interface SignerObserver {
  /** One Sign RPC answered; `startedNs` from `process.hrtime.bigint()`. */
  signDone(startedNs: bigint, error: unknown): void;
  /** Runs one backend (KMS) call, timing it and counting throttles. */
  backendCall<T>(call: () => Promise<T>): Promise<T>;
  /** A throttled backend call is being retried. */
  retried(): void;
  /** One FetchKeys RPC answered. */
  fetchKeysDone(error: unknown): void;
  /** A keyset re-read failed (the last good keyset is still served). */
  keysetReadFailed(error: unknown): void;
}

/** What the scrape-time gauges read. */
export interface SignerMetricsSources {
  snapshot: () => KeysetSnapshot | null;
  /** Keys FetchKeys would serve now (keyset keys plus legacy keys). */
  keysServed: () => number;
  clock: Clock;
}

const SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

const result = (error: unknown): string => (error === undefined ? 'success' : 'error');

/** A registry with the signer's metrics (and Node's process metrics) plus the hooks that feed it. */
export function createSignerMetrics(sources: SignerMetricsSources): {
  registry: Registry;
  observer: SignerObserver;
} {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const signs = new Counter({
    name: 'irsa_signer_sign_requests_total',
    help: 'Sign RPCs answered, by result and error code (OK on success).',
    labelNames: ['result', 'code'] as const,
    registers,
  });
  const signSeconds = new Histogram({
    name: 'irsa_signer_sign_duration_seconds',
    help: 'Time to answer one Sign RPC, backend and retries included.',
    labelNames: ['result'] as const,
    buckets: SECONDS,
    registers,
  });
  const backendSeconds = new Histogram({
    name: 'irsa_signer_backend_duration_seconds',
    help: 'Time of one signing backend call (KMS Sign, or the local key), per attempt.',
    labelNames: ['result'] as const,
    buckets: SECONDS,
    registers,
  });
  const throttles = new Counter({
    name: 'irsa_signer_backend_throttles_total',
    help: 'Backend calls refused with throttling (KMS ThrottlingException or HTTP 429).',
    registers,
  });
  const retries = new Counter({
    name: 'irsa_signer_backend_retries_total',
    help: 'Backend calls retried after throttling.',
    registers,
  });
  const fetchKeys = new Counter({
    name: 'irsa_signer_fetch_keys_total',
    help: 'FetchKeys RPCs answered, by result and error code.',
    labelNames: ['result', 'code'] as const,
    registers,
  });
  const readFailures = new Counter({
    name: 'irsa_signer_keyset_read_failures_total',
    help: 'Keyset re-reads that failed (the last good keyset stays served), by error code.',
    labelNames: ['code'] as const,
    registers,
  });
  const seconds = (date: Date) => date.getTime() / 1000;
  new Gauge({
    name: 'irsa_signer_keyset_last_success_timestamp_seconds',
    help: 'Unix time of the last successful keyset read.',
    registers,
    collect() {
      const snapshot = sources.snapshot();
      if (snapshot !== null) this.set(seconds(snapshot.readAt));
    },
  });
  new Gauge({
    name: 'irsa_signer_keyset_age_seconds',
    help: 'Seconds since the last successful keyset read.',
    registers,
    collect() {
      const snapshot = sources.snapshot();
      if (snapshot !== null) this.set(seconds(sources.clock()) - seconds(snapshot.readAt));
    },
  });
  new Gauge({
    name: 'irsa_signer_active_key_age_seconds',
    help: 'Seconds since the active key was activated (absent when there is no usable active key).',
    registers,
    collect() {
      this.reset();
      const activatedAt = sources.snapshot()?.active?.record.activatedAt;
      if (activatedAt !== undefined) this.set(seconds(sources.clock()) - Date.parse(activatedAt) / 1000);
    },
  });
  new Gauge({
    name: 'irsa_signer_active_key_info',
    help: 'Always 1, labelled with the kid and alg of the key that signs now (the only kid label).',
    labelNames: ['kid', 'alg'] as const,
    registers,
    collect() {
      this.reset();
      const active = sources.snapshot()?.active;
      if (active !== null && active !== undefined) this.set({ kid: active.kid, alg: active.record.alg }, 1);
    },
  });
  new Gauge({
    name: 'irsa_signer_keys_served',
    help: 'Public keys FetchKeys serves now (keyset keys plus legacy --extra-public-key keys).',
    registers,
    collect() {
      this.set(sources.snapshot() === null ? 0 : sources.keysServed());
    },
  });
  const observer: SignerObserver = {
    signDone(startedNs, error) {
      const elapsed = Number(process.hrtime.bigint() - startedNs) / 1e9;
      signs.inc({ result: result(error), code: codeLabel(error) });
      signSeconds.observe({ result: result(error) }, elapsed);
    },
    async backendCall(call) {
      const started = performance.now();
      try {
        const answer = await call();
        backendSeconds.observe({ result: 'success' }, (performance.now() - started) / 1000);
        return answer;
      } catch (error) {
        const throttled = isThrottling(error);
        if (throttled) throttles.inc();
        backendSeconds.observe(
          { result: throttled ? 'throttled' : 'error' },
          (performance.now() - started) / 1000,
        );
        throw error;
      }
    },
    retried: () => retries.inc(),
    fetchKeysDone: (error) => fetchKeys.inc({ result: result(error), code: codeLabel(error) }),
    keysetReadFailed: (error) => readFailures.inc({ code: codeLabel(error) }),
  };
  return { registry, observer };
}
