/**
 * Where the audit reads the cluster: `--kubeconfig`, else `$KUBECONFIG` (its first file), else
 * the pod's own service account when running in a cluster (token and CA under
 * /var/run/secrets/kubernetes.io/serviceaccount, KUBERNETES_SERVICE_HOST/PORT), else
 * ~/.kube/config. Reuses doctor's kubeconfig reader and client.
 */
import path from 'node:path';
import { IrsaError } from '#core/errors.ts';
import { type KubeTarget, readKubeconfig } from '../doctor/kubeconfig.ts';

/** The in-cluster service-account directory. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

type Env = Readonly<Record<string, string | undefined>>;

/** A target from the in-cluster environment; undefined when not running in a pod. */
export async function inClusterTarget(
  env: Env,
  readFile: (file: string) => Promise<string>,
  dir = SERVICE_ACCOUNT_DIR,
): Promise<KubeTarget | undefined> {
  const host = env.KUBERNETES_SERVICE_HOST;
  if (host === undefined || host === '') return undefined;
  const port = env.KUBERNETES_SERVICE_PORT ?? '443';
  let token: string;
  let ca: string;
  try {
    token = (await readFile(path.join(dir, 'token'))).trim();
    ca = await readFile(path.join(dir, 'ca.crt'));
  } catch (cause) {
    throw new IrsaError(
      'KUBECONFIG_INVALID',
      `KUBERNETES_SERVICE_HOST is set but ${dir}/token or ca.crt cannot be read.`,
      'Run the audit pod with automountServiceAccountToken: true, or pass --kubeconfig.',
      { cause },
    );
  }
  // IPv6 service hosts need brackets in a URL.
  const server = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return { server, ca, token, context: 'in-cluster' };
}

/** Picks and reads the target, in the order described above. */
export async function resolveKubeTarget(options: {
  kubeconfig?: string;
  env: Env;
  home: string;
  readFile: (file: string) => Promise<string>;
}): Promise<KubeTarget> {
  const fromFile = async (file: string) =>
    readKubeconfig(await options.readFile(file), path.dirname(path.resolve(file)), options.readFile);
  if (options.kubeconfig !== undefined) return fromFile(options.kubeconfig);
  const listed = options.env.KUBECONFIG?.split(path.delimiter).find((f) => f !== '');
  if (listed !== undefined) return fromFile(listed);
  const inCluster = await inClusterTarget(options.env, options.readFile);
  if (inCluster !== undefined) return inCluster;
  const file = path.join(options.home, '.kube', 'config');
  try {
    return await fromFile(file);
  } catch (error) {
    if ((error as { code?: string }).code !== 'ENOENT') throw error;
    throw new IrsaError(
      'KUBECONFIG_INVALID',
      `No kubeconfig: no --kubeconfig, no KUBECONFIG, not in a pod, and ${file} does not exist.`,
      'Pass --kubeconfig <file> (e.g. /etc/kubernetes/admin.conf on a control-plane node).',
    );
  }
}
