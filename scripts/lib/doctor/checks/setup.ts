/**
 * The first lines: the stack's outputs (`--stack`), the kubeconfig (`--kubeconfig`), the token
 * (`--token` or TokenRequest) and the issuer URL everything else is checked against.
 */
import { formatError, isIrsaError } from '#core/errors.ts';
import { isLoopbackHost, validateIssuerUrl } from '#core/issuer.ts';
import { decodeTokenUnverified } from '#core/verify-token.ts';
import { describeStackOutputs } from '../../stack/outputs.ts';
import { requestServiceAccountToken } from '../kube-client.ts';
import { type CheckResult, type DoctorContext, result } from '../types.ts';

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

/** `cluster.kubeconfig`: builds the kube client from `--kubeconfig`. */
export async function checkKubeconfig(ctx: DoctorContext): Promise<CheckResult[]> {
  const file = ctx.options.kubeconfig;
  if (file === undefined) return [];
  const title = 'Kubeconfig usable';
  if (ctx.deps.kubeClient === undefined) {
    return [result('cluster.kubeconfig', title, 'SKIP', 'no Kubernetes client available in this build')];
  }
  try {
    ctx.kube = await ctx.deps.kubeClient(file);
    return [result('cluster.kubeconfig', title, 'PASS', `read ${file}`)];
  } catch (error) {
    ctx.kubeProblem = error instanceof Error ? error : new Error(String(error));
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
  const { tokenFile, namespace, serviceAccount } = ctx.options;
  const title = 'Service-account token obtained';
  try {
    if (tokenFile !== undefined) {
      ctx.token = (await ctx.deps.readFile(tokenFile)).trim();
      decodeInto(ctx, ctx.token);
      return [result('token.source', title, 'PASS', `read from ${tokenFile}`)];
    }
    if (ctx.kube !== undefined && namespace !== undefined && serviceAccount !== undefined) {
      ctx.token = await requestServiceAccountToken(ctx.kube, namespace, serviceAccount, ctx.audience);
      decodeInto(ctx, ctx.token);
      return [
        result(
          'token.source',
          title,
          'PASS',
          `TokenRequest for ${namespace}/${serviceAccount}, audience ${ctx.audience}`,
        ),
      ];
    }
  } catch (error) {
    return [
      result(
        'token.source',
        title,
        'FAIL',
        messageOf(error),
        fixOf(error, 'Pass --token with a file holding only the token.'),
      ),
    ];
  }
  const why =
    ctx.options.kubeconfig !== undefined
      ? 'no --token, and --namespace/--service-account were not both given for a TokenRequest'
      : 'no --token FILE, and no --kubeconfig with --namespace and --service-account';
  return [
    result(
      'token.source',
      title,
      'SKIP',
      `${why}: token and trust-policy checks skipped`,
      'Pass --token /path/to/token, or --kubeconfig with --namespace and --service-account.',
    ),
  ];
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
    return [
      result(
        'issuer.url',
        title,
        'PASS',
        `${ctx.issuer} (from ${source}) is a local loopback issuer: fine for testing, AWS needs a public https issuer`,
      ),
    ];
  }
  return [result('issuer.url', title, 'PASS', `${ctx.issuer} (from ${source})`)];
}
