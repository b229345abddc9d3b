/**
 * The audit's view of a cluster: the few fields of ServiceAccounts, Pods, Namespaces and the pod
 * identity MutatingWebhookConfiguration it needs, parsed defensively from API answers (a field of
 * the wrong type is treated as absent, never trusted). Pure: no I/O.
 */
import type { LabelSelector } from './selectors.ts';

export const ROLE_ANNOTATION = 'eks.amazonaws.com/role-arn';
export const AUDIENCE_ANNOTATION = 'eks.amazonaws.com/audience';
export const EXPIRATION_ANNOTATION = 'eks.amazonaws.com/token-expiration';
export const SKIP_CONTAINERS_ANNOTATION = 'eks.amazonaws.com/skip-containers';
export const WEBHOOK_ENTRY = 'pod-identity-webhook.amazonaws.com';

/** A ServiceAccount annotated with a role. */
export interface IrsaServiceAccount {
  namespace: string;
  name: string;
  roleArn: string;
  audience?: string;
  tokenExpiration?: string;
}

/** A pod, reduced to what the webhook would have injected. */
export interface PodView {
  namespace: string;
  name: string;
  serviceAccount: string;
  labels: Record<string, string>;
  createdAt?: string;
  hostNetwork: boolean;
  /** Containers (not init containers) missing each injected variable; skip-containers left out. */
  containersWithoutRoleArn: string[];
  containersWithoutTokenFile: string[];
  /** The projected service-account token volume, when there is one. */
  tokenVolume?: { name: string; audience?: string; expirationSeconds?: number };
}

/** The pod identity webhook entry of a MutatingWebhookConfiguration. */
export interface WebhookView {
  configName: string;
  createdAt?: string;
  failurePolicy: string;
  namespaceSelector?: LabelSelector;
  objectSelector?: LabelSelector;
  /** Decoded caBundle PEM, when set. */
  caBundle?: string;
  service?: { namespace: string; name: string; port: number; path?: string };
  url?: string;
  /** False when the rules do not send pod CREATE to the webhook. */
  coversPodCreate: boolean;
  /** `cert-manager.io/inject-ca-from` (namespace/certificate), when present. */
  injectCaFrom?: string;
}

type Obj = Record<string, unknown>;
const obj = (value: unknown): Obj =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Obj) : {};
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const strings = (value: unknown): Record<string, string> =>
  Object.fromEntries(
    Object.entries(obj(value)).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
  );

/** The `items` of a List answer. */
export function itemsOf(listAnswer: unknown): Obj[] {
  return list(obj(listAnswer).items).map(obj);
}

/** ServiceAccounts annotated with `eks.amazonaws.com/role-arn`. */
export function irsaServiceAccounts(items: readonly unknown[]): IrsaServiceAccount[] {
  const found: IrsaServiceAccount[] = [];
  for (const item of items) {
    const meta = obj(obj(item).metadata);
    const annotations = strings(meta.annotations);
    const roleArn = annotations[ROLE_ANNOTATION];
    const namespace = str(meta.namespace);
    const name = str(meta.name);
    if (roleArn === undefined || namespace === undefined || name === undefined) continue;
    found.push({
      namespace,
      name,
      roleArn,
      ...(annotations[AUDIENCE_ANNOTATION] === undefined
        ? {}
        : { audience: annotations[AUDIENCE_ANNOTATION] }),
      ...(annotations[EXPIRATION_ANNOTATION] === undefined
        ? {}
        : { tokenExpiration: annotations[EXPIRATION_ANNOTATION] }),
    });
  }
  return found;
}

