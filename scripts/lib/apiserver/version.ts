/**
 * Which Kubernetes a config runs, as far as the config says, and what that means for kms mode.
 */
import { IrsaError } from '#core/errors.ts';
import { EXTERNAL_SIGNER_GATE } from './types.ts';

/** A Kubernetes minor version, e.g. `{ major: 1, minor: 33 }`. */
export interface KubeVersion {
  major: number;
  minor: number;
  /** As written, for messages. */
  text: string;
}

const VERSION = /^v?(\d+)\.(\d+)(?:\.\d+)?(?:[-+][0-9A-Za-z.+-]*)?$/;

/** Parses `v1.33.1`, `1.34`, `v1.32.0-rc.1`, `stable-1.33`; null when it is not a version. */
export function parseKubeVersion(text: string): KubeVersion | null {
  const trimmed = text.trim().replace(/^stable-/, '');
  const match = VERSION.exec(trimmed);
  if (match === null) return null;
  return { major: Number(match[1]), minor: Number(match[2]), text: text.trim() };
}

/** The version in an image reference's tag: `registry.k8s.io/kube-apiserver:v1.33.1` → 1.33. */
export function versionFromImage(image: string): KubeVersion | null {
  const withoutDigest = image.split('@')[0] ?? '';
  const lastSlash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.indexOf(':', lastSlash + 1);
  if (colon === -1) return null;
  return parseKubeVersion(withoutDigest.slice(colon + 1));
}

/** Parses a `--kubernetes-version` flag, failing with its name. */
export function parseVersionFlag(text: string): KubeVersion {
  const version = parseKubeVersion(text);
  if (version === null) {
    throw new IrsaError(
      'FLAG_INVALID',
      `--kubernetes-version must look like v1.33.1, got "${text}".`,
      'Pass --kubernetes-version v<major>.<minor>[.<patch>], the version kube-apiserver runs.',
    );
  }
  return version;
}

function atLeast(version: KubeVersion, major: number, minor: number): boolean {
  return version.major > major || (version.major === major && version.minor >= minor);
}

/**
 * What kms mode needs on this version: nothing (≥ 1.34, the external signer is beta and on), the
 * feature gate (1.32–1.33, alpha), or it is impossible (< 1.32: throws a clear error).
 * `unknown` when the version could not be read.
 */
export function kmsRequirement(version: KubeVersion | null): 'none' | 'gate' | 'unknown' {
  if (version === null) return 'unknown';
  if (atLeast(version, 1, 34)) return 'none';
  if (atLeast(version, 1, 32)) return 'gate';
  throw new IrsaError(
    'APISERVER_VERSION_UNSUPPORTED',
    `kms mode needs kube-apiserver 1.32 or newer (--service-account-signing-endpoint); this config runs ${version.text}.`,
    'Use --mode file (key-sync installs a KMS-wrapped signing key file), or upgrade Kubernetes to 1.34 or newer.',
  );
}

/** File mode needs repeatable `--service-account-issuer` (1.22+). */
export function checkFileModeVersion(version: KubeVersion | null): void {
  if (version !== null && !atLeast(version, 1, 22)) {
    throw new IrsaError(
      'APISERVER_VERSION_UNSUPPORTED',
      `file mode needs kube-apiserver 1.22 or newer (repeatable --service-account-issuer); this config runs ${version.text}.`,
      'Upgrade Kubernetes to a supported version first.',
    );
  }
}

/** Text for a note when the version could not be read in kms mode. */
export const UNKNOWN_VERSION_NOTE =
  `Could not read the Kubernetes version: kms mode needs kube-apiserver >= 1.34, or 1.32-1.33 with ` +
  `--feature-gates=${EXTERNAL_SIGNER_GATE}=true. Pass --kubernetes-version to have it checked and the gate set.`;
