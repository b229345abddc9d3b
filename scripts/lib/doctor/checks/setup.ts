/**
 * The first lines: the stack's outputs (`--stack`), the kubeconfig (`--kubeconfig`), the token
 * (`--token` or TokenRequest) and the issuer URL everything else is checked against.
 */
import { formatError, isIrsaError } from '#core/errors.ts';
import { isLoopbackHost, validateIssuerUrl } from '#core/issuer.ts';
import { decodeTokenUnverified } from '#core/verify-token.ts';
import { describeStackOutputs } from '../../stack/outputs.ts';
import { type KubeClient, probeApiServer, requestServiceAccountToken } from '../kube-client.ts';
import { type CheckResult, type CheckStatus, type DoctorContext, result } from '../types.ts';
import { createServiceAccountFix } from './kube-answers.ts';

export function fixOf(error: unknown, fallback: string): string {
  return isIrsaError(error) ? error.fix : fallback;
}

export function messageOf(error: unknown): string {
  return isIrsaError(error) ? `${error.code}: ${error.message}` : formatError(error);
}

/** `stack.outputs`: DescribeStacks for `--stack`. */
export async function checkStack(ctx: DoctorContext): Promise<CheckResult[]> {
  const { stack } = ctx.options;
  if (stack === undefined) return [];
  const title = `Stack ${stack} outputs`;
  if (ctx.deps.aws === undefined) {
    return [
      result(
        'stack.outputs',
        title,
        'SKIP',
        `no AWS credentials (${ctx.deps.awsUnavailable ?? 'none found'}): the stack cannot be read`,
        'Configure AWS credentials (AWS_PROFILE or AWS_ACCESS_KEY_ID) for the stack account, or pass --issuer instead.',
      ),
    ];
  }
  try {
    ctx.stack = await describeStackOutputs(ctx.deps.aws.cfn, stack);
    return [
      result('stack.outputs', title, 'PASS', `${ctx.stack.stackStatus}; issuer ${ctx.stack.issuerUrl}`),
    ];
  } catch (error) {
    return [
      result(
        'stack.outputs',
        title,
        'FAIL',
        messageOf(error),
        fixOf(error, 'Check --stack and the AWS region.'),
      ),
    ];
  }
}

/**
 * `cluster.kubeconfig`: builds the kube client from `--kubeconfig`; `cluster.reachable`: one GET
 * /version. When either fails, that is the one FAIL line and the cluster checks after it SKIP.
 */
export async function checkKubeconfig(ctx: DoctorContext): Promise<CheckResult[]> {
  const file = ctx.options.kubeconfig;
  if (file === undefined) return [];
  const title = 'Kubeconfig usable';
  if (ctx.deps.kubeClient === undefined) {
    ctx.kubeSkip = 'no Kubernetes client available in this build';
    return [result('cluster.kubeconfig', title, 'SKIP', ctx.kubeSkip)];
  }
  let kube: KubeClient;
  try {
    kube = await ctx.deps.kubeClient(file);
  } catch (error) {
    ctx.kubeSkip = 'the kubeconfig is not usable (see cluster.kubeconfig)';
    return [
      result(
        'cluster.kubeconfig',
        title,
        'FAIL',
        messageOf(error),
        fixOf(error, 'Pass a kubeconfig that kubectl can use.'),
      ),
    ];
  }
  const lines = [result('cluster.kubeconfig', title, 'PASS', `read ${file}`)];
  const reachTitle = 'kube-apiserver answers with these credentials';
  const reach = await probeApiServer(kube);
  if ('unreachable' in reach) {
    ctx.kubeSkip = 'API server unreachable (see cluster.reachable)';
    lines.push(
      result(
        'cluster.reachable',
        reachTitle,
        'FAIL',
        messageOf(reach.unreachable),
        fixOf(reach.unreachable, 'Check the kubeconfig server address and the network.'),
      ),
    );
  } else if (reach.status === 401) {
    ctx.kubeSkip = 'kube-apiserver rejected the credentials (see cluster.reachable)';
    lines.push(
      result(
        'cluster.reachable',
        reachTitle,
        'FAIL',
        'kube-apiserver answered HTTP 401: it does not accept the credentials in the kubeconfig',
        'Renew the client certificate or token (`kubectl --kubeconfig FILE get --raw /version` must work).',
      ),
    );
  } else {
    ctx.kube = kube;
    lines.push(result('cluster.reachable', reachTitle, 'PASS', `GET /version answered HTTP ${reach.status}`));
  }
  return lines;
}

/** Decodes the token for later checks; a malformed token is reported by `token.format`, not here. */
function decodeInto(ctx: DoctorContext, token: string): void {
  try {
    ctx.decoded = decodeTokenUnverified(token);
  } catch {
    delete ctx.decoded;
  }
}

