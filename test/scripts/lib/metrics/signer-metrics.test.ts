/**
 * The signer's /metrics: real gRPC calls over a real socket, then a real scrape over loopback
 * HTTP (or a Unix socket). Counters and histograms move with the calls; gauges come from the
 * keyset; labels carry codes, never claims, tokens or key material.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { localPaths } from '#adapters/local/fs-store.ts';
import { LocalKeys } from '#adapters/local/software-keys.ts';
import type { Keyset } from '#core/keyset.ts';
import { parseMetricsAddress } from '#scripts/lib/metrics/address.ts';
import { connectSigner } from '#scripts/lib/signer/client.ts';
import { resolveSettings } from '#scripts/lib/signer/config.ts';
import { memoryLog } from '#scripts/lib/signer/log.ts';
import { type Signer, startSigner } from '#scripts/lib/signer/run.ts';
import { writeLocalKeyset } from '#scripts/lib/signer/temp-signer.ts';
import { claimsSegment, FakeSource, grpcCode, SwitchableSigner } from '../signer/helpers.ts';
import { sample, scrape } from './helpers.ts';

const ACTIVATED = new Date('2026-03-01T00:00:00Z');
let dir: string;
let keyset: Keyset;
let keys: LocalKeys;
let now: Date;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'irsa-signer-metrics-'));
  keyset = await writeLocalKeyset(
    join(dir, 'issuer'),
    [
      { spec: 'RSA_2048', state: 'retired' },
      { spec: 'ECC_NIST_P256', state: 'active' },
    ],
    { now: ACTIVATED },
  );
  keys = new LocalKeys(localPaths(join(dir, 'issuer')).state);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let running: Signer | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

async function start(source: FakeSource, backend: SwitchableSigner, metrics = '127.0.0.1:0') {
  now = new Date('2026-03-02T00:00:00Z');
  const log = memoryLog();
  running = await startSigner({
    socket: join(dir, `run-${Math.random().toString(36).slice(2)}`, 's.sock'),
    backend: { source, signer: backend, describe: 'fake' },
    settings: resolveSettings({ signTimeoutMs: 2_000 }),
    log,
    refresh: false,
    clock: () => now,
    ...(metrics === '' ? {} : { metrics: parseMetricsAddress(metrics) }),
  });
  const client = connectSigner(`unix://${(running.address as { path: string }).path}`, 'v1');
  return { client, signer: running, log };
}

const active = () => keyset.keys.find((k) => k.state === 'active');

describe('signer metrics', () => {
  it('count Sign calls, time them, and show keyset age, active key and keys served', async () => {
    const { client, signer } = await start(new FakeSource(keyset), new SwitchableSigner(keys));
    try {
      const address = signer.metrics?.address ?? '';
      expect(address).toMatch(/^127\.0\.0\.1:\d+$/);
      const before = await scrape(address);
      expect(before.status).toBe(200);
      expect(before.type).toContain('text/plain');
      expect(
        sample(before.body, 'irsa_signer_sign_duration_seconds_count{result="success"}'),
      ).toBeUndefined();
      for (let i = 0; i < 3; i++) await client.sign(claimsSegment());
      await client.fetchKeys();
      now = new Date('2026-03-02T00:01:30Z');
      const { body } = await scrape(address);
      expect(sample(body, 'irsa_signer_sign_requests_total{result="success",code="OK"}')).toBe(3);
      expect(sample(body, 'irsa_signer_sign_duration_seconds_count{result="success"}')).toBe(3);
      expect(sample(body, 'irsa_signer_sign_duration_seconds_bucket{le="+Inf",result="success"}')).toBe(3);
      expect(sample(body, 'irsa_signer_backend_duration_seconds_count{result="success"}')).toBe(3);
      expect(sample(body, 'irsa_signer_fetch_keys_total{result="success",code="OK"}')).toBe(1);
      expect(sample(body, 'irsa_signer_keyset_age_seconds')).toBe(90);
      expect(sample(body, 'irsa_signer_keyset_last_success_timestamp_seconds')).toBe(
        Date.parse('2026-03-02T00:00:00Z') / 1000,
      );
      expect(sample(body, 'irsa_signer_active_key_age_seconds')).toBe(86_400 + 90);
      expect(sample(body, `irsa_signer_active_key_info{kid="${active()?.kid}",alg="ES256"}`)).toBe(1);
      expect(sample(body, 'irsa_signer_keys_served')).toBe(2);
      expect(body).toContain('process_cpu_seconds_total');
      // The only kid anywhere is the active key's info series.
      const retired = keyset.keys.find((k) => k.state === 'retired')?.kid ?? '';
      expect(body).not.toContain(retired);
      expect(body.split(active()?.kid ?? '').length - 1).toBe(1);
    } finally {
      client.close();
    }
  });

  it('label failures with their stable code and never with the claims', async () => {
    const backend = new SwitchableSigner(keys);
    const { client, signer } = await start(new FakeSource(keyset), backend);
    try {
      backend.mode = 'down';
      const secret = claimsSegment({ sub: 'system:serviceaccount:marker-ns:marker-sa' });
      await grpcCode(client.sign(secret));
      await grpcCode(client.sign('not base64url!'));
      const { body } = await scrape(signer.metrics?.address ?? '');
      expect(sample(body, 'irsa_signer_sign_requests_total{result="error",code="SIGNING_FAILED"}')).toBe(1);
      expect(sample(body, 'irsa_signer_sign_requests_total{result="error",code="SIGN_CLAIMS_INVALID"}')).toBe(
        1,
      );
      expect(sample(body, 'irsa_signer_sign_duration_seconds_count{result="error"}')).toBe(2);
      expect(sample(body, 'irsa_signer_backend_duration_seconds_count{result="error"}')).toBe(1);
      expect(body).not.toContain('marker');
      expect(body).not.toContain(secret);
    } finally {
      client.close();
    }
  });

  it('count throttles and retries', async () => {
    const backend = new SwitchableSigner(keys);
    backend.mode = { throttleTimes: 2 };
    const { client, signer } = await start(new FakeSource(keyset), backend);
    try {
      await client.sign(claimsSegment());
      const { body } = await scrape(signer.metrics?.address ?? '');
      expect(sample(body, 'irsa_signer_backend_throttles_total')).toBe(2);
      expect(sample(body, 'irsa_signer_backend_retries_total')).toBe(2);
      expect(sample(body, 'irsa_signer_backend_duration_seconds_count{result="throttled"}')).toBe(2);
      expect(sample(body, 'irsa_signer_sign_requests_total{result="success",code="OK"}')).toBe(1);
    } finally {
      client.close();
    }
  });

  it('count failed keyset re-reads while the keyset age keeps growing', async () => {
    const source = new FakeSource(keyset);
    const { client, signer } = await start(source, new SwitchableSigner(keys));
    try {
      source.next = new Error('S3 is down');
      now = new Date('2026-03-02T00:20:00Z');
      await signer.cache.refresh();
      const { body } = await scrape(signer.metrics?.address ?? '');
      expect(sample(body, 'irsa_signer_keyset_read_failures_total{code="UNEXPECTED"}')).toBe(1);
      expect(sample(body, 'irsa_signer_keyset_age_seconds')).toBe(1200);
    } finally {
      client.close();
    }
  });

  it('serve a Unix socket 0600, answer only /metrics, and remove the socket on close', async () => {
    const path = join(dir, 'metrics', 'm.sock');
    const { client, signer } = await start(new FakeSource(keyset), new SwitchableSigner(keys), path);
    client.close();
    expect(signer.metrics?.address).toBe(path);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await scrape(path)).body).toContain('irsa_signer_keys_served 2');
    expect((await scrape(path, '/')).status).toBe(404);
    await signer.close();
    running = undefined;
    await expect(stat(path)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('are off unless asked for: no endpoint, and Sign still works', async () => {
    const { client, signer, log } = await start(new FakeSource(keyset), new SwitchableSigner(keys), '');
    try {
      await client.sign(claimsSegment());
      expect(signer.metrics).toBeUndefined();
      expect(log.events.map((e) => e.msg)).not.toContain('metrics listening');
    } finally {
      client.close();
    }
  });

  it('refuse a taken port before the signer socket is bound', async () => {
    const { client, signer } = await start(new FakeSource(keyset), new SwitchableSigner(keys));
    client.close();
    const socket = join(dir, 'taken', 's.sock');
    await expect(
      startSigner({
        socket,
        backend: { source: new FakeSource(keyset), signer: new SwitchableSigner(keys), describe: 'fake' },
        log: memoryLog(),
        refresh: false,
        metrics: parseMetricsAddress(signer.metrics?.address ?? ''),
      }),
    ).rejects.toMatchObject({ code: 'METRICS_LISTEN_FAILED' });
    await expect(stat(socket)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
