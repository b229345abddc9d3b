/** key-sync inputs and outputs that need no AWS: state location, systemd units, the sync loop. */
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { IrsaError, isIrsaError } from '#core/errors.ts';
import { parseSyncTarget, runSyncLoop } from '#scripts/lib/key-sync/run.ts';
import { stateFromStackOutputs } from '#scripts/lib/key-sync/source.ts';
import type { SyncOptions, SyncReport } from '#scripts/lib/key-sync/sync.ts';
import { renderUnits, validateTimerOptions } from '#scripts/lib/key-sync/timer.ts';
import { parseStateUrl } from '#scripts/lib/state-url.ts';

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return isIrsaError(error) ? error.code : 'NOT_IRSA';
  }
  return undefined;
}

describe('state location', () => {
  it('parses s3:// URLs and rejects others', () => {
    expect(parseStateUrl('s3://my-state/prod/keyset.json')).toEqual({
      bucket: 'my-state',
      key: 'prod/keyset.json',
    });
    for (const bad of [
      'https://my-state/keyset.json',
      's3://my-state/',
      's3://My_Bucket/keyset.json',
      's3://b',
    ]) {
      expect(
        code(() => parseStateUrl(bad)),
        bad,
      ).toBe('CONFIG_STATE_INVALID');
    }
  });

  it('reads StateBucketName from describe-stacks output, an Outputs list, or a flat map', () => {
    const expected = { bucket: 'irsa-prod-state', key: 'keyset.json' };
    const outputs = [
      { OutputKey: 'IssuerUrl', OutputValue: 'https://oidc.example.com' },
      { OutputKey: 'StateBucketName', OutputValue: 'irsa-prod-state' },
    ];
    expect(stateFromStackOutputs(JSON.stringify({ Stacks: [{ Outputs: outputs }] }))).toEqual(expected);
    expect(stateFromStackOutputs(JSON.stringify(outputs))).toEqual(expected);
    expect(stateFromStackOutputs(JSON.stringify({ StateBucketName: 'irsa-prod-state' }))).toEqual(expected);
    expect(code(() => stateFromStackOutputs('{"IssuerUrl":"x"}'))).toBe('FLAG_INVALID');
    expect(code(() => stateFromStackOutputs('not json'))).toBe('FLAG_INVALID');
  });

  it('checks --cluster and --distro', () => {
    expect(parseSyncTarget('prod', 'none')).toEqual({ cluster: 'prod', distro: null });
    expect(code(() => parseSyncTarget(undefined, 'kubeadm'))).toBe('FLAG_INVALID');
    expect(code(() => parseSyncTarget('prod', 'talos'))).toBe('FLAG_INVALID');
  });

  it("--cluster follows the stack's cluster-name rule (a name no stack can have is refused here)", () => {
    // Accepted before (the CLI had its own, looser rule); every Decrypt would then fail with the
    // wrong encryption context instead of a clear flag error.
    for (const name of ['prod.eu', 'prod_eu', 'x'.repeat(64)]) {
      expect(code(() => parseSyncTarget(name, 'none'))).toBe('FLAG_INVALID');
    }
    expect(parseSyncTarget('Prod-EU-1', 'none').cluster).toBe('Prod-EU-1');
  });
});

describe('systemd units', () => {
  it('runs key-sync --once with the same arguments, at boot and every interval', () => {
    const { service, timer } = renderUnits(
      validateTimerOptions({
        bin: '/usr/local/bin/irsa-anywhere',
        args: ['--state', 's3://b/keyset.json', '--cluster', 'prod'],
        interval: '5min',
        unitName: 'irsa-anywhere-key-sync',
        dirs: ['/etc/irsa-anywhere/keys'],
        writable: ['/etc/kubernetes/manifests'],
      }),
    );
    expect(service).toContain(
      'ExecStart=/usr/local/bin/irsa-anywhere key-sync --once --state s3://b/keyset.json --cluster prod\n',
    );
    expect(service).toContain('Type=oneshot');
    expect(timer).toContain('OnUnitActiveSec=5min');
    expect(timer).toContain('WantedBy=timers.target');
  });

  it('rejects values systemd would misread', () => {
    const base = {
      bin: '/usr/local/bin/irsa-anywhere',
      args: [],
      interval: '5min',
      unitName: 'u',
      dirs: ['/k'],
      writable: [],
    };
    expect(code(() => validateTimerOptions({ ...base, bin: 'irsa-anywhere' }))).toBe('FLAG_INVALID');
    expect(code(() => validateTimerOptions({ ...base, interval: 'often' }))).toBe('FLAG_INVALID');
    expect(code(() => validateTimerOptions({ ...base, args: ['--cluster', '$HOME'] }))).toBe('FLAG_INVALID');
    expect(code(() => validateTimerOptions({ ...base, dirs: ['keys'] }))).toBe('FLAG_INVALID');
    expect(code(() => validateTimerOptions({ ...base, writable: ['/etc/my dir'] }))).toBe('FLAG_INVALID');
  });
});

describe('sync loop', () => {
  it('keeps going after a failed pass and stops when aborted', async () => {
    const stop = new AbortController();
    const lines: string[] = [];
    let calls = 0;
    const report: SyncReport = {
      kid: 'k',
      issuer: 'https://i',
      verificationKids: ['k'],
      wroteSigningKey: false,
      wroteBundle: false,
      manifest: null,
    };
    const pass = async (): Promise<SyncReport> => {
      calls += 1;
      if (calls === 1) throw new IrsaError('KMS_DECRYPT_FAILED', 'boom', 'retry');
      if (calls === 2) stop.abort();
      return report;
    };
    const options = { s3: new S3Client({}), kms: new KMSClient({}) } as unknown as SyncOptions;
    const failures = await runSyncLoop(
      { out: (s) => lines.push(s), err: (s) => lines.push(s) },
      options,
      { intervalMs: 1, json: false, signal: stop.signal },
      pass,
    );
    expect(calls).toBe(2);
    expect(failures).toBe(1);
    expect(lines[0]).toBe('error KMS_DECRYPT_FAILED: boom — retry');
    expect(lines[1]).toContain('active kid k');
  });
});
