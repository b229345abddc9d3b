/**
 * Default install paths of the units, apart from the renderers so that registering the commands
 * (for `--help`) does not load the YAML and diff libraries.
 */
import { fileURLToPath } from 'node:url';

/** Where `signer install --write` puts the systemd unit. */
export const SYSTEMD_UNIT_PATH = '/etc/systemd/system/irsa-anywhere-signer.service';
/** Where `signer install --static-pod --write` puts the static pod manifest. */
export const STATIC_POD_PATH = '/etc/kubernetes/manifests/irsa-anywhere-signer.yaml';
/** Where `npm install -g` (prefix /usr/local) links the `irsa-anywhere` command. */
export const DEFAULT_BIN = '/usr/local/bin/irsa-anywhere';

/** Set to true by the bundle build (esbuild `define`); undefined when running the sources. */
declare const IRSA_BUNDLED: boolean | undefined;

/**
 * The program the units run by default: the bundle this process runs from (an installed
 * dist/irsa-anywhere.mjs, executable through its `#!/usr/bin/env node` line), or `DEFAULT_BIN`
 * when running the sources, which need their checkout and tsx.
 */
export function defaultBin(): string {
  return typeof IRSA_BUNDLED !== 'undefined' && IRSA_BUNDLED ? fileURLToPath(import.meta.url) : DEFAULT_BIN;
}
