/**
 * The RBAC the audit needs, printed by `audit --print-rbac`: a read-only ClusterRole with exactly
 * the calls the audit makes, and an optional Role that lets it read the webhook's certificate
 * Secret (only tls.crt is used, but RBAC cannot grant part of a Secret, so it is separate and
 * limited to that one Secret by name).
 */
import { stringify } from 'yaml';
import { WEBHOOK_NAME } from '../webhook/manifests.ts';

/** The manifests, as one multi-document YAML text. */
export function auditRbacYaml(options: { name?: string; webhookNamespace?: string } = {}): string {
  const name = options.name ?? 'irsa-anywhere-audit';
  const namespace = options.webhookNamespace ?? 'irsa-system';
  const clusterRole = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name },
    rules: [
      { apiGroups: [''], resources: ['serviceaccounts', 'pods', 'namespaces'], verbs: ['list'] },
      {
        apiGroups: ['admissionregistration.k8s.io'],
        resources: ['mutatingwebhookconfigurations'],
        verbs: ['list'],
      },
      { apiGroups: ['cert-manager.io'], resources: ['certificates'], verbs: ['get'] },
      { nonResourceURLs: ['/.well-known/openid-configuration'], verbs: ['get'] },
    ],
  };
  const secretRole = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: `${name}-webhook-cert`, namespace },
    rules: [
      { apiGroups: [''], resources: ['secrets'], resourceNames: [`${WEBHOOK_NAME}-cert`], verbs: ['get'] },
    ],
  };
  return [
    '# Read-only: what `irsa-anywhere audit` lists. Bind it with a ClusterRoleBinding to the user or',
    '# service account the audit runs as.',
    stringify(clusterRole).trimEnd(),
    '---',
    '# Optional: lets the audit check the webhook serving certificate against the caBundle from the',
    '# cert-manager Secret (it reads tls.crt only). Without it, the check runs only in-cluster, over TLS.',
    stringify(secretRole).trimEnd(),
    '',
  ].join('\n');
}