/** A pod's view; undefined for an item without namespace and name. */
export function podView(item: unknown): PodView | undefined {
  const meta = obj(obj(item).metadata);
  const spec = obj(obj(item).spec);
  const namespace = str(meta.namespace);
  const name = str(meta.name);
  if (namespace === undefined || name === undefined) return undefined;
  const skip = new Set(
    (strings(meta.annotations)[SKIP_CONTAINERS_ANNOTATION] ?? '').split(',').map((s) => s.trim()),
  );
  const containers = list(spec.containers)
    .map(obj)
    .filter((c) => !skip.has(str(c.name) ?? ''));
  const without = (variable: string) =>
    containers
      .filter((c) => !list(c.env).some((e) => obj(e).name === variable))
      .map((c) => str(c.name) ?? '?');
  let tokenVolume: PodView['tokenVolume'];
  for (const volume of list(spec.volumes).map(obj)) {
    const source = list(obj(volume.projected).sources)
      .map((s) => obj(obj(s).serviceAccountToken))
      .find((t) => Object.keys(t).length > 0);
    // The kube-api-access-* volume projects a token too, but for the API server's audience.
    if (source === undefined || str(source.audience) === undefined) continue;
    const expiration = source.expirationSeconds;
    tokenVolume = {
      name: str(volume.name) ?? '?',
      ...(str(source.audience) === undefined ? {} : { audience: str(source.audience) as string }),
      ...(typeof expiration === 'number' ? { expirationSeconds: expiration } : {}),
    };
    break;
  }
  return {
    namespace,
    name,
    serviceAccount: str(spec.serviceAccountName) ?? str(spec.serviceAccount) ?? 'default',
    labels: strings(meta.labels),
    ...(str(meta.creationTimestamp) === undefined
      ? {}
      : { createdAt: str(meta.creationTimestamp) as string }),
    hostNetwork: spec.hostNetwork === true,
    containersWithoutRoleArn: without('AWS_ROLE_ARN'),
    containersWithoutTokenFile: without('AWS_WEB_IDENTITY_TOKEN_FILE'),
    ...(tokenVolume === undefined ? {} : { tokenVolume }),
  };
}

function coversPodCreate(rules: unknown): boolean {
  return list(rules)
    .map(obj)
    .some((rule) => {
      const has = (key: string, wanted: string) =>
        list(rule[key]).some((v) => v === '*' || v === wanted || (key === 'resources' && v === '*/*'));
      return (
        has('operations', 'CREATE') &&
        has('resources', 'pods') &&
        has('apiGroups', '') &&
        has('apiVersions', 'v1')
      );
    });
}

/** Finds the pod identity webhook in a MutatingWebhookConfigurationList; undefined when absent. */
export function findWebhook(items: readonly unknown[], configName: string): WebhookView | undefined {
  for (const item of items) {
    const meta = obj(obj(item).metadata);
    const hooks = list(obj(item).webhooks).map(obj);
    const hook =
      hooks.find((h) => h.name === WEBHOOK_ENTRY) ?? (meta.name === configName ? hooks[0] : undefined);
    if (hook === undefined) continue;
    const client = obj(hook.clientConfig);
    const service = obj(client.service);
    const caBundle = str(client.caBundle);
    const inject = strings(meta.annotations)['cert-manager.io/inject-ca-from'];
    return {
      configName: str(meta.name) ?? '?',
      ...(str(meta.creationTimestamp) === undefined
        ? {}
        : { createdAt: str(meta.creationTimestamp) as string }),
      // The API server defaults failurePolicy to Fail in admissionregistration.k8s.io/v1.
      failurePolicy: str(hook.failurePolicy) ?? 'Fail',
      ...(hook.namespaceSelector === undefined
        ? {}
        : { namespaceSelector: obj(hook.namespaceSelector) as LabelSelector }),
      ...(hook.objectSelector === undefined
        ? {}
        : { objectSelector: obj(hook.objectSelector) as LabelSelector }),
      ...(caBundle === undefined || caBundle === ''
        ? {}
        : { caBundle: Buffer.from(caBundle, 'base64').toString('utf8') }),
      ...(str(service.name) === undefined
        ? {}
        : {
            service: {
              namespace: str(service.namespace) ?? 'default',
              name: str(service.name) as string,
              port: typeof service.port === 'number' ? service.port : 443,
              ...(str(service.path) === undefined ? {} : { path: str(service.path) as string }),
            },
          }),
      ...(str(client.url) === undefined ? {} : { url: str(client.url) as string }),
      coversPodCreate: coversPodCreate(hook.rules),
      ...(inject === undefined ? {} : { injectCaFrom: inject }),
    };
  }
  return undefined;
}

/** Labels of each namespace, by name. */
export function namespaceLabels(items: readonly unknown[]): Map<string, Record<string, string>> {
  const labels = new Map<string, Record<string, string>>();
  for (const item of items) {
    const meta = obj(obj(item).metadata);
    const name = str(meta.name);
    if (name !== undefined) labels.set(name, strings(meta.labels));
  }
  return labels;
}
