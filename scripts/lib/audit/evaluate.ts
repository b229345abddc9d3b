/**
 * The audit's verdicts, from parsed inputs only: which IRSA pods the webhook did not mutate and
 * why, and what else is wrong with the service accounts, pods and webhook. Pure: the clock and
 * every cluster answer are parameters.
 */

import { DEFAULT_AUDIENCE } from '#core/token-claims.ts';
import { parseRoleArn } from '../doctor/checks/trust.ts';
import { type CertCheck, checkServingCertificate } from './certs.ts';
import type { IrsaServiceAccount, PodView, WebhookView } from './model.ts';
import { selectorMismatch } from './selectors.ts';

/** Why an IRSA pod has no role, or what else is risky. Stable ids, for scripts and tests. */
export type FindingId =
  | 'WEBHOOK_MISSING'
  | 'POD_CREATED_BEFORE_WEBHOOK'
  | 'WEBHOOK_RULES_EXCLUDE_PODS'
  | 'NAMESPACE_EXCLUDED'
  | 'OBJECT_EXCLUDED'
  | 'CA_BUNDLE_MISMATCH'
  | 'CERT_EXPIRED'
  | 'CERT_EXPIRES_SOON'
  | 'FAILURE_POLICY_IGNORE'
  | 'NOT_MUTATED_UNKNOWN'
  | 'ROLE_ARN_MALFORMED'
  | 'AUDIENCE_NOT_ACCEPTED'
  | 'TOKEN_EXPIRATION_TOO_SHORT'
  | 'HOST_NETWORK'
  | 'TRUST_POLICY_DENIES'
  | 'TRUST_NOT_CHECKED'
  | 'SERVING_CERT_UNKNOWN';

/** One finding about one object. `error` findings make the audit fail. */
export interface Finding {
  id: FindingId;
  severity: 'error' | 'warning';
  /** `pod/<ns>/<name>`, `serviceaccount/<ns>/<name>` or `webhook/<config>`. */
  object: string;
  detail: string;
  fix: string;
}

/** Everything the evaluation reads. */
export interface AuditInput {
  serviceAccounts: IrsaServiceAccount[];
  pods: PodView[];
  namespaces: Map<string, Record<string, string>>;
  webhook?: WebhookView;
  /** The webhook's serving certificate (PEM chain), or why it could not be read. */
  servingCert?: { pem: string; source: string } | { unavailable: string };
  acceptedAudiences: readonly string[];
  now: Date;
}

/** One IRSA pod and its verdict. */
export interface PodVerdict {
  namespace: string;
  name: string;
  serviceAccount: string;
  roleArn: string;
  mutated: boolean;
  /** What is missing: AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE, token volume. */
  missing: string[];
  reasons: FindingId[];
}

/** The audit's result. */
export interface AuditReport {
  ok: boolean;
  webhook: (Pick<WebhookView, 'configName' | 'failurePolicy'> & { certificate?: CertCheck }) | null;
  serviceAccounts: Array<IrsaServiceAccount & { pods: number }>;
  pods: PodVerdict[];
  findings: Finding[];
}

const MIN_EXPIRATION = 600;
const RECREATE =
  'then recreate the pod (kubectl rollout restart on its deployment): only pods created after the fix are mutated.';

function missingOf(pod: PodView): string[] {
  const missing: string[] = [];
  if (pod.containersWithoutRoleArn.length > 0) missing.push('AWS_ROLE_ARN');
  if (pod.containersWithoutTokenFile.length > 0) missing.push('AWS_WEB_IDENTITY_TOKEN_FILE');
  if (pod.tokenVolume === undefined) missing.push('token volume');
  return missing;
}

