/**
 * kubeadm static pod: `/etc/kubernetes/manifests/kube-apiserver.yaml`. kubelet restarts
 * kube-apiserver whenever this file changes.
 */
import { type Document, isMap, isScalar, isSeq, type YAMLMap, YAMLSeq } from 'yaml';
import { IrsaError } from '#core/errors.ts';
import { StringSeqArgs } from './arg-store.ts';
import { FLAG, planFlags } from './flags.ts';
import { ensurePodMount, wantedMount } from './mounts.ts';
import type { ApiserverSettings, Change, PlanResult } from './types.ts';
import { versionFromImage } from './version.ts';
import { ensureMap, ensureSeq, parseDocuments, renderDocuments, stringField } from './yaml-doc.ts';

const WHERE = 'the kube-apiserver static pod manifest';

function notApiserverPod(problem: string): IrsaError {
  return new IrsaError(
    'APISERVER_NOT_APISERVER_POD',
    `${WHERE} ${problem}.`,
    'Pass --file with the kube-apiserver static pod (usually /etc/kubernetes/manifests/kube-apiserver.yaml), or pick the right --distro.',
  );
}

/** Finds the kube-apiserver container and its argument list, or throws. */
export function findApiserverContainer(doc: Document): { spec: YAMLMap; container: YAMLMap; args: YAMLSeq } {
  const root = doc.contents;
  if (!isMap(root)) throw notApiserverPod('is not a YAML map');
  if (root.get('kind') !== 'Pod')
    throw notApiserverPod(`is a "${String(root.get('kind') ?? 'unknown')}", not a Pod`);
  const spec = root.get('spec', true);
  const containers = isMap(spec) ? spec.get('containers', true) : undefined;
  if (!isMap(spec) || !isSeq(containers)) throw notApiserverPod('has no spec.containers');
  const matches = containers.items.filter((c): c is YAMLMap => {
    if (!isMap(c)) return false;
    const command = c.get('command', true);
    const first = isSeq(command) ? command.items[0] : undefined;
    return (
      c.get('name') === 'kube-apiserver' ||
      (isScalar(first) && typeof first.value === 'string' && /(^|\/)kube-apiserver$/.test(first.value))
    );
  });
  const container = matches[0];
  if (container === undefined || matches.length > 1) {
    const names = containers.items.map((c) => (isMap(c) ? String(c.get('name') ?? '?') : '?'));
    throw notApiserverPod(
      matches.length > 1
        ? 'has more than one kube-apiserver container'
        : `has no kube-apiserver container (it runs ${names.join(', ') || 'nothing'}: not kube-apiserver)`,
    );
  }
  const command = container.get('command', true);
  const args = container.get('args', true);
  // kubeadm writes every flag into `command`; hand-made manifests may use `args`.
  if (isSeq(args) && args.items.length > 0) return { spec, container, args };
  if (isSeq(command)) return { spec, container, args: command };
  throw notApiserverPod('has a kube-apiserver container without a command or args list');
}

/** The one YAML document of a static pod manifest, or throws. */
function singleDocument(text: string): { docs: Document[]; doc: Document } {
  const docs = parseDocuments(text, WHERE);
  const nonEmpty = docs.filter((d) => d.contents !== null);
  const doc = nonEmpty[0];
  if (doc === undefined || nonEmpty.length > 1) {
    throw notApiserverPod(doc === undefined ? 'is empty' : 'holds more than one YAML document');
  }
  return { docs, doc };
}

/** The `--service-account-key-file` values of a kube-apiserver static pod manifest. Pure. */
export function listedKeyFiles(text: string): string[] {
  const { doc } = singleDocument(text);
  const { args } = findApiserverContainer(doc);
  return new StringSeqArgs(doc, args, WHERE, { dashes: 'required', newPrefix: '--' }).get(FLAG.keyFile);
}

/** Plans the static pod edit. Pure: text in, text out. */
export function planKubeadmManifest(text: string, settings: ApiserverSettings): PlanResult {
  const { docs, doc } = singleDocument(text);
  const { spec, container, args } = findApiserverContainer(doc);
  const image = stringField(container, 'image');
  if (image === undefined && settings.kubernetesVersion === undefined) {
    // kubelet cannot run it either, and kms mode depends on the version (gate, or refused before 1.32).
    throw new IrsaError(
      'APISERVER_VERSION_UNKNOWN',
      `${WHERE}: the kube-apiserver container has no image:, so the Kubernetes version cannot be told.`,
      'Pass --kubernetes-version (the version kube-apiserver runs, e.g. v1.34.1), or pass --file with the real manifest.',
    );
  }
  const version =
    settings.kubernetesVersion !== undefined
      ? settings.kubernetesVersion
      : image !== undefined
        ? versionFromImage(image)
        : null;
  const store = new StringSeqArgs(doc, args, WHERE, { dashes: 'required', newPrefix: '--' });
  const flags = planFlags({ args: store, settings, version, where: WHERE });
  const changes: Change[] = [...flags.changes];
  const want = wantedMount(settings);
  // An abstract socket needs no mount: do not add empty lists then.
  const volumes =
    want === null && !spec.has('volumes') ? new YAMLSeq() : ensureSeq(doc, spec, 'volumes', WHERE);
  const mounts =
    want === null && !container.has('volumeMounts')
      ? new YAMLSeq()
      : ensureSeq(doc, container, 'volumeMounts', WHERE);
  changes.push(...ensurePodMount(doc, volumes, mounts, want));
  changes.push(...setAnnotations(doc, settings.podAnnotations ?? {}));
  const text2 = renderDocuments(text, docs, new Set(changes.length > 0 ? [doc] : []), { indentSeq: false });
  return { text: text2, changes, notes: flags.notes };
}

function setAnnotations(doc: Document, wanted: Record<string, string>): Change[] {
  const changes: Change[] = [];
  const entries = Object.entries(wanted);
  if (entries.length === 0) return changes;
  const root = doc.contents as YAMLMap;
  const metadata = ensureMap(doc, root, 'metadata', WHERE);
  const annotations = ensureMap(doc, metadata, 'annotations', WHERE);
  for (const [key, value] of entries) {
    const current = annotations.get(key);
    if (current === value) continue;
    annotations.set(key, value);
    changes.push({
      action: current === undefined ? 'add' : 'set',
      target: `annotation:${key}`,
      ...(current === undefined ? {} : { before: [String(current)] }),
      after: [value],
    });
  }
  return changes;
}
