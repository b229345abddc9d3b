/** `key-sync install-timer --metrics-textfile`: the sandboxed unit may write node_exporter's directory. */
import { describe, expect, it } from 'vitest';
import { register } from '#scripts/commands/key-sync.ts';
import { runRegistered } from '../../support/run-cli.ts';

const base = [
  'key-sync',
  'install-timer',
  '--state',
  's3://irsa-prod-state/keyset.json',
  '--cluster',
  'prod',
];

describe('key-sync install-timer --metrics-textfile', () => {
  it('passes the file to key-sync --once and lets the unit write its directory', async () => {
    const file = '/var/lib/node_exporter/textfile_collector/irsa_key_sync.prom';
    const result = await runRegistered(register, [...base, '--metrics-textfile', file]);
    expect(result.code, result.err).toBe(0);
    expect(result.out).toMatch(
      /^ExecStart=.* --metrics-textfile \/var\/lib\/node_exporter\/textfile_collector\/irsa_key_sync\.prom/m,
    );
    expect(result.out).toContain('ReadWritePaths=/var/lib/node_exporter/textfile_collector');
  });

  it('refuses a textfile node_exporter would not read (exit 2)', async () => {
    const result = await runRegistered(register, [...base, '--metrics-textfile', '/tmp/irsa.txt']);
    expect(result.code).toBe(2);
    expect(result.err).toContain('FLAG_INVALID');
  });
});
