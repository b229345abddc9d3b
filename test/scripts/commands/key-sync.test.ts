/** `key-sync` and `key-sync install-timer` through commander (no AWS calls are reached). */
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { register } from '#scripts/commands/key-sync.ts';
import { runRegistered } from '../../support/run-cli.ts';

const run = (args: string[]) => runRegistered(register, args);

describe('key-sync command', () => {
  it('install-timer --write writes a service running key-sync --once with the same source flags', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'units-'));
    const result = await run([
      'key-sync',
      'install-timer',
      '--state',
      's3://irsa-prod-state/keyset.json',
      '--cluster',
      'prod',
      '--every',
      '10min',
      '--write',
      '--unit-dir',
      dir,
    ]);
    expect(result.code, result.err).toBe(0);
    const service = readFileSync(join(dir, 'irsa-anywhere-key-sync.service'), 'utf8');
    expect(service).toContain(
      'ExecStart=/usr/local/bin/irsa-anywhere key-sync --once --state s3://irsa-prod-state/keyset.json --cluster prod',
    );
    expect(readFileSync(join(dir, 'irsa-anywhere-key-sync.timer'), 'utf8')).toContain(
      'OnUnitActiveSec=10min',
    );
    expect(statSync(join(dir, 'irsa-anywhere-key-sync.timer')).mode & 0o777).toBe(0o644);
  });

  it('bad flags fail before any AWS client is used', async () => {
    const noCluster = await run(['key-sync', '--once', '--state', 's3://irsa-prod-state/keyset.json']);
    expect(noCluster.code).toBe(2);
    expect(noCluster.err).toContain('FLAG_INVALID');
    const both = await run(['key-sync', '--once', '--cluster', 'prod']);
    expect(both.code).toBe(2);
    expect(both.err).toContain('FLAG_MISSING');
    const timer = await run([
      'key-sync',
      'install-timer',
      '--cluster',
      'prod',
      '--state',
      's3://b-b/k',
      '--every',
      'often',
    ]);
    expect(timer.code).toBe(2);
    expect(timer.err).toContain('--every must be a systemd time span');
  });
});
