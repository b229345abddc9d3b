/**
 * The pure kube-apiserver configuration planner: (current config text, desired settings) →
 * (new text, changes). One module per distro; the flag rules they share live in `flags.ts`.
 */
import { IrsaError } from '#core/errors.ts';
import { planKindConfig } from './kind.ts';
import { planKubeadmManifest } from './kubeadm.ts';
import { planKubeadmConfig } from './kubeadm-config.ts';
import { planOpenshiftAuthentication } from './openshift.ts';
import { planRancherConfig } from './rancher.ts';
import { planTalosPatch } from './talos.ts';
import { type ApiserverSettings, DISTROS, type Distro, type PlanResult } from './types.ts';

/** Narrows a `--distro` value, or throws FLAG_INVALID listing the known ones. */
export function parseDistro(value: string): Distro {
  if ((DISTROS as readonly string[]).includes(value)) return value as Distro;
  throw new IrsaError('FLAG_INVALID', `Unknown --distro "${value}".`, `Pass one of: ${DISTROS.join(', ')}.`);
}

/**
 * Plans the configuration of `distro` from its current text. Pure and deterministic: when nothing
 * needs to change, `text` is returned unchanged and `changes` is empty. Throws `IrsaError` (and
 * changes nothing) on bad input or flags that conflict.
 */
export function planApiserver(distro: Distro, text: string, settings: ApiserverSettings): PlanResult {
  switch (distro) {
    case 'kubeadm':
      return planKubeadmManifest(text, settings);
    case 'kubeadm-config':
      return planKubeadmConfig(text, settings);
    case 'k3s':
    case 'rke2':
      return planRancherConfig(text, settings, distro);
    case 'talos':
      return planTalosPatch(text, settings);
    case 'kind':
      return planKindConfig(text, settings);
    case 'openshift':
      return planOpenshiftAuthentication(text, settings);
  }
}

export type { ApiserverSettings, Change, Distro, PlanResult } from './types.ts';
export { DISTROS, describeChange } from './types.ts';
