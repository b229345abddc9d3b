/**
 * kind: a cluster config for a new dev cluster. The settings go into a ClusterConfiguration
 * `kubeadmConfigPatches` entry (apiServer.extraArgs + extraVolumes), and the host directory is
 * passed into each control-plane node container with `extraMounts`.
 */
import { isMap, isScalar, isSeq, parseDocument, Scalar, type YAMLMap } from 'yaml';
import { IrsaError } from '#core/errors.ts';
import { planClusterConfiguration } from './kubeadm-config.ts';
import { ensureListMount, type MountShape, wantedMount } from './mounts.ts';
import type { ApiserverSettings, Change, PlanResult } from './types.ts';
import { versionFromImage } from './version.ts';
import { ensureSeq, parseSingleDocument, renderSingleDocument, stringField } from './yaml-doc.ts';

const WHERE = 'the kind cluster config';

const KIND_MOUNT: MountShape = {
  host: (item) => stringField(item, 'hostPath'),
  container: (item) => stringField(item, 'containerPath'),
  name: () => undefined,
  readOnly: (item) => item.get('readOnly') === true,
  make: (want) => ({ hostPath: want.dir, containerPath: want.dir, readOnly: want.readOnly }),
};

/** Notes printed with every kind config. */
export const KIND_NOTES = [
  'This config is for a new cluster (`kind create cluster --config <file>`): it replaces the kubeadm default ' +
    'issuer, which is safe only while no tokens exist yet.',
];

const KIND_KMS_NOTE =
  'kind runs kubeadm, which always adds the key-file flags; after `kind create cluster`, switch the static pod ' +
  'to the signer: docker cp <cluster>-control-plane:/etc/kubernetes/manifests/kube-apiserver.yaml ., run ' +
  '`irsa-anywhere apiserver configure --distro kubeadm --mode kms --file kube-apiserver.yaml` with the same ' +
  '--issuer and --signer-socket, copy it to a ' +
  'temporary path in the node and move it over the manifest there (kubelet must not see a half-written file).';

function invalid(problem: string): IrsaError {
  return new IrsaError(
    'APISERVER_CONFIG_INVALID',
    `${WHERE} ${problem}.`,
    'Pass --file with a kind.x-k8s.io/v1alpha4 Cluster config, or leave --file out to print a new one.',
  );
}

/** Plans the kind cluster config. Pure: text in, text out (an empty text starts a new config). */
export function planKindConfig(text: string, settings: ApiserverSettings): PlanResult {
  const single = parseSingleDocument(
    text,
    WHERE,
    {
      kind: 'Cluster',
      apiVersion: 'kind.x-k8s.io/v1alpha4',
      nodes: [{ role: 'control-plane' }],
    },
    'Keep the kind config in its own file.',
  );
  const { doc } = single;
  const root = doc.contents;
  if (
    !isMap(root) ||
    root.get('kind') !== 'Cluster' ||
    !String(root.get('apiVersion') ?? '').startsWith('kind.x-k8s.io/')
  ) {
    throw invalid('is not a kind Cluster (kind: Cluster, apiVersion: kind.x-k8s.io/v1alpha4)');
  }
  const nodes = ensureSeq(doc, root, 'nodes', WHERE);
  if (nodes.items.length === 0) nodes.items.push(doc.createNode({ role: 'control-plane' }));
  const controlPlanes = nodes.items.filter(
    (n): n is YAMLMap => isMap(n) && n.get('role') === 'control-plane',
  );
  if (controlPlanes.length === 0) throw invalid('has no control-plane node');

  const images = controlPlanes
    .map((n) => stringField(n, 'image'))
    .filter((i): i is string => i !== undefined);
  const version =
    settings.kubernetesVersion !== undefined
      ? settings.kubernetesVersion
      : images[0] !== undefined
        ? versionFromImage(images[0])
        : null;

  const changes: Change[] = [];
  const want = wantedMount(settings);
  controlPlanes.forEach((node, i) => {
    if (want === null && !node.has('extraMounts')) return;
    const mounts = ensureSeq(doc, node, 'extraMounts', WHERE);
    const label = controlPlanes.length > 1 ? `nodes[${i}].extraMount` : 'extraMount';
    changes.push(...ensureListMount(doc, mounts, KIND_MOUNT, want, label));
  });

  const patches = ensureSeq(doc, root, 'kubeadmConfigPatches', WHERE);
  let patchNode = patches.items.find(
    (item) =>
      isScalar(item) &&
      typeof item.value === 'string' &&
      /^kind:\s*ClusterConfiguration\s*$/m.test(item.value),
  );
  const isNew = patchNode === undefined;
  const patchText = isNew ? 'kind: ClusterConfiguration\n' : String((patchNode as Scalar).value);
  const patchDoc = parseDocument(patchText);
  if (patchDoc.errors.length > 0 || !isMap(patchDoc.contents)) {
    throw invalid('has a ClusterConfiguration patch that is not valid YAML');
  }
  const planned = planClusterConfiguration(patchDoc, { ...settings, allowReplace: true }, version, {
    unversioned: true,
  });
  if (planned.changes.length > 0) {
    const rendered = patchDoc.toString({ lineWidth: 0 });
    if (patchNode === undefined) {
      patchNode = new Scalar(rendered);
      (patchNode as Scalar).type = Scalar.BLOCK_LITERAL;
      patches.items.push(patchNode);
      changes.push({ action: 'add', target: 'kubeadmConfigPatches:ClusterConfiguration' });
    } else {
      (patchNode as Scalar).value = rendered;
    }
    changes.push(...planned.changes.map((c) => ({ ...c, target: `ClusterConfiguration ${c.target}` })));
  }
  if (!isSeq(patches)) throw new Error('unreachable');
  const notes = [...planned.notes.filter((n) => !n.startsWith('kubeadm always adds')), ...KIND_NOTES];
  if (settings.mode === 'kms') notes.push(KIND_KMS_NOTE);
  return { text: renderSingleDocument(single, changes.length > 0), changes, notes };
}
