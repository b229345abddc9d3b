/**
 * Types and defaults shared by the kube-apiserver configuration planners (one module per distro).
 */
import type { KubeVersion } from './version.ts';

/** Where kube-apiserver's configuration lives, one planner each. */
export const DISTROS = ['kubeadm', 'kubeadm-config', 'k3s', 'rke2', 'talos', 'kind', 'openshift'] as const;
/** A `--distro` value. */
export type Distro = (typeof DISTROS)[number];

/** kms: tokens signed through the external signer socket; file: a signing key file kept by key-sync. */
export type SigningMode = 'kms' | 'file';

/** Defaults of the `apiserver configure` flags. */
export const DEFAULT_SIGNER_SOCKET = '/run/irsa-anywhere/signer.sock';
export const DEFAULT_KEY_DIR = '/etc/irsa-anywhere/keys';
/** Files key-sync writes into the key directory, and the manifest points at. */
export const SIGNING_KEY_FILE = 'signing.key';
export const VERIFICATION_BUNDLE_FILE = 'verification.pem';
/** The feature gate kube-apiserver 1.32 and 1.33 need for `--service-account-signing-endpoint`. */
export const EXTERNAL_SIGNER_GATE = 'ExternalServiceAccountTokenSigner';

/** Default config file per distro, where the distro has one on the node. */
export const DEFAULT_FILES: Readonly<Partial<Record<Distro, string>>> = {
  kubeadm: '/etc/kubernetes/manifests/kube-apiserver.yaml',
  k3s: '/etc/rancher/k3s/config.yaml',
  rke2: '/etc/rancher/rke2/config.yaml',
};

/** What `apiserver configure` should make true. Validated by `normalizeSettings`. */
export interface ApiserverSettings {
  issuer: string;
  mode: SigningMode;
  /** Absolute path of the signer's Unix socket, or `@name` for an abstract socket. */
  signerSocket: string;
  /** Absolute directory holding `signing.key` and `verification.pem` (file mode). */
  keyDir: string;
  /** Audiences to add to `--api-audiences`; always holds `sts.amazonaws.com`. */
  audiences: string[];
  /** `--kubernetes-version`, parsed once: the Kubernetes the config runs, when it does not say. */
  kubernetesVersion?: KubeVersion;
  /**
   * Formats that hold one value per flag (kubeadm v1beta3 and Talos extraArgs maps) cannot keep the
   * old issuer or key file beside the new one. Unless this is true, the planner refuses to drop them.
   */
  allowReplace?: boolean;
  /**
   * Pod annotations to set on the kubeadm static pod (key-sync uses them so that a new signing key
   * changes the manifest and kubelet restarts kube-apiserver).
   */
  podAnnotations?: Record<string, string>;
}

/** One planned edit, reported to the user and in `--json`. */
export interface Change {
  action: 'add' | 'remove' | 'set';
  /** A flag (`--service-account-issuer`), a volume (`volume:<name>`), or a field path. */
  target: string;
  before?: string[];
  after?: string[];
}

/** The planner's answer: the new text (identical to the input when nothing changes). */
export interface PlanResult {
  text: string;
  changes: Change[];
  /** Things the operator must know or do (restart a service, version could not be read, ...). */
  notes: string[];
}

/** Renders a change as one line for a terminal. */
export function describeChange(change: Change): string {
  const before = change.before?.join(', ') ?? '';
  const after = change.after?.join(', ') ?? '';
  if (change.action === 'add') return `add ${change.target}: ${after}`;
  if (change.action === 'remove') return `remove ${change.target}: ${before}`;
  return `set ${change.target}: ${before === '' ? '(unset)' : before} -> ${after}`;
}
