/**
 * `cluster.webhook`: a MutatingWebhookConfiguration for pod-identity-webhook exists, kube-apiserver
 * can trust it (a non-empty caBundle, which cert-manager injects), and its service has a ready
 * endpoint. With failurePolicy Ignore a webhook that is not running fails silently: pods simply
 * start without AWS_ROLE_ARN, so each of these is a FAIL, not a PASS.
 */
import { WEBHOOK_NAME } from '../../webhook/manifests.ts';
import type { KubeClient } from '../kube-client.ts';
import { type CheckResult, result } from '../types.ts';
import { getJson, refusedLine } from './kube-answers.ts';

/** The title of `cluster.webhook`. */
export const WEBHOOK_TITLE = 'amazon-eks-pod-identity-webhook is installed and running';

const ID = 'cluster.webhook';
const HOOK_NAME = 'pod-identity-webhook.amazonaws.com';

interface Hook {
  name?: string;
  clientConfig?: { caBundle?: string; url?: string; service?: { namespace?: string; name?: string } };
}
interface WebhookConfiguration {
  metadata?: { name?: string };
  webhooks?: Hook[];
}
interface EndpointSlice {
  endpoints?: Array<{ conditions?: { ready?: boolean } }>;
}

const INSTALL = 'irsa-anywhere webhook manifests --region <region> | kubectl apply -f -';

/** Lists the webhook configurations and checks the pod identity one. */
export async function checkWebhook(kube: KubeClient): Promise<CheckResult> {
  const list = await getJson(kube, '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations');
  if (list.status !== 200)
    return refusedLine(
      ID,
      WEBHOOK_TITLE,
      list,
      'list on mutatingwebhookconfigurations (admissionregistration.k8s.io)',
    );
  const items = ((list.json as { items?: unknown[] } | undefined)?.items ?? []) as WebhookConfiguration[];
  const found = items.find(
    (item) =>
      item.metadata?.name === WEBHOOK_NAME || (item.webhooks ?? []).some((hook) => hook.name === HOOK_NAME),
  );
  if (found === undefined) {
    return result(
      ID,
      WEBHOOK_TITLE,
      'FAIL',
      'no MutatingWebhookConfiguration for pod-identity-webhook: pods get no token or AWS_ROLE_ARN',
      `Install it (needs cert-manager): ${INSTALL}`,
    );
  }
  const config = found.metadata?.name ?? '?';
  const hooks = found.webhooks ?? [];
  const hook = hooks.find((h) => h.name === HOOK_NAME) ?? hooks[0];
  if (hook === undefined)
    return result(
      ID,
      WEBHOOK_TITLE,
      'FAIL',
      `MutatingWebhookConfiguration ${config} lists no webhook`,
      `Re-apply it: ${INSTALL}`,
    );
  if ((hook.clientConfig?.caBundle ?? '') === '') {
    return result(
      ID,
      WEBHOOK_TITLE,
      'FAIL',
      `MutatingWebhookConfiguration ${config} has an empty caBundle: kube-apiserver cannot trust the webhook, every call fails and (failurePolicy Ignore) pods start without AWS credentials`,
      'cert-manager fills caBundle from the cert-manager.io/inject-ca-from annotation: install cert-manager (its cainjector must run), check `kubectl get certificate -A`, then re-apply the manifests.',
    );
  }
  const service = hook.clientConfig?.service;
  if (service?.name === undefined || service.namespace === undefined)
    return result(
      ID,
      WEBHOOK_TITLE,
      'PASS',
      `MutatingWebhookConfiguration ${config} (url webhook; its endpoint is not checked)`,
    );
  return endpoints(kube, config, service.namespace, service.name);
}

/** The webhook's service has at least one ready endpoint (EndpointSlices, discovery.k8s.io/v1). */
async function endpoints(
  kube: KubeClient,
  config: string,
  namespace: string,
  name: string,
): Promise<CheckResult> {
  const selector = encodeURIComponent(`kubernetes.io/service-name=${name}`);
  const slices = await getJson(
    kube,
    `/apis/discovery.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/endpointslices?labelSelector=${selector}`,
  );
  if (slices.status !== 200) {
    const line = refusedLine(
      ID,
      WEBHOOK_TITLE,
      slices,
      `list on endpointslices (discovery.k8s.io) in namespace ${namespace}`,
    );
    return {
      ...line,
      detail: `MutatingWebhookConfiguration ${config} found with a caBundle; whether service ${namespace}/${name} runs is ${line.detail}`,
    };
  }
  const ready = ((slices.json as { items?: EndpointSlice[] } | undefined)?.items ?? [])
    .flatMap((slice) => slice.endpoints ?? [])
    // EndpointSlice: an absent `ready` means unknown, which consumers treat as ready.
    .filter((endpoint) => endpoint.conditions?.ready !== false).length;
  if (ready === 0) {
    return result(
      ID,
      WEBHOOK_TITLE,
      'FAIL',
      `service ${namespace}/${name} of MutatingWebhookConfiguration ${config} has no ready endpoint: no webhook pod is running, and (failurePolicy Ignore) pods start without AWS credentials`,
      `See why: kubectl -n ${namespace} get deployment,pods -l app.kubernetes.io/name=${WEBHOOK_NAME} and kubectl -n ${namespace} describe deployment ${name}; re-apply with ${INSTALL}`,
    );
  }
  return result(
    ID,
    WEBHOOK_TITLE,
    'PASS',
    `MutatingWebhookConfiguration ${config}, caBundle set, service ${namespace}/${name} has ${ready} ready endpoint${ready === 1 ? '' : 's'}`,
  );
}