function certCheck(input: AuditInput): CertCheck | { problem: string } | undefined {
  const hook = input.webhook;
  if (hook === undefined || input.servingCert === undefined) return undefined;
  if ('unavailable' in input.servingCert) return { problem: input.servingCert.unavailable };
  if (hook.caBundle === undefined) return { problem: 'the webhook has no caBundle' };
  try {
    return checkServingCertificate(hook.caBundle, input.servingCert.pem, input.now);
  } catch (error) {
    return {
      problem: `cannot parse the caBundle or serving certificate: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
}

/** Why `pod` was not mutated, most specific first (several may hold). */
function reasonsFor(
  pod: PodView,
  input: AuditInput,
  cert: CertCheck | { problem: string } | undefined,
): Array<Omit<Finding, 'object' | 'severity'>> {
  const hook = input.webhook;
  if (hook === undefined) {
    return [
      {
        id: 'WEBHOOK_MISSING',
        detail:
          'no MutatingWebhookConfiguration for amazon-eks-pod-identity-webhook: nothing injects the role',
        fix: `Install it: irsa-anywhere webhook manifests --region <region> | kubectl apply -f -, ${RECREATE}`,
      },
    ];
  }
  const reasons: Array<Omit<Finding, 'object' | 'severity'>> = [];
  if (
    pod.createdAt !== undefined &&
    hook.createdAt !== undefined &&
    Date.parse(pod.createdAt) < Date.parse(hook.createdAt)
  ) {
    reasons.push({
      id: 'POD_CREATED_BEFORE_WEBHOOK',
      detail: `created ${pod.createdAt}, before the webhook configuration (${hook.createdAt})`,
      fix: `Recreate the pod: ${RECREATE}`,
    });
  }
  if (!hook.coversPodCreate) {
    reasons.push({
      id: 'WEBHOOK_RULES_EXCLUDE_PODS',
      detail: `the rules of ${hook.configName} do not send pod CREATE (apiGroups "", v1, pods) to the webhook`,
      fix: `Restore the rules (irsa-anywhere webhook manifests shows them), ${RECREATE}`,
    });
  }
  const nsMismatch = selectorMismatch(hook.namespaceSelector, input.namespaces.get(pod.namespace) ?? {});
  if (nsMismatch !== undefined) {
    reasons.push({
      id: 'NAMESPACE_EXCLUDED',
      detail: `namespace ${pod.namespace} ${nsMismatch} (the webhook's namespaceSelector)`,
      fix: `Label the namespace to match the namespaceSelector of ${hook.configName}, or widen the selector, ${RECREATE}`,
    });
  }
  const objMismatch = selectorMismatch(hook.objectSelector, pod.labels);
  if (objMismatch !== undefined) {
    reasons.push({
      id: 'OBJECT_EXCLUDED',
      detail: `the pod ${objMismatch} (the webhook's objectSelector)`,
      fix: `Label the pod template to match the objectSelector of ${hook.configName}, ${RECREATE}`,
    });
  }
  if (cert !== undefined && !('problem' in cert)) {
    if (!cert.verifies) {
      reasons.push({
        id: 'CA_BUNDLE_MISMATCH',
        detail: `the caBundle does not verify the serving certificate (${cert.subject}): kube-apiserver cannot call the webhook`,
        fix: `Re-inject the CA (cert-manager cainjector, annotation cert-manager.io/inject-ca-from) or set caBundle to the issuing CA, ${RECREATE}`,
      });
    }
    if (cert.expired) {
      reasons.push({
        id: 'CERT_EXPIRED',
        detail: `the serving certificate expired ${cert.notAfter}`,
        fix: `Renew it (cert-manager: kubectl cert-manager renew, or delete its Secret), ${RECREATE}`,
      });
    }
  }
  const admissionFailure = reasons.every((r) => r.id === 'CA_BUNDLE_MISMATCH' || r.id === 'CERT_EXPIRED');
  if (hook.failurePolicy === 'Ignore' && admissionFailure) {
    reasons.push({
      id: 'FAILURE_POLICY_IGNORE',
      detail: `failurePolicy Ignore: a failed or timed-out webhook call admits the pod unmutated, so it silently uses the node's role`,
      fix: `Find why the call failed (webhook pods, their Service, TLS), consider failurePolicy Fail, ${RECREATE}`,
    });
  }
  if (reasons.length === 0) {
    reasons.push({
      id: 'NOT_MUTATED_UNKNOWN',
      detail:
        'the webhook should have mutated this pod; the cause is not visible from the API (e.g. the service account was annotated after the pod was created)',
      fix: `Check the webhook's log, ${RECREATE}`,
    });
  }
  return reasons;
}

