/**
 * kubeadm ClusterConfiguration: `apiServer.extraArgs` (v1beta3 map, v1beta4 list of {name, value})
 * and `apiServer.extraVolumes`, so `kubeadm init/join/upgrade` keep the settings. Multi-document
 * files (InitConfiguration, JoinConfiguration, KubeletConfiguration, ...) are handled: only the
 * ClusterConfiguration document is edited, the others are copied byte for byte.
 */
import { type Document, isMap, isSeq, type YAMLMap } from 'yaml';
import { IrsaError } from '#core/errors.ts';
import { type ArgStore, MapArgs, NameValueSeqArgs } from './arg-store.ts';
import { type FlagDefaults, planFlags } from './flags.ts';
import { ensureListMount, KUBEADM_EXTRA_VOLUME, wantedMount } from './mounts.ts';
import type { ApiserverSettings, Change, PlanResult } from './types.ts';
import { type KubeVersion, parseKubeVersion } from './version.ts';
import {
  ensureMap,
  ensureSeq,
  parseDocuments,
  renderDocuments,
  seqIndentFor,
  stringField,
} from './yaml-doc.ts';

const WHERE = 'the kubeadm ClusterConfiguration';
const KUBEADM_GROUP = 'kubeadm.k8s.io/';

function notKubeadm(problem: string): IrsaError {
  return new IrsaError(
    'APISERVER_NOT_KUBEADM_CONFIG',
    `The file ${problem}.`,
    'Pass --file with the kubeadm config (the file given to `kubeadm init --config`), or pick the right --distro.',
  );
}

/** What kubeadm puts on kube-apiserver when extraArgs does not say otherwise. */
export function kubeadmDefaults(cluster: YAMLMap | null): FlagDefaults {
  const networking = cluster?.get('networking');
  const dnsDomain = stringField(networking, 'dnsDomain') ?? 'cluster.local';
  const pki =
    (cluster === null ? undefined : stringField(cluster, 'certificatesDir')) ?? '/etc/kubernetes/pki';
  return {
    issuers: [`https://kubernetes.default.svc.${dnsDomain}`],
    keyFiles: [`${pki}/sa.pub`],
    signingKeyFile: `${pki}/sa.key`,
  };
}

/**
 * Plans the edit of a ClusterConfiguration held in `doc` (a standalone config, or one embedded in a
 * kind patch). Returns the changes and notes; `doc` is edited in place.
 */
export function planClusterConfiguration(
  doc: Document,
  settings: ApiserverSettings,
  fallbackVersion: KubeVersion | null,
  options: { unversioned?: boolean } = {},
): { changes: Change[]; notes: string[] } {
  const root = doc.contents;
  if (!isMap(root)) throw notKubeadm('has a ClusterConfiguration that is not a map');
  const apiVersion = String(root.get('apiVersion') ?? '');
  // kind accepts unversioned patches: the extraArgs shape then says which form is meant.
  const unversioned = options.unversioned === true && apiVersion === '';
  const beta4 =
    apiVersion === 'kubeadm.k8s.io/v1beta4' ||
    (unversioned && isSeq(root.getIn(['apiServer', 'extraArgs'], true)));
  if (!unversioned && !beta4 && apiVersion !== 'kubeadm.k8s.io/v1beta3') {
    throw notKubeadm(
      `has ClusterConfiguration apiVersion "${apiVersion}"; only kubeadm.k8s.io/v1beta3 and v1beta4 are supported`,
    );
  }
  const apiServer = ensureMap(doc, root, 'apiServer', WHERE);
  const current = apiServer.get('extraArgs', true);
  let args: ArgStore;
  if (beta4) {
    if (current !== undefined && !isSeq(current) && !(isMap(current) && current.items.length === 0)) {
      throw notKubeadm('uses kubeadm.k8s.io/v1beta4 but apiServer.extraArgs is not a list of {name, value}');
    }
    if (isMap(current)) apiServer.delete('extraArgs');
    args = new NameValueSeqArgs(
      doc,
      ensureSeq(doc, apiServer, 'extraArgs', WHERE),
      `${WHERE} apiServer.extraArgs`,
    );
  } else {
    if (current !== undefined && !isMap(current)) {
      throw notKubeadm('uses kubeadm.k8s.io/v1beta3 but apiServer.extraArgs is not a map');
    }
    args = new MapArgs(ensureMap(doc, apiServer, 'extraArgs', WHERE), `${WHERE} (v1beta3 extraArgs map)`);
  }
  const kubernetesVersion = stringField(root, 'kubernetesVersion');
  const version =
    settings.kubernetesVersion !== undefined
      ? settings.kubernetesVersion
      : ((kubernetesVersion !== undefined ? parseKubeVersion(kubernetesVersion) : null) ?? fallbackVersion);
  const flags = planFlags({
    args,
    settings,
    version,
    where: WHERE,
    defaults: kubeadmDefaults(root),
    endpointSupported: false,
  });
  const changes = [...flags.changes];
  const want = wantedMount(settings);
  if (want !== null || apiServer.has('extraVolumes')) {
    const volumes = ensureSeq(doc, apiServer, 'extraVolumes', WHERE);
    changes.push(...ensureListMount(doc, volumes, KUBEADM_EXTRA_VOLUME, want, 'extraVolume'));
  }
  return { changes, notes: flags.notes };
}

function kindOf(doc: Document): { apiVersion: string; kind: string } | null {
  const root = doc.contents;
  if (!isMap(root)) return null;
  return { apiVersion: String(root.get('apiVersion') ?? ''), kind: String(root.get('kind') ?? '') };
}

/** Plans the edit of a kubeadm config file. Pure: text in, text out. */
export function planKubeadmConfig(text: string, settings: ApiserverSettings): PlanResult {
  const docs = parseDocuments(text, 'the kubeadm config');
  const content = docs.filter((doc) => doc.contents !== null);
  const kubeadmDocs = content.filter((doc) => kindOf(doc)?.apiVersion.startsWith(KUBEADM_GROUP));
  if (content.length > 0 && kubeadmDocs.length === 0) {
    throw notKubeadm('holds no kubeadm.k8s.io document');
  }
  const clusters = kubeadmDocs.filter((doc) => kindOf(doc)?.kind === 'ClusterConfiguration');
  if (clusters.length > 1) throw notKubeadm('holds more than one ClusterConfiguration');
  let cluster = clusters[0];
  let appended = '';
  if (cluster === undefined) {
    // Only Init/Join configurations: add a ClusterConfiguration of the same API version.
    const apiVersion = kindOf(kubeadmDocs[0] ?? ({} as Document))?.apiVersion ?? 'kubeadm.k8s.io/v1beta4';
    const created = parseDocuments(`apiVersion: ${apiVersion}\nkind: ClusterConfiguration\n`, WHERE)[0];
    if (created === undefined) throw new Error('unreachable');
    cluster = created;
    appended = 'new';
  }
  const { changes, notes } = planClusterConfiguration(cluster, settings, null);
  if (appended === 'new') {
    changes.unshift({ action: 'add', target: 'ClusterConfiguration' });
    const separator = text === '' || text.endsWith('\n') ? '' : '\n';
    const prefix = text.trim() === '' ? '' : `${text}${separator}---\n`;
    return {
      text: `${prefix}${cluster.toString({ lineWidth: 0, indentSeq: seqIndentFor(text, false) })}`,
      changes,
      notes,
    };
  }
  const edited = new Set(changes.length > 0 ? [cluster] : []);
  return { text: renderDocuments(text, docs, edited, { indentSeq: false }), changes, notes };
}
