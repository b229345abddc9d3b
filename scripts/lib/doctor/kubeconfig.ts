/**
 * A minimal kubeconfig reader: the current context's server, CA and credentials (bearer token or
 * client certificate). Exec plugins and auth providers are not supported: doctor says so.
 */
import path from 'node:path';
import { parse } from 'yaml';
import { IrsaError } from '#core/errors.ts';

/** Where and how to reach kube-apiserver. PEM strings; never logged. */
export interface KubeTarget {
  server: string;
  ca?: string;
  insecureSkipTlsVerify?: boolean;
  token?: string;
  clientCert?: string;
  clientKey?: string;
  context: string;
}

type Obj = Record<string, unknown>;

function bad(
  problem: string,
  fix = 'Point --kubeconfig at a working kubeconfig (`kubectl --kubeconfig FILE get --raw /healthz` should work).',
): IrsaError {
  return new IrsaError('KUBECONFIG_INVALID', `The kubeconfig ${problem}.`, fix);
}

function named(list: unknown, name: string, what: string): Obj {
  const entry = Array.isArray(list)
    ? (list as unknown[]).find(
        (item) => item !== null && typeof item === 'object' && (item as Obj).name === name,
      )
    : undefined;
  const inner = entry === undefined ? undefined : (entry as Obj)[what];
  if (inner === null || typeof inner !== 'object') throw bad(`has no ${what} named "${name}"`);
  return inner as Obj;
}

function str(obj: Obj, key: string): string | undefined {
  const value = obj[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * Parses kubeconfig text. `readFile` resolves file references (`certificate-authority`,
 * `client-certificate`, `client-key`, `tokenFile`) relative to `baseDir`, as kubectl does.
 * Throws `KUBECONFIG_INVALID` or `KUBECONFIG_UNSUPPORTED_AUTH`.
 */
export async function readKubeconfig(
  text: string,
  baseDir: string,
  readFile: (file: string) => Promise<string>,
  contextName?: string,
): Promise<KubeTarget> {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch {
    throw bad('is not YAML');
  }
  if (doc === null || typeof doc !== 'object') throw bad('is empty');
  const config = doc as Obj;
  const name = contextName ?? str(config, 'current-context');
  if (name === undefined)
    throw bad(
      'has no current-context',
      'Run `kubectl config use-context <name>` or set current-context in the file.',
    );
  const context = named(config.contexts, name, 'context');
  const clusterName = str(context, 'cluster');
  const userName = str(context, 'user');
  if (clusterName === undefined) throw bad(`context "${name}" names no cluster`);
  const cluster = named(config.clusters, clusterName, 'cluster');
  const server = str(cluster, 'server');
  if (server === undefined || !/^https?:\/\//.test(server))
    throw bad(`cluster "${clusterName}" has no https server`);
  const load = async (file: string): Promise<string> => {
    const full = path.resolve(baseDir, file);
    try {
      return await readFile(full);
    } catch (error) {
      // A file the kubeconfig names (CA, client certificate or key, token) is part of its input.
      const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
      throw bad(
        `names ${full}, which cannot be read (${code === 'ENOENT' ? 'no such file' : code})`,
        `Fix the path in the kubeconfig (paths are relative to the kubeconfig's directory), or pass --kubeconfig with another file.`,
      );
    }
  };
  const decode = (data: string): string => Buffer.from(data, 'base64').toString('utf8');
  const target: KubeTarget = { server: server.replace(/\/+$/, ''), context: name };
  const caData = str(cluster, 'certificate-authority-data');
  const caFile = str(cluster, 'certificate-authority');
  if (caData !== undefined) target.ca = decode(caData);
  else if (caFile !== undefined) target.ca = await load(caFile);
  if (cluster['insecure-skip-tls-verify'] === true) target.insecureSkipTlsVerify = true;
  if (userName !== undefined) {
    const user = named(config.users, userName, 'user');
    if (user.exec !== undefined || user['auth-provider'] !== undefined) {
      throw new IrsaError(
        'KUBECONFIG_UNSUPPORTED_AUTH',
        `User "${userName}" authenticates with an exec plugin or auth provider, which doctor does not run.`,
        'Use a kubeconfig with a client certificate or a bearer token (e.g. the admin.conf of kubeadm, or `kubectl create token` for a service account).',
      );
    }
    const token = str(user, 'token');
    const tokenFile = str(user, 'tokenFile');
    if (token !== undefined) target.token = token;
    else if (tokenFile !== undefined) target.token = (await load(tokenFile)).trim();
    const certData = str(user, 'client-certificate-data');
    const certFile = str(user, 'client-certificate');
    const keyData = str(user, 'client-key-data');
    const keyFile = str(user, 'client-key');
    if (certData !== undefined) target.clientCert = decode(certData);
    else if (certFile !== undefined) target.clientCert = await load(certFile);
    if (keyData !== undefined) target.clientKey = decode(keyData);
    else if (keyFile !== undefined) target.clientKey = await load(keyFile);
    if ((target.clientCert === undefined) !== (target.clientKey === undefined)) {
      throw bad(
        `user "${userName}" has a client certificate without its key (or a key without its certificate)`,
      );
    }
  }
  return target;
}