function serviceAccountFindings(sa: IrsaServiceAccount, accepted: readonly string[]): Finding[] {
  const object = `serviceaccount/${sa.namespace}/${sa.name}`;
  const findings: Finding[] = [];
  if (parseRoleArn(sa.roleArn) === undefined) {
    findings.push({
      id: 'ROLE_ARN_MALFORMED',
      severity: 'error',
      object,
      detail: `eks.amazonaws.com/role-arn "${sa.roleArn}" is not an IAM role ARN: STS refuses every call`,
      fix: `kubectl -n ${sa.namespace} annotate --overwrite serviceaccount ${sa.name} eks.amazonaws.com/role-arn=arn:aws:iam::<12-digit account>:role/<name>`,
    });
  }
  const audience = sa.audience ?? DEFAULT_AUDIENCE;
  if (!accepted.includes(audience)) {
    findings.push({
      id: 'AUDIENCE_NOT_ACCEPTED',
      severity: 'error',
      object,
      detail: `token audience "${audience}" is not an accepted audience (${accepted.join(', ')}): STS answers "Incorrect token audience"`,
      fix: `kubectl -n ${sa.namespace} annotate serviceaccount ${sa.name} eks.amazonaws.com/audience- (or add the audience as a client ID of the IAM OIDC provider and pass --audience)`,
    });
  }
  if (sa.tokenExpiration !== undefined) {
    const seconds = Number(sa.tokenExpiration);
    if (!Number.isInteger(seconds) || seconds < MIN_EXPIRATION) {
      findings.push({
        id: 'TOKEN_EXPIRATION_TOO_SHORT',
        severity: 'warning',
        object,
        detail: `eks.amazonaws.com/token-expiration "${sa.tokenExpiration}" is not a whole number of at least ${MIN_EXPIRATION} s (the webhook and kube-apiserver refuse shorter tokens)`,
        fix: `kubectl -n ${sa.namespace} annotate --overwrite serviceaccount ${sa.name} eks.amazonaws.com/token-expiration=86400`,
      });
    }
  }
  return findings;
}

function podFlags(pod: PodView, accepted: readonly string[]): Finding[] {
  const object = `pod/${pod.namespace}/${pod.name}`;
  const findings: Finding[] = [];
  if (pod.hostNetwork) {
    findings.push({
      id: 'HOST_NETWORK',
      severity: 'warning',
      object,
      detail:
        "hostNetwork: true on an IRSA service account: the pod reaches the node's instance metadata and the node's role",
      fix: 'Drop hostNetwork, or block instance metadata for the pod (IMDSv2 hop limit 1 does not help with hostNetwork).',
    });
  }
  const volume = pod.tokenVolume;
  if (volume?.audience !== undefined && !accepted.includes(volume.audience)) {
    findings.push({
      id: 'AUDIENCE_NOT_ACCEPTED',
      severity: 'error',
      object,
      detail: `token volume ${volume.name} has audience "${volume.audience}", not an accepted audience (${accepted.join(', ')})`,
      fix: 'Fix the service account annotation eks.amazonaws.com/audience, then recreate the pod.',
    });
  }
  if (volume?.expirationSeconds !== undefined && volume.expirationSeconds < MIN_EXPIRATION) {
    findings.push({
      id: 'TOKEN_EXPIRATION_TOO_SHORT',
      severity: 'warning',
      object,
      detail: `token volume ${volume.name} expires after ${volume.expirationSeconds} s, under ${MIN_EXPIRATION} s`,
      fix: 'Set eks.amazonaws.com/token-expiration to 600 or more (86400 is the default), then recreate the pod.',
    });
  }
  return findings;
}

