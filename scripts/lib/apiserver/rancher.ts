/**
 * k3s and RKE2: `kube-apiserver-arg` entries (`name=value`) in `/etc/rancher/{k3s,rke2}/config.yaml`.
 * RKE2 runs kube-apiserver as a static pod, so the key directory is also listed in
 * `kube-apiserver-extra-mount` (`host:container[:ro]`); k3s runs it in-process and needs no mount.
 */
import { isMap, isScalar, isSeq, type YAMLMap, type YAMLSeq } from 'yaml';
import { IrsaError } from '#core/errors.ts';
import { StringSeqArgs } from './arg-store.ts';
import { planFlags } from './flags.ts';
import { isUnder, wantedMount } from './mounts.ts';
import { type ApiserverSettings, type Change, DEFAULT_FILES, type PlanResult } from './types.ts';
import { parseSingleDocument, renderSingleDocument } from './yaml-doc.ts';

const SERVER_DIRS = {
  k3s: '/var/lib/rancher/k3s/server/tls',
  rke2: '/var/lib/rancher/rke2/server/tls',
} as const;

/** Plans the edit of a k3s or RKE2 config.yaml. Pure: text in, text out. */
export function planRancherConfig(
  text: string,
  settings: ApiserverSettings,
  distro: 'k3s' | 'rke2',
): PlanResult {
  const where = `the ${distro} config.yaml`;
  if (settings.mode === 'kms') {
    throw new IrsaError(
      'APISERVER_MODE_UNSUPPORTED',
      `kms mode is not available on ${distro}: it always passes its own --service-account-key-file and --service-account-signing-key-file, which kube-apiserver cannot combine with --service-account-signing-endpoint, and config.yaml can only override them, not remove them.`,
      'Use --mode file (key-sync installs the KMS-wrapped key for kube-apiserver).',
    );
  }
  const single = parseSingleDocument(text, where, {}, `Pass --file with the ${distro} config.yaml.`);
  const { doc } = single;
  const root = doc.contents;
  if (!isMap(root)) {
    throw new IrsaError(
      'APISERVER_CONFIG_INVALID',
      `${where} is not a YAML map of settings.`,
      `Pass --file with the ${distro} config.yaml.`,
    );
  }
  // A Kubernetes object (an etcd or kube-apiserver Pod, ...) is a map too, but k3s and RKE2 have no
  // `kind` or `apiVersion` setting: editing it would "succeed" and change nothing that runs.
  if (root.has('kind') || root.has('apiVersion')) {
    const kind = String(root.get('kind') ?? 'object');
    const name = root.getIn(['metadata', 'name']);
    throw new IrsaError(
      'APISERVER_CONFIG_INVALID',
      `${where}: the file is a Kubernetes ${kind}${name === undefined ? '' : ` "${String(name)}"`} manifest, not a ${distro} config.yaml (no kube-apiserver-arg to set).`,
      `Pass --file with the ${distro} config.yaml (default ${DEFAULT_FILES[distro]}), or pick the right --distro.`,
    );
  }
  const seq = argList(doc.createNode.bind(doc), root, 'kube-apiserver-arg', where);
  const args = new StringSeqArgs(doc, seq, where, { dashes: 'optional', newPrefix: '' });
  const tls = SERVER_DIRS[distro];
  const flags = planFlags({
    args,
    settings,
    version: settings.kubernetesVersion ?? null,
    where,
    defaults: {
      issuers: ['https://kubernetes.default.svc.cluster.local'],
      keyFiles: [`${tls}/service.key`],
      signingKeyFile: `${tls}/service.current.key`,
    },
  });
  const changes: Change[] = [...flags.changes];
  const notes = [
    ...flags.notes,
    `Restart ${distro} to apply: systemctl restart ${distro === 'k3s' ? 'k3s' : 'rke2-server'}.`,
  ];
  if (distro === 'rke2') changes.push(...ensureRke2Mount(doc.createNode.bind(doc), root, settings, where));
  return { text: renderSingleDocument(single, changes.length > 0), changes, notes };
}

/** The `kube-apiserver-arg` list; a single string is turned into a one-item list. */
function argList(create: (value: unknown) => unknown, root: YAMLMap, key: string, where: string): YAMLSeq {
  const current = root.get(key, true);
  if (isScalar(current) && typeof current.value === 'string') {
    const seq = create([current.value]) as YAMLSeq;
    root.set(key, seq);
    return seq;
  }
  if (current !== undefined && !isSeq(current)) {
    throw new IrsaError(
      'APISERVER_CONFIG_INVALID',
      `${where}: "${key}" is not a list.`,
      `Write "${key}" as a list of "name=value" strings.`,
    );
  }
  return isSeq(current) ? current : ensureSeqVia(create, root, key);
}

function ensureSeqVia(create: (value: unknown) => unknown, root: YAMLMap, key: string): YAMLSeq {
  const seq = create([]) as YAMLSeq;
  root.set(key, seq);
  return seq;
}

function ensureRke2Mount(
  create: (value: unknown) => unknown,
  root: YAMLMap,
  settings: ApiserverSettings,
  where: string,
): Change[] {
  const want = wantedMount(settings);
  if (want === null) return [];
  const key = 'kube-apiserver-extra-mount';
  const current = root.get(key, true);
  if (current !== undefined && !isSeq(current)) {
    throw new IrsaError(
      'APISERVER_CONFIG_INVALID',
      `${where}: "${key}" is not a list.`,
      `Write "${key}" as a list of "host:container[:ro]" strings.`,
    );
  }
  const seq = isSeq(current) ? current : ensureSeqVia(create, root, key);
  const covered = seq.items.some((item) => {
    const spec = isScalar(item) ? String(item.value) : '';
    const [host, container] = spec.split(':');
    return host !== undefined && host === container && isUnder(want.dir, host);
  });
  if (covered) return [];
  seq.items.push(create(`${want.dir}:${want.dir}${want.readOnly ? ':ro' : ''}`) as never);
  return [{ action: 'add', target: key, after: [`${want.dir}:${want.dir}${want.readOnly ? ':ro' : ''}`] }];
}
