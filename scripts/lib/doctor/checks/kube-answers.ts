/**
 * How doctor reads kube-apiserver's answers, the same way in every cluster check: JSON bodies, a
 * 403 is a SKIP naming the RBAC rule it needs (a least-privilege user gets a clean run, not a
 * FAIL), and a missing service account is created after its namespace.
 */
import { type KubeClient, type KubeRequestOptions, kubeStatusMessage } from '../kube-client.ts';
import { type CheckResult, result } from '../types.ts';

/** A parsed answer: the status, the JSON body (undefined when not JSON) and Status.message. */
export interface KubeAnswer {
  status: number;
  json: unknown;
  message: string;
}

/** GET `path` and parse the body. Rejects only when kube-apiserver did not answer. */
export async function getJson(
  kube: KubeClient,
  path: string,
  options?: KubeRequestOptions,
): Promise<KubeAnswer> {
  const response = await kube.request('GET', path, undefined, options);
  let json: unknown;
  try {
    json = JSON.parse(response.body);
  } catch {
    json = undefined;
  }
  return { status: response.status, json, message: kubeStatusMessage(response.body) };
}

/** ` (kube-apiserver: <message>)`, or '' without one. */
function said(message: string): string {
  return message === '' ? '' : ` (kube-apiserver: ${message})`;
}

/**
 * The line for an answer that is not 200: 403 is a SKIP saying which RBAC rule would let doctor
 * check (`rbac`, e.g. 'get on serviceaccounts in namespace apps'), anything else a FAIL.
 */
export function refusedLine(id: string, title: string, answer: KubeAnswer, rbac: string): CheckResult {
  if (answer.status === 403) {
    return result(
      id,
      title,
      'SKIP',
      `not checked: needs RBAC ${rbac}${said(answer.message)}`,
      `Run doctor with a kubeconfig allowed ${rbac} to include this check.`,
    );
  }
  return result(
    id,
    title,
    'FAIL',
    `kube-apiserver answered HTTP ${answer.status}${said(answer.message)}`,
    'Check the kubeconfig points at the right cluster and that kube-apiserver is healthy (`kubectl get --raw /readyz`).',
  );
}

/**
 * The commands that create `namespace/serviceAccount`: the namespace first when it does not exist
 * (kubectl -n X create serviceaccount fails until it does), both when doctor may not look.
 */
export async function createServiceAccountFix(
  kube: KubeClient,
  namespace: string,
  serviceAccount: string,
): Promise<string> {
  const createSa = `kubectl -n ${namespace} create serviceaccount ${serviceAccount}`;
  let status: number;
  try {
    status = (await kube.request('GET', `/api/v1/namespaces/${encodeURIComponent(namespace)}`)).status;
  } catch {
    status = 0;
  }
  if (status === 200) return createSa;
  if (status === 404) return `kubectl create namespace ${namespace} && ${createSa}`;
  return `kubectl create namespace ${namespace} (unless it exists), then ${createSa}`;
}
