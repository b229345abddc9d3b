/**
 * key-sync metrics: the textfile a timer run leaves for node_exporter (atomic, 0644, carried over
 * from run to run), the loop-mode endpoint, and the flags that choose between them.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IrsaError } from '#core/errors.ts';
import { createKeySyncMetrics, observeSync } from '#scripts/lib/metrics/key-sync-metrics.ts';
import { keySyncMetricsFor } from '#scripts/lib/metrics/key-sync-setup.ts';
import { sample, scrape } from './helpers.ts';

const KID = 'Vx3mD5u7yH3qg0n2bqkq3m8f0P1mJH2T3VbQdR8y5Xo';
let dir: string;
let now = new Date('2026-03-02T00:00:00Z');
const clock = () => now;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'irsa-key-sync-metrics-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const ok = async () => ({ kid: KID, activatedAt: '2026-03-01T00:00:00.000Z' });
const failing = async (): Promise<{ kid: string }> => {
  throw new IrsaError('KEY_SYNC_NO_ACTIVE_KEY', 'no active key', 'rotate');
};

describe('key-sync textfile (timer mode)', () => {
  it('records a success, then keeps it through failures that add up across runs', async () => {
    const file = join(dir, 'textfile', 'irsa_key_sync.prom');
    await rm(join(dir, 'textfile'), { recursive: true, force: true });
    await mkdir(join(dir, 'textfile'));
    const run = async (pass: () => Promise<{ kid: string; activatedAt?: string }>) => {
      const setup = await keySyncMetricsFor({ once: true, metricsTextfile: file }, clock);
      return setup.wrap(pass)(undefined);
    };
    await run(ok);
    let text = await readFile(file, 'utf8');
    expect((await stat(file)).mode & 0o777).toBe(0o644);
    expect(sample(text, 'irsa_key_sync_last_success_timestamp_seconds')).toBe(now.getTime() / 1000);
    expect(sample(text, `irsa_key_sync_installed_key_info{kid="${KID}"}`)).toBe(1);
    expect(sample(text, 'irsa_key_sync_installed_key_age_seconds')).toBe(86_400);
    expect(sample(text, 'irsa_key_sync_installed_key_activation_timestamp_seconds')).toBe(
      Date.parse('2026-03-01T00:00:00Z') / 1000,
    );
    const succeededAt = now.getTime() / 1000;
    now = new Date('2026-03-02T00:05:00Z');
    await expect(run(failing)).rejects.toMatchObject({ code: 'KEY_SYNC_NO_ACTIVE_KEY' });
    await expect(run(failing)).rejects.toMatchObject({ code: 'KEY_SYNC_NO_ACTIVE_KEY' });
    await expect(run(() => Promise.reject(new Error('socket hang up')))).rejects.toThrow('hang up');
    text = await readFile(file, 'utf8');
    expect(sample(text, 'irsa_key_sync_failures_total{code="KEY_SYNC_NO_ACTIVE_KEY"}')).toBe(2);
    expect(sample(text, 'irsa_key_sync_failures_total{code="UNEXPECTED"}')).toBe(1);
    expect(sample(text, 'irsa_key_sync_last_success_timestamp_seconds')).toBe(succeededAt);
    expect(sample(text, `irsa_key_sync_installed_key_info{kid="${KID}"}`)).toBe(1);
    expect(sample(text, 'irsa_key_sync_installed_key_age_seconds')).toBe(86_400 + 300);
    // Only the .prom file is left: the temp file of the atomic write is gone.
    expect(await readdir(join(dir, 'textfile'))).toEqual(['irsa_key_sync.prom']);
  });

  it('ignores lines of an earlier file that are not its own or carry unsafe label values', () => {
    const metrics = createKeySyncMetrics(clock);
    metrics.seed(
      [
        'irsa_key_sync_failures_total{code="not a code"} 5',
        'irsa_key_sync_installed_key_info{kid="<script>"} 1',
        'other_metric 3',
        'irsa_key_sync_failures_total{code="KEY_SYNC_NO_KEYSET"} NaN',
        'irsa_key_sync_failures_total{code="KEY_SYNC_NO_KEYSET"} 4',
      ].join('\n'),
    );
    return metrics.registry.metrics().then((text) => {
      expect(text).not.toContain('not a code');
      expect(text).not.toContain('<script>');
      expect(sample(text, 'irsa_key_sync_failures_total{code="KEY_SYNC_NO_KEYSET"}')).toBe(4);
    });
  });

  it('replaces the installed kid, so only the current key has an info series', async () => {
    const metrics = createKeySyncMetrics(clock);
    const pass = observeSync(async (kid: string) => ({ kid }), metrics);
    await pass('old-kid');
    await pass('new-kid');
    const text = await metrics.registry.metrics();
    expect(text).not.toContain('old-kid');
    expect(sample(text, 'irsa_key_sync_installed_key_info{kid="new-kid"}')).toBe(1);
  });
});

describe('key-sync metrics flags', () => {
  it('refuse --metrics-address with --once, a remote address, and a textfile that is not *.prom', async () => {
    await expect(keySyncMetricsFor({ once: true, metricsAddress: '127.0.0.1:0' })).rejects.toMatchObject({
      code: 'FLAG_CONFLICT',
    });
    await expect(keySyncMetricsFor({ metricsAddress: '0.0.0.0:9' })).rejects.toMatchObject({
      code: 'FLAG_METRICS_ADDRESS_REMOTE',
    });
    await expect(keySyncMetricsFor({ metricsTextfile: join(dir, 'x.txt') })).rejects.toMatchObject({
      code: 'FLAG_INVALID',
    });
  });

  it('with no metrics flag, run the pass as it is and listen nowhere', async () => {
    const setup = await keySyncMetricsFor({});
    expect(setup.wrap(ok)).toBe(ok);
    expect(await setup.listen()).toBeUndefined();
  });

  it('serve the loop-mode metrics on loopback', async () => {
    const setup = await keySyncMetricsFor({ metricsAddress: '127.0.0.1:0' }, clock);
    const address = (await setup.listen()) ?? '';
    try {
      await setup.wrap(ok)(undefined);
      await expect(setup.wrap(failing)(undefined)).rejects.toBeInstanceOf(IrsaError);
      const { body } = await scrape(address);
      expect(sample(body, `irsa_key_sync_installed_key_info{kid="${KID}"}`)).toBe(1);
      expect(sample(body, 'irsa_key_sync_failures_total{code="KEY_SYNC_NO_ACTIVE_KEY"}')).toBe(1);
    } finally {
      await setup.close();
    }
  });
});
