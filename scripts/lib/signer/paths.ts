/**
 * The signer's default install paths, apart from the renderers so that registering the command
 * (for `--help`) does not load the YAML and diff libraries.
 */

/** Where `signer install --write` puts the systemd unit. */
export const SYSTEMD_UNIT_PATH = '/etc/systemd/system/irsa-anywhere-signer.service';
/** Where `signer install --static-pod --write` puts the static pod manifest. */
export const STATIC_POD_PATH = '/etc/kubernetes/manifests/irsa-anywhere-signer.yaml';
/** Where `npm install -g` (prefix /usr/local) links the `irsa-anywhere` command. */
export const DEFAULT_BIN = '/usr/local/bin/irsa-anywhere';