/** `token.source`: reads `--token FILE`, or requests one with the TokenRequest API. */
export async function checkTokenSource(ctx: DoctorContext): Promise<CheckResult[]> {
  const { tokenFile, namespace, serviceAccount, kubeconfig } = ctx.options;
  const title = 'Service-account token obtained';
  const line = (status: CheckStatus, detail: string, fix = '') => [
    result('token.source', title, status, detail, fix),
  ];
  if (tokenFile !== undefined) {
    try {
      ctx.token = (await ctx.deps.readFile(tokenFile)).trim();
    } catch (error) {
      return line('FAIL', messageOf(error), fixOf(error, 'Pass --token with a file holding only the token.'));
    }
    decodeInto(ctx, ctx.token);
    return line('PASS', `read from ${tokenFile}`);
  }
  const skipped = 'token and trust-policy checks skipped';
  if (kubeconfig === undefined || namespace === undefined || serviceAccount === undefined) {
    const why =
      kubeconfig !== undefined
        ? 'no --token, and --namespace/--service-account were not both given for a TokenRequest'
        : 'no --token FILE, and no --kubeconfig with --namespace and --service-account';
    return line(
      'SKIP',
      `${why}: ${skipped}`,
      'Pass --token /path/to/token, or --kubeconfig with --namespace and --service-account.',
    );
  }
  if (ctx.kube === undefined)
    return line('SKIP', `no TokenRequest: ${ctx.kubeSkip ?? 'no cluster'}; ${skipped}`);
  const who = `${namespace}/${serviceAccount}`;
  try {
    const answer = await requestServiceAccountToken(ctx.kube, namespace, serviceAccount, ctx.audience);
    if ('token' in answer) {
      ctx.token = answer.token;
      decodeInto(ctx, ctx.token);
      return line('PASS', `TokenRequest for ${who}, audience ${ctx.audience}`);
    }
    const said = answer.message === '' ? '' : ` (kube-apiserver: ${answer.message})`;
    if (answer.status === 403)
      return line(
        'SKIP',
        `no TokenRequest: needs RBAC create on serviceaccounts/token in namespace ${namespace}${said}; ${skipped}`,
        'Pass --token with a token copied from a pod, or use a kubeconfig allowed to create serviceaccounts/token.',
      );
    if (answer.status === 404)
      return line(
        'FAIL',
        `TokenRequest for ${who}: the service account does not exist${said}`,
        await createServiceAccountFix(ctx.kube, namespace, serviceAccount),
      );
    return line(
      'FAIL',
      `TokenRequest for ${who} failed with HTTP ${answer.status}${said}`,
      'Check the cluster version (TokenRequest needs Kubernetes 1.22 or later) and that kube-apiserver is healthy.',
    );
  } catch (error) {
    return line('FAIL', messageOf(error), fixOf(error, 'Check the kubeconfig and the API server.'));
  }
}

/** `issuer.url`: picks the issuer (--issuer, the stack, or the token) and checks its spelling. */
export async function checkIssuerUrl(ctx: DoctorContext): Promise<CheckResult[]> {
  const title = 'Issuer URL is canonical (https, lower-case host, no port, no trailing slash)';
  const tokenIss = ctx.decoded?.claims.iss;
  let source: string;
  if (ctx.options.issuer !== undefined) {
    ctx.issuer = ctx.options.issuer;
    source = '--issuer';
  } else if (ctx.stack !== undefined) {
    ctx.issuer = ctx.stack.issuerUrl;
    source = 'the stack';
  } else if (typeof tokenIss === 'string') {
    ctx.issuer = tokenIss;
    source = "the token's iss (no --issuer or --stack given)";
  } else if (ctx.options.stack !== undefined) {
    ctx.issuerProblem = `no issuer: the stack ${ctx.options.stack} could not be read`;
    return [result('issuer.url', title, 'SKIP', `${ctx.issuerProblem} (see stack.outputs)`)];
  } else {
    ctx.issuerProblem = 'no issuer';
    return [
      result(
        'issuer.url',
        title,
        'FAIL',
        'no issuer to check: none of --issuer, --stack or a token was given',
        'Pass --issuer https://<your issuer> or --stack <stack name>.',
      ),
    ];
  }
  try {
    validateIssuerUrl(ctx.issuer, { allowLoopbackHttp: true });
  } catch (error) {
    ctx.issuerProblem = `the issuer URL "${ctx.issuer}" is not usable`;
    return [
      result(
        'issuer.url',
        title,
        'FAIL',
        `${ctx.issuer} (from ${source}): ${messageOf(error)}`,
        fixOf(error, 'Use https://<host>[/<path>].'),
      ),
    ];
  }
  ctx.loopback = isLoopbackHost(new URL(ctx.issuer).host.replace(/:\d+$/, '').toLowerCase());
  if (ctx.loopback) {
    // Say what it is: a local-mode issuer, not the canonical https URL the usual title promises.
    return [
      result(
        'issuer.url',
        `Issuer URL is a local-mode loopback URL${ctx.issuer.startsWith('http:') ? ' (plain http)' : ''}`,
        'PASS',
        `${ctx.issuer} (from ${source}): fine for local testing; AWS STS needs a public https issuer`,
      ),
    ];
  }
  return [result('issuer.url', title, 'PASS', `${ctx.issuer} (from ${source})`)];
}
