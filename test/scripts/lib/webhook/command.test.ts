import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { runCli } from '../../../support/run-cli.ts';

describe('irsa-anywhere webhook manifests', () => {
  it('prints YAML kubectl can apply, for the namespace and region given', async () => {
    const { code, stdout, stderr } = await runCli(
      'webhook',
      'manifests',
      '--namespace',
      'team-a',
      '--region',
      'eu-west-1',
    );
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const kinds = parseAllDocuments(stdout).map((doc) => (doc.toJS() as { kind?: string } | null)?.kind);
    expect(kinds.filter(Boolean)).toHaveLength(9);
    expect(stdout).toContain('--aws-default-region=eu-west-1');
    expect(stdout).toContain('cert-manager.io/inject-ca-from: team-a/pod-identity-webhook');
  });

  it('exits 2 with the flag named on bad input', async () => {
    const { code, stderr } = await runCli('webhook', 'manifests', '--region', 'EU');
    expect(code).toBe(2);
    expect(stderr).toMatch(/^error FLAG_INVALID: --region "EU"/);
  });

  it('prints Helm values with --helm-values', async () => {
    const { code, stdout } = await runCli('webhook', 'manifests', '--helm-values');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^# Values for the community chart/);
    expect(stdout).toContain('failurePolicy: Ignore');
  });
});