function webhookFindings(hook: WebhookView, cert: CertCheck | { problem: string } | undefined): Finding[] {
  const object = `webhook/${hook.configName}`;
  const findings: Finding[] = [];
  if (hook.failurePolicy === 'Ignore') {
    findings.push({
      id: 'FAILURE_POLICY_IGNORE',
      severity: 'warning',
      object,
      detail:
        'failurePolicy Ignore: when the webhook is down or its certificate is wrong, new pods start without their role',
      fix: 'Watch this audit (it exits 1 on any unmutated pod), or set failurePolicy Fail once the webhook runs highly available.',
    });
  }
  if (cert === undefined) return findings;
  if ('problem' in cert) {
    findings.push({
      id: 'SERVING_CERT_UNKNOWN',
      severity: 'warning',
      object,
      detail: `the serving certificate was not checked: ${cert.problem}`,
      fix: 'Run the audit in the cluster (it then connects to the webhook Service), or grant it get on the webhook certificate Secret (--print-rbac).',
    });
    return findings;
  }
  if (!cert.verifies) {
    findings.push({
      id: 'CA_BUNDLE_MISMATCH',
      severity: 'error',
      object,
      detail: `the caBundle does not verify the serving certificate (${cert.subject})`,
      fix: 'Re-inject the CA: check cert-manager cainjector and the annotation cert-manager.io/inject-ca-from.',
    });
  }
  if (cert.expired || cert.expiresSoon) {
    findings.push({
      id: cert.expired ? 'CERT_EXPIRED' : 'CERT_EXPIRES_SOON',
      severity: cert.expired ? 'error' : 'warning',
      object,
      detail: cert.expired
        ? `the serving certificate expired ${cert.notAfter}`
        : `the serving certificate expires ${cert.notAfter} (in ${cert.daysLeft} days, under 14)`,
      fix: 'Check that cert-manager renews it (kubectl describe certificate), or renew it now.',
    });
  }
  return findings;
}

/** Evaluates the audit. `ok` is false when any IRSA pod runs without its role or a hard error was found. */
export function evaluateAudit(input: AuditInput): AuditReport {
  const cert = certCheck(input);
  const findings: Finding[] = input.webhook === undefined ? [] : webhookFindings(input.webhook, cert);
  const byName = new Map(input.serviceAccounts.map((sa) => [`${sa.namespace}/${sa.name}`, sa]));
  const podCounts = new Map<string, number>();
  const pods: PodVerdict[] = [];
  for (const sa of input.serviceAccounts)
    findings.push(...serviceAccountFindings(sa, input.acceptedAudiences));
  for (const pod of input.pods) {
    const key = `${pod.namespace}/${pod.serviceAccount}`;
    const sa = byName.get(key);
    if (sa === undefined) continue;
    podCounts.set(key, (podCounts.get(key) ?? 0) + 1);
    const missing = missingOf(pod);
    const reasons = missing.length === 0 ? [] : reasonsFor(pod, input, cert);
    const object = `pod/${pod.namespace}/${pod.name}`;
    for (const reason of reasons) {
      findings.push({
        ...reason,
        severity: 'error',
        object,
        detail: `no ${missing.join(', ')}: ${reason.detail}`,
      });
    }
    findings.push(...podFlags(pod, input.acceptedAudiences));
    pods.push({
      namespace: pod.namespace,
      name: pod.name,
      serviceAccount: pod.serviceAccount,
      roleArn: sa.roleArn,
      mutated: missing.length === 0,
      missing,
      reasons: reasons.map((r) => r.id),
    });
  }
  const hook = input.webhook;
  return {
    ok: !findings.some((f) => f.severity === 'error'),
    webhook:
      hook === undefined
        ? null
        : {
            configName: hook.configName,
            failurePolicy: hook.failurePolicy,
            ...(cert === undefined || 'problem' in cert ? {} : { certificate: cert }),
          },
    serviceAccounts: input.serviceAccounts.map((sa) => ({
      ...sa,
      pods: podCounts.get(`${sa.namespace}/${sa.name}`) ?? 0,
    })),
    pods,
    findings,
  };
}
