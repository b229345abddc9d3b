/**
 * Talos: a machine-config patch (`cluster.apiServer.extraArgs` and `extraVolumes`) to apply with
 * `talosctl patch machineconfig --mode=try`, which rolls back by itself if the node does not come
 * back. kms mode only: Talos nodes have no shell or writable host path for key-sync.
 */
import { isMap } from 'yaml';
import { IrsaError } from '#core/errors.ts';
import { MapArgs } from './arg-store.ts';
import { planFlags } from './flags.ts';
import { ensureListMount, type MountShape, wantedMount } from './mounts.ts';
import type { ApiserverSettings, PlanResult } from './types.ts';
import { ensureMap, ensureSeq, parseSingleDocument, renderSingleDocument, stringField } from './yaml-doc.ts';

const WHERE = 'the Talos machine-config patch';

const TALOS_VOLUME: MountShape = {
  host: (item) => stringField(item, 'hostPath'),
  container: (item) => stringField(item, 'mountPath'),
  // Talos volumes have no name: ours are recognised by path.
  name: () => undefined,
  readOnly: (item) => item.get('readonly') === true,
  make: (want) => ({ hostPath: want.dir, mountPath: want.dir, readonly: want.readOnly }),
};

/** Notes printed with every Talos patch. */
export const TALOS_NOTES = [
  'Apply with `talosctl patch machineconfig --nodes <control-plane nodes> --mode=try --patch @<file>`; ' +
    'Talos rolls the change back unless it is confirmed with a second apply without --mode=try.',
  'Talos keeps one value per extraArgs key, so its default issuer (the cluster endpoint) is replaced: tokens ' +
    'issued for it stop verifying once kube-apiserver restarts; kubelet refreshes projected tokens.',
  'Talos passes its own --service-account-key-file; confirm kube-apiserver started with the signing ' +
    'endpoint (`talosctl -n <node> logs kube-apiserver`) before confirming the try.',
];

/** Plans a Talos machine-config patch. Pure: text in, text out (an empty text starts a new patch). */
export function planTalosPatch(text: string, settings: ApiserverSettings): PlanResult {
  if (settings.mode === 'file') {
    throw new IrsaError(
      'APISERVER_MODE_UNSUPPORTED',
      'file mode is not available on Talos: nodes have no shell for key-sync and no writable host path for the key files.',
      'Use --mode kms (the signer runs as a static pod or system extension and signs through KMS).',
    );
  }
  const single = parseSingleDocument(text, WHERE, {}, 'Keep this patch in its own file.');
  const { doc } = single;
  const root = doc.contents;
  if (!isMap(root) || (root.has('kind') && !root.has('machine'))) {
    throw new IrsaError(
      'APISERVER_CONFIG_INVALID',
      `${WHERE} is not a v1alpha1 machine-config patch (a map with "cluster:" or "machine:").`,
      'Pass --file with a Talos machine-config patch, or leave --file out to print a new one.',
    );
  }
  const cluster = ensureMap(doc, root, 'cluster', WHERE);
  const apiServer = ensureMap(doc, cluster, 'apiServer', WHERE);
  const args = new MapArgs(ensureMap(doc, apiServer, 'extraArgs', WHERE), WHERE);
  const version = settings.kubernetesVersion ?? null;
  const flags = planFlags({ args, settings, version, where: WHERE });
  const changes = [...flags.changes];
  const want = wantedMount(settings);
  if (want !== null) {
    changes.push(
      ...ensureListMount(
        doc,
        ensureSeq(doc, apiServer, 'extraVolumes', WHERE),
        TALOS_VOLUME,
        want,
        'extraVolume',
      ),
    );
  }
  return {
    text: renderSingleDocument(single, changes.length > 0),
    changes,
    notes: [...flags.notes, ...TALOS_NOTES],
  };
}
