/**
 * Cluster (with `--kubeconfig`): kube-apiserver's own discovery names our issuer; its JWKS kids are
 * all published; the pod identity webhook is installed; the service account is annotated.
 */

import { describeIssuerDifference } from '#core/verify-token.ts';
import { WEBHOOK_NAME } from '../../webhook/manifests.ts';
import type { KubeClient } from '../kube-client.ts';
import { type CheckResult, type DoctorContext, result } from '../types.ts';
import { messageOf } from './setup.ts';

const T = {
  discovery: "kube-apiserver's discovery names the same issuer",
  jwks: "kube-apiserver's signing keys are all in the published JWKS",
  webhook: 'amazon-eks-pod-identity-webhook is installed',
  serviceAccount: 'Service account is annotated with eks.amazonaws.com/role-arn',
};

const ROLE_ANNOTATION = 'eks.amazonaws.com/role-arn';
const AUDIENCE_ANNOTATION = 'eks.amazonaws.com/audience';

async function getJson(kube: KubeClient, path: string): Promise<{ status: number; json: unknown }> {
  const response = await kube.request('GET', path);
  let json: unknown;
  try {
    json = JSON.parse(response.body);
  } catch {
    json = undefined;
  }
  return { status: response.status, json };
}

function kidsOf(jwks: unknown): string[] {
  const keys = (jwks as { keys?: unknown } | undefined)?.keys;
  return Array.isArray(keys) ? keys.map((key) => String((key as { kid?: unknown }).kid)) : [];
}

/** `cluster.discovery`, `cluster.jwks`, `cluster.webhook`, `cluster.serviceaccount`. */
export async function checkCluster(ctx: DoctorContext): Promise<CheckResult[]> {
  const kube = ctx.kube;
  if (kube === undefined) {
    const reason =
      ctx.options.kubeconfig === undefined
        ? 'no --kubeconfig given: cluster checks skipped'
        : `the kubeconfig is not usable: cluster checks skipped`;
    return Object.entries(T).map(([id, title]) =>
      result(`cluster.${id === 'serviceAccount' ? 'serviceaccount' : id}`, title, 'SKIP', reason),
    );
  }
  return [
    await discovery(ctx, kube),
    await jwks(ctx, kube),
    await webhook(kube),
    await serviceAccount(ctx, kube),
  ];
}

async function discovery(ctx: DoctorContext, kube: KubeClient): Promise<CheckResult> {
  try {
    const { status, json } = await getJson(kube, '/.well-known/openid-configuration');
    if (status !== 200) {
      return result(
        'cluster.discovery',
        T.discovery,
        'FAIL',
        `kube-apiserver answered HTTP ${status}`,
        'Use a kubeconfig allowed to read /.well-known/openid-configuration (ClusterRole system:service-account-issuer-discovery).',
      );
    }
    const issuer = (json as { issuer?: unknown } | undefined)?.issuer;
    if (ctx.issuer === undefined)
      return result(
        'cluster.discovery',
        T.discovery,
        'SKIP',
        `kube-apiserver's issuer is ${String(issuer)}; no issuer to compare with`,
      );
    if (issuer === ctx.issuer) return result('cluster.discovery', T.discovery, 'PASS', `"${issuer}"`);
    return result(
      'cluster.discovery',
      T.discovery,
      'FAIL',
      `kube-apiserver signs tokens for ${typeof issuer === 'string' ? describeIssuerDifference(issuer, ctx.issuer) : 'no issuer'}`,
      `Set kube-apiserver's first --service-account-issuer to ${ctx.issuer}: irsa-anywhere apiserver configure --issuer ${ctx.issuer}.`,
    );
  } catch (error) {
    return result(
      'cluster.discovery',
      T.discovery,
      'FAIL',
      messageOf(error),
      'Check the kubeconfig and that the API server is reachable.',
    );
  }
}

async function jwks(ctx: DoctorContext, kube: KubeClient): Promise<CheckResult> {
  try {
    const { status, json } = await getJson(kube, '/openid/v1/jwks');
    if (status !== 200)
      return result(
        'cluster.jwks',
        T.jwks,
        'FAIL',
        `kube-apiserver answered HTTP ${status}`,
        'Use a kubeconfig allowed to read /openid/v1/jwks.',
      );
    const clusterKids = kidsOf(json);
    if (ctx.jwks === undefined)
      return result(
        'cluster.jwks',
        T.jwks,
        'SKIP',
        `kube-apiserver has ${clusterKids.join(', ')}; the published JWKS could not be read`,
      );
    const published = kidsOf(ctx.jwks);
    const unpublished = clusterKids.filter((kid) => !published.includes(kid));
    if (unpublished.length > 0) {
      return result(
        'cluster.jwks',
        T.jwks,
        'FAIL',
        `kube-apiserver holds ${unpublished.join(', ')}, which the issuer does not publish: tokens it signs fail with "Couldn't retrieve verification key from your identity provider"`,
        'Make kube-apiserver sign only with keys from the stack: run `irsa-anywhere signer` (kms mode) or `irsa-anywhere key-sync` (file mode), and drop other --service-account-key-file flags once their tokens expire.',
      );
    }
    const extra = published.filter((kid) => !clusterKids.includes(kid));
    return result(
      'cluster.jwks',
      T.jwks,
      'PASS',
      `${clusterKids.join(', ')}${extra.length > 0 ? ` (also published: ${extra.join(', ')}, pending or retired keys)` : ''}`,
    );
  } catch (error) {
    return result(
      'cluster.jwks',
      T.jwks,
      'FAIL',
      messageOf(error),
      'Check the kubeconfig and that the API server is reachable.',
    );
  }
}

