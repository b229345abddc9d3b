/**
 * `irsa-anywhere audit --json` on recorded API responses: one fixture per case
 * (test/fixtures/audit), each reporting its pods without a role with the expected reasons and its
 * findings; the exit code is 1 exactly when the case is not ok.
 */
import { describe, expect, it } from 'vitest';
import { registerAudit } from '#scripts/commands/audit.ts';
import type { AuditReport } from '#scripts/lib/audit/evaluate.ts';
import { runRegistered } from '../../../support/run-cli.ts';
import { caseDeps, caseNames, loadCase } from './helpers.ts';

describe('audit --json on recorded clusters', () => {
  it('has a fixture for every case the issue names', () => {
    expect(caseNames()).toEqual(
      expect.arrayContaining([
        'webhook-missing',
        'failure-policy-ignore',
        'namespace-excluded',
        'object-excluded',
        'ca-bundle-mismatch',
        'cert-expires-soon',
        'cert-expired',
        'pod-before-webhook',
        'role-arn-malformed',
        'audience-not-accepted',
        'token-expiration-short',
        'host-network',
        'trust-denies',
      ]),
    );
  });

  it.each(caseNames())('%s', async (name) => {
    const c = loadCase(name);
    const result = await runRegistered(
      registerAudit(() => caseDeps(c)),
      ['audit', '--json', ...c.flags],
    );
    expect(result.err).toBe('');
    const report = JSON.parse(result.out) as AuditReport;
    expect(report.ok).toBe(c.expect.ok);
    expect(result.code).toBe(c.expect.ok ? 0 : 1);
    const unmutated = Object.fromEntries(
      report.pods.filter((p) => !p.mutated).map((p) => [`${p.namespace}/${p.name}`, p.reasons]),
    );
    expect(unmutated).toEqual(c.expect.pods);
    for (const [object, reasons] of Object.entries(c.expect.pods)) {
      for (const id of reasons) {
        expect(report.findings).toContainEqual(
          expect.objectContaining({ object: `pod/${object}`, id, severity: 'error' }),
        );
      }
    }
    const other = report.findings.filter(
      (f) => !f.object.startsWith('pod/') || !(f.object.slice(4) in c.expect.pods),
    );
    expect(other.map((f) => [f.object, f.id])).toEqual(c.expect.findings ?? []);
    // The certificate Secret's private key (tls.key) is never part of the report.
    expect(result.out).not.toContain('REDACTED-IN-FIXTURE');
    expect(result.out).not.toContain(Buffer.from('REDACTED-IN-FIXTURE').toString('base64'));
    // Every IRSA service account and its pods are listed, whatever the case.
    expect(report.serviceAccounts.map((sa) => `${sa.namespace}/${sa.name}`)).toEqual([
      'apps/web',
      'batch/jobs',
    ]);
  });
});
