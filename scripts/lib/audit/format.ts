/** The audit as a terminal table: service accounts, pods, then findings with their fixes. */
import type { AuditReport } from './evaluate.ts';

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** The report as text. */
export function formatAudit(report: AuditReport): string {
  const out: string[] = [];
  const hook = report.webhook;
  out.push(
    hook === null
      ? 'Webhook: none (amazon-eks-pod-identity-webhook is not installed)'
      : `Webhook: ${hook.configName}, failurePolicy ${hook.failurePolicy}${
          hook.certificate === undefined
            ? ', serving certificate not checked'
            : `, serving certificate ${hook.certificate.verifies ? 'verified by the caBundle' : 'NOT verified by the caBundle'}, expires ${hook.certificate.notAfter}`
        }`,
  );
  out.push('', `Service accounts with eks.amazonaws.com/role-arn: ${report.serviceAccounts.length}`);
  if (report.serviceAccounts.length > 0) {
    out.push(
      table(
        ['NAMESPACE', 'SERVICE ACCOUNT', 'PODS', 'ROLE'],
        report.serviceAccounts.map((sa) => [sa.namespace, sa.name, String(sa.pods), sa.roleArn]),
      ),
    );
  }
  const unmutated = report.pods.filter((p) => !p.mutated);
  out.push(
    '',
    `Pods on those service accounts: ${report.pods.length} (${unmutated.length} without their role)`,
  );
  if (report.pods.length > 0) {
    out.push(
      table(
        ['NAMESPACE', 'POD', 'SERVICE ACCOUNT', 'ROLE INJECTED', 'WHY NOT'],
        report.pods.map((p) => [
          p.namespace,
          p.name,
          p.serviceAccount,
          p.mutated ? 'yes' : `NO (missing ${p.missing.join(', ')})`,
          p.reasons.join(', '),
        ]),
      ),
    );
  }
  if (report.findings.length > 0) {
    out.push('', 'Findings:');
    for (const f of report.findings) {
      out.push(`${f.severity === 'error' ? 'ERROR' : 'WARN '}  ${f.object}  ${f.id}: ${f.detail}`);
      out.push(`       fix: ${f.fix}`);
    }
  }
  out.push(
    '',
    report.ok
      ? 'OK: every IRSA pod has its role injected.'
      : `FAIL: ${unmutated.length} pod(s) would run without their role; ${report.findings.filter((f) => f.severity === 'error').length} error(s) in all.`,
  );
  return out.join('\n');
}
