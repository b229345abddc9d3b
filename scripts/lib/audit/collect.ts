/**
 * Reading the cluster for the audit: paginated lists of ServiceAccounts, Pods and Namespaces, the
 * MutatingWebhookConfigurations, and the webhook's serving certificate (from the cert-manager
 * Secret when RBAC allows, or from the webhook Service itself over TLS when running in the
 * cluster). Only GETs; every answer goes through the parsers in model.ts.
 */
import { IrsaError } from '#core/errors.ts';
import type { KubeClient } from '../doctor/kube-client.ts';
import { WEBHOOK_NAME } from '../webhook/manifests.ts';
import type { AuditInput } from './evaluate.ts';
import {
  findWebhook,
  irsaServiceAccounts,
  itemsOf,
  namespaceLabels,
  podView,
  type WebhookView,
} from './model.ts';

/** Reads the leaf-first PEM chain a TLS server presents at host:port (injected; in-cluster only). */
export type TlsPeerFetch = (host: string, port: number) => Promise<string>;

/** What collecting needs. */
export interface CollectDeps {
  kube: KubeClient;
  now: () => Date;
  /** Called as listing proceeds (the command shows it on a TTY). */
  progress?: (text: string) => void;
  tlsPeer?: TlsPeerFetch;
}

const PAGE = 500;

async function getJson(kube: KubeClient, path: string): Promise<{ status: number; json: unknown }> {
  const response = await kube.request('GET', path);
  try {
    return { status: response.status, json: JSON.parse(response.body) };
  } catch {
    return { status: response.status, json: undefined };
  }
}

function refused(path: string, status: number, json: unknown): IrsaError {
  const message = (json as { message?: unknown } | undefined)?.message;
  const said = typeof message === 'string' ? `: ${message}` : '';
  if (status === 401 || status === 403) {
    return new IrsaError(
      'AUDIT_KUBE_FORBIDDEN',
      `kube-apiserver refused GET ${path} (HTTP ${status})${said}.`,
      'Bind the read-only ClusterRole that `irsa-anywhere audit --print-rbac` prints to the identity the audit runs as.',
    );
  }
  return new IrsaError(
    'AUDIT_KUBE_FAILED',
    `GET ${path} answered HTTP ${status}${said}.`,
    'Check that the kubeconfig points at a working cluster (`kubectl get --raw /readyz`).',
  );
}

/** Every item of a list, following `metadata.continue`. */
export async function listAll(
  kube: KubeClient,
  path: string,
  progress?: (count: number) => void,
): Promise<unknown[]> {
  const items: unknown[] = [];
  let token: string | undefined;
  do {
    const query = `?limit=${PAGE}${token === undefined ? '' : `&continue=${encodeURIComponent(token)}`}`;
    const { status, json } = await getJson(kube, `${path}${query}`);
    if (status !== 200) throw refused(path, status, json);
    items.push(...itemsOf(json));
    progress?.(items.length);
    const next = (json as { metadata?: { continue?: unknown } } | undefined)?.metadata?.continue;
    token = typeof next === 'string' && next !== '' ? next : undefined;
  } while (token !== undefined);
  return items;
}

/** The serving certificate, from the cert-manager Secret or the Service; a reason when neither works. */
async function servingCertificate(
  deps: CollectDeps,
  hook: WebhookView,
): Promise<{ pem: string; source: string } | { unavailable: string }> {
  const tried: string[] = [];
  const [ns, certName] = (hook.injectCaFrom ?? '').split('/');
  if (ns !== undefined && certName !== undefined && certName !== '') {
    const cert = await getJson(
      deps.kube,
      `/apis/cert-manager.io/v1/namespaces/${ns}/certificates/${certName}`,
    );
    const secretName =
      cert.status === 200
        ? ((cert.json as { spec?: { secretName?: unknown } }).spec?.secretName ?? certName)
        : certName;
    const path = `/api/v1/namespaces/${ns}/secrets/${String(secretName)}`;
    const secret = await getJson(deps.kube, path);
    const crt = (secret.json as { data?: Record<string, unknown> } | undefined)?.data?.['tls.crt'];
    // Only tls.crt is read; the Secret's tls.key is never kept or printed.
    if (secret.status === 200 && typeof crt === 'string')
      return {
        pem: Buffer.from(crt, 'base64').toString('utf8'),
        source: `secret ${ns}/${String(secretName)}`,
      };
    tried.push(`secret ${ns}/${String(secretName)}: HTTP ${secret.status}`);
  } else {
    tried.push('no cert-manager.io/inject-ca-from annotation');
  }
  if (deps.tlsPeer !== undefined && hook.service !== undefined) {
    const host = `${hook.service.name}.${hook.service.namespace}.svc`;
    try {
      return { pem: await deps.tlsPeer(host, hook.service.port), source: `TLS ${host}:${hook.service.port}` };
    } catch (error) {
      tried.push(
        `TLS ${host}:${hook.service.port}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
  return { unavailable: tried.join('; ') };
}

/** Reads everything the evaluation needs. Throws `AUDIT_KUBE_FORBIDDEN` / `AUDIT_KUBE_FAILED`. */
export async function collectAudit(
  deps: CollectDeps,
  acceptedAudiences: readonly string[],
): Promise<AuditInput> {
  const say = deps.progress ?? (() => {});
  say('listing service accounts');
  const serviceAccounts = irsaServiceAccounts(
    await listAll(deps.kube, '/api/v1/serviceaccounts', (n) => say(`listing service accounts: ${n}`)),
  );
  say('listing pods');
  const pods = (await listAll(deps.kube, '/api/v1/pods', (n) => say(`listing pods: ${n}`)))
    .map(podView)
    .filter((pod) => pod !== undefined);
  say('listing namespaces');
  const namespaces = namespaceLabels(await listAll(deps.kube, '/api/v1/namespaces'));
  say('reading the webhook configuration');
  const webhook = findWebhook(
    await listAll(deps.kube, '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations'),
    WEBHOOK_NAME,
  );
  const input: AuditInput = { serviceAccounts, pods, namespaces, acceptedAudiences, now: deps.now() };
  if (webhook !== undefined) {
    input.webhook = webhook;
    say('reading the webhook serving certificate');
    input.servingCert = await servingCertificate(deps, webhook);
  }
  say('');
  return input;
}