async function webhook(kube: KubeClient): Promise<CheckResult> {
  try {
    const { status, json } = await getJson(
      kube,
      '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations',
    );
    if (status !== 200)
      return result(
        'cluster.webhook',
        T.webhook,
        'SKIP',
        `cannot list MutatingWebhookConfigurations (HTTP ${status})`,
        'Use a kubeconfig allowed to list mutatingwebhookconfigurations.',
      );
    const items = ((json as { items?: unknown[] } | undefined)?.items ?? []) as Array<{
      metadata?: { name?: string };
      webhooks?: Array<{ name?: string }>;
    }>;
    const found = items.find(
      (item) =>
        item.metadata?.name === WEBHOOK_NAME ||
        (item.webhooks ?? []).some((hook) => hook.name === 'pod-identity-webhook.amazonaws.com'),
    );
    if (found === undefined) {
      return result(
        'cluster.webhook',
        T.webhook,
        'FAIL',
        'no MutatingWebhookConfiguration for pod-identity-webhook: pods get no token or AWS_ROLE_ARN',
        'Install it (needs cert-manager): irsa-anywhere webhook manifests --region <region> | kubectl apply -f -',
      );
    }
    return result(
      'cluster.webhook',
      T.webhook,
      'PASS',
      `MutatingWebhookConfiguration ${found.metadata?.name ?? '?'}`,
    );
  } catch (error) {
    return result(
      'cluster.webhook',
      T.webhook,
      'FAIL',
      messageOf(error),
      'Check the kubeconfig and that the API server is reachable.',
    );
  }
}

async function serviceAccount(ctx: DoctorContext, kube: KubeClient): Promise<CheckResult> {
  const { namespace, serviceAccount: name, roleArn } = ctx.options;
  if (namespace === undefined || name === undefined) {
    return result(
      'cluster.serviceaccount',
      T.serviceAccount,
      'SKIP',
      'no --namespace and --service-account given',
    );
  }
  try {
    const { status, json } = await getJson(
      kube,
      `/api/v1/namespaces/${encodeURIComponent(namespace)}/serviceaccounts/${encodeURIComponent(name)}`,
    );
    if (status === 404) {
      return result(
        'cluster.serviceaccount',
        T.serviceAccount,
        'FAIL',
        `service account ${namespace}/${name} does not exist`,
        `kubectl -n ${namespace} create serviceaccount ${name}`,
      );
    }
    if (status !== 200)
      return result(
        'cluster.serviceaccount',
        T.serviceAccount,
        'FAIL',
        `kube-apiserver answered HTTP ${status}`,
        'Use a kubeconfig allowed to read service accounts.',
      );
    const annotations = ((json as { metadata?: { annotations?: Record<string, string> } }).metadata
      ?.annotations ?? {}) as Record<string, string>;
    const annotated = annotations[ROLE_ANNOTATION];
    const wanted = roleArn ?? '<role arn>';
    if (annotated === undefined) {
      return result(
        'cluster.serviceaccount',
        T.serviceAccount,
        'FAIL',
        `${namespace}/${name} has no ${ROLE_ANNOTATION} annotation: the webhook leaves its pods alone`,
        `kubectl -n ${namespace} annotate serviceaccount ${name} ${ROLE_ANNOTATION}=${wanted}`,
      );
    }
    if (roleArn !== undefined && annotated !== roleArn) {
      return result(
        'cluster.serviceaccount',
        T.serviceAccount,
        'FAIL',
        `${namespace}/${name} is annotated with ${annotated}, not ${roleArn}`,
        `kubectl -n ${namespace} annotate --overwrite serviceaccount ${name} ${ROLE_ANNOTATION}=${roleArn}`,
      );
    }
    const audience = annotations[AUDIENCE_ANNOTATION];
    if (
      audience !== undefined &&
      audience !== ctx.audience &&
      !(ctx.provider?.clientIds.includes(audience) ?? false)
    ) {
      return result(
        'cluster.serviceaccount',
        T.serviceAccount,
        'WARN',
        `${AUDIENCE_ANNOTATION} is "${audience}", not "${ctx.audience}": STS answers "Incorrect token audience" unless the provider lists it`,
        `kubectl -n ${namespace} annotate serviceaccount ${name} ${AUDIENCE_ANNOTATION}-`,
      );
    }
    return result('cluster.serviceaccount', T.serviceAccount, 'PASS', `${ROLE_ANNOTATION}=${annotated}`);
  } catch (error) {
    return result(
      'cluster.serviceaccount',
      T.serviceAccount,
      'FAIL',
      messageOf(error),
      'Check the kubeconfig and that the API server is reachable.',
    );
  }
}
