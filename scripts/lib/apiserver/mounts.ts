/**
 * Makes a host directory visible inside the kube-apiserver container at the same path: the signer
 * socket's directory (kms mode) or the key directory (file mode). Each format lists mounts its own
 * way; this module owns the rule "reuse a mount that already covers the path, else add ours, and drop
 * our mount for the other mode".
 */
import { type Document, isMap, type YAMLMap, type YAMLSeq } from 'yaml';
import { requiredHostDir } from './settings.ts';
import type { ApiserverSettings, Change } from './types.ts';
import { stringField } from './yaml-doc.ts';

/** Names of the mounts this tool adds, by mode. */
export const MOUNT_NAMES = { kms: 'irsa-anywhere-signer', file: 'irsa-anywhere-keys' } as const;

/** The mount a mode needs: directory, our name for it, and whether it can be read-only. */
export interface WantedMount {
  dir: string;
  name: string;
  readOnly: boolean;
}

/** What the settings need mounted, or null (abstract socket). */
export function wantedMount(settings: ApiserverSettings): WantedMount | null {
  const dir = requiredHostDir(settings);
  if (dir === null) return null;
  // The socket must be connectable, so only the key directory is mounted read-only.
  return { dir, name: MOUNT_NAMES[settings.mode], readOnly: settings.mode === 'file' };
}

/** True when `dir` is `base` or inside it. */
export function isUnder(dir: string, base: string): boolean {
  const root = base.replace(/\/+$/, '');
  return dir === root || dir.startsWith(`${root}/`) || root === '';
}

/** How one list format spells a mount. */
export interface MountShape {
  host(item: YAMLMap): string | undefined;
  container(item: YAMLMap): string | undefined;
  name(item: YAMLMap): string | undefined;
  readOnly(item: YAMLMap): boolean;
  make(want: WantedMount): Record<string, unknown>;
}

function ourOther(name: string | undefined, want: WantedMount | null): boolean {
  return (
    name !== undefined &&
    Object.values(MOUNT_NAMES).includes(name as never) &&
    (want === null || name !== want.name)
  );
}

/**
 * Ensures a single list of mounts (hostPath + containerPath in one entry) covers `want`, and removes
 * our mount for the other mode. `label` names the list in changes.
 */
export function ensureListMount(
  doc: Document,
  seq: YAMLSeq,
  shape: MountShape,
  want: WantedMount | null,
  label: string,
): Change[] {
  const changes: Change[] = [];
  for (const item of [...seq.items]) {
    if (isMap(item) && ourOther(shape.name(item), want)) {
      seq.items.splice(seq.items.indexOf(item), 1);
      changes.push({
        action: 'remove',
        target: `${label}:${shape.name(item)}`,
        before: [shape.host(item) ?? ''],
      });
    }
  }
  if (want === null) return changes;
  const covered = seq.items.some((item) => {
    if (!isMap(item)) return false;
    const host = shape.host(item);
    return (
      host !== undefined &&
      shape.container(item) === host &&
      isUnder(want.dir, host) &&
      (want.readOnly || !shape.readOnly(item))
    );
  });
  if (covered) return changes;
  const ours = seq.items.find((item) => isMap(item) && shape.name(item) === want.name);
  if (ours !== undefined) seq.items.splice(seq.items.indexOf(ours), 1);
  seq.items.push(doc.createNode(shape.make(want)));
  changes.push({
    action: ours === undefined ? 'add' : 'set',
    target: `${label}:${want.name}`,
    after: [want.dir],
  });
  return changes;
}

/** kubeadm ClusterConfiguration `apiServer.extraVolumes` (v1beta3 and v1beta4 spell it the same). */
export const KUBEADM_EXTRA_VOLUME: MountShape = {
  host: (item) => stringField(item, 'hostPath'),
  container: (item) => stringField(item, 'mountPath'),
  name: (item) => stringField(item, 'name'),
  readOnly: (item) => item.get('readOnly') === true,
  make: (want) => ({
    name: want.name,
    hostPath: want.dir,
    mountPath: want.dir,
    readOnly: want.readOnly,
    pathType: 'DirectoryOrCreate',
  }),
};

/**
 * Static pod: `spec.volumes` (hostPath) and the container's `volumeMounts`, matched by name.
 */
export function ensurePodMount(
  doc: Document,
  volumes: YAMLSeq,
  mounts: YAMLSeq,
  want: WantedMount | null,
): Change[] {
  const changes: Change[] = [];
  const mountFor = (name: string | undefined): YAMLMap | undefined =>
    mounts.items.find((m): m is YAMLMap => isMap(m) && stringField(m, 'name') === name);
  for (const volume of [...volumes.items]) {
    const name = stringField(volume, 'name');
    if (!isMap(volume) || !ourOther(name, want)) continue;
    volumes.items.splice(volumes.items.indexOf(volume), 1);
    const mount = mountFor(name);
    if (mount !== undefined) mounts.items.splice(mounts.items.indexOf(mount), 1);
    changes.push({ action: 'remove', target: `volume:${name}`, before: [hostPathOf(volume) ?? ''] });
  }
  if (want === null) return changes;
  const covered = volumes.items.some((volume) => {
    const host = hostPathOf(volume);
    const mount = mountFor(stringField(volume, 'name'));
    return (
      host !== undefined &&
      mount !== undefined &&
      stringField(mount, 'mountPath') === host &&
      isUnder(want.dir, host) &&
      (want.readOnly || mount.get('readOnly') !== true)
    );
  });
  if (covered) return changes;
  const existing = volumes.items.find((v) => stringField(v, 'name') === want.name);
  if (existing !== undefined) volumes.items.splice(volumes.items.indexOf(existing), 1);
  const existingMount = mountFor(want.name);
  if (existingMount !== undefined) mounts.items.splice(mounts.items.indexOf(existingMount), 1);
  mounts.items.push(doc.createNode({ mountPath: want.dir, name: want.name, readOnly: want.readOnly }));
  volumes.items.push(
    doc.createNode({ hostPath: { path: want.dir, type: 'DirectoryOrCreate' }, name: want.name }),
  );
  changes.push({
    action: existing === undefined ? 'add' : 'set',
    target: `volume:${want.name}`,
    after: [want.dir],
  });
  return changes;
}

function hostPathOf(volume: unknown): string | undefined {
  if (!isMap(volume)) return undefined;
  return stringField(volume.get('hostPath'), 'path');
}
