/**
 * Kubernetes object names, validated the way kube-apiserver validates them
 * (k8s.io/apimachinery/pkg/util/validation): a namespace is a DNS-1123 label, a service account
 * name a DNS-1123 subdomain. One module, one code per concept (`NAMESPACE_INVALID`,
 * `SERVICE_ACCOUNT_INVALID`), for tokens, trust policies and the CLI.
 */
import { IrsaError } from './errors.ts';

/** DNS-1123 label: lower-case alphanumerics and "-", alphanumeric at both ends, at most 63. */
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** DNS-1123 subdomain: dot-separated labels, at most 253 in all. */
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Longest DNS-1123 label (a namespace). */
export const DNS1123_LABEL_MAX = 63;
/** Longest DNS-1123 subdomain (a service account name). */
export const DNS1123_SUBDOMAIN_MAX = 253;

/** True when `value` is a DNS-1123 label (IsDNS1123Label). */
export function isDns1123Label(value: string): boolean {
  return value.length <= DNS1123_LABEL_MAX && DNS1123_LABEL.test(value);
}

/** True when `value` is a DNS-1123 subdomain (IsDNS1123Subdomain). */
export function isDns1123Subdomain(value: string): boolean {
  return value.length <= DNS1123_SUBDOMAIN_MAX && DNS1123_SUBDOMAIN.test(value);
}

/** How a name may be written. */
export interface NameOptions {
  /**
   * IAM wildcards (`*` any run, `?` one character) allowed, as in a trust policy's StringLike
   * condition: the name must be valid with each wildcard read as one letter.
   */
  wildcards?: boolean;
}

function literal(value: string, options: NameOptions): string {
  return options.wildcards === true ? value.replace(/[*?]/g, 'a') : value;
}

const WILDCARDS_NOTE = ' (IAM wildcards * and ? allowed)';

/** Returns `namespace` when it is a valid namespace name; throws `NAMESPACE_INVALID` otherwise. */
export function parseNamespace(namespace: string, options: NameOptions = {}): string {
  if (typeof namespace !== 'string' || !isDns1123Label(literal(namespace, options))) {
    throw new IrsaError(
      'NAMESPACE_INVALID',
      `Namespace "${namespace}" is not a valid Kubernetes namespace name.`,
      `Use lowercase letters, digits and "-", at most ${DNS1123_LABEL_MAX} characters${options.wildcards === true ? WILDCARDS_NOTE : ''}.`,
    );
  }
  return namespace;
}

/** Returns `name` when it is a valid service account name; throws `SERVICE_ACCOUNT_INVALID` otherwise. */
export function parseServiceAccountName(name: string, options: NameOptions = {}): string {
  if (typeof name !== 'string' || !isDns1123Subdomain(literal(name, options))) {
    throw new IrsaError(
      'SERVICE_ACCOUNT_INVALID',
      `Service account "${name}" is not a valid Kubernetes name.`,
      `Use lowercase letters, digits, "-" and ".", at most ${DNS1123_SUBDOMAIN_MAX} characters${options.wildcards === true ? WILDCARDS_NOTE : ''}.`,
    );
  }
  return name;
}

/** Checks both halves of a service account reference (`system:serviceaccount:<ns>:<name>`). */
export function parseServiceAccountRef(
  namespace: string,
  serviceAccount: string,
  options: NameOptions = {},
): { namespace: string; serviceAccount: string } {
  return {
    namespace: parseNamespace(namespace, options),
    serviceAccount: parseServiceAccountName(serviceAccount, options),
  };
}
