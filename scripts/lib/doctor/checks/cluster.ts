/**
 * Cluster (with `--kubeconfig`): kube-apiserver's own discovery names our issuer; its JWKS kids are
 * all published; the pod identity webhook is installed and running; the service account is
 * annotated. A 403 anywhere is a SKIP naming the RBAC rule; once kube-apiserver stops answering,
 * the remaining checks SKIP instead of each failing again.
 */

import { isIrsaError } from '#core/errors.ts';
import { describeIssuerDifference } from '#core/verify-token.ts';
import { JWKS_ACCEPT, type KubeClient } from '../kube-client.ts';
import { type CheckResult, type DoctorContext, result } from '../types.ts';
import { checkServiceAccount, SERVICE_ACCOUNT_TITLE } from './cluster-serviceaccount.ts';
import { checkWebhook, WEBHOOK_TITLE } from './cluster-webhook.ts';
import { getJson, refusedLine } from './kube-answers.ts';
import { messageOf } from './setup.ts';

const T = {
  discovery: "kube-apiserver's discovery names the same issuer",
  jwks: "kube-apiserver's signing keys are all in the published JWKS",
};

/** One cluster check: its id and title (for the SKIP line) and how to run it. */
interface ClusterStep {
  id: string;
  title: string;
  run: (ctx: DoctorContext, kube: KubeClient) => Promise<CheckResult>;
}

const STEPS: readonly ClusterStep[] = [
  { id: 'cluster.discovery', title: T.discovery, run: discovery },
  { id: 'cluster.jwks', title: T.jwks, run: jwks },
  { id: 'cluster.webhook', title: WEBHOOK_TITLE, run: (_ctx, kube) => checkWebhook(kube) },
  { id: 'cluster.serviceaccount', title: SERVICE_ACCOUNT_TITLE, run: checkServiceAccount },
];

/** `cluster.discovery`, `cluster.jwks`, `cluster.webhook`, `cluster.serviceaccount`. */
export async function checkCluster(ctx: DoctorContext): Promise<CheckResult[]> {
  const kube = ctx.kube;
  let skip: string | undefined;
  if (kube === undefined) {
    skip =
      ctx.options.kubeconfig === undefined
        ? 'no --kubeconfig given: cluster checks skipped'
        : (ctx.kubeSkip ?? 'the kubeconfig is not usable (see cluster.kubeconfig)');
  }
  const lines: CheckResult[] = [];
  for (const step of STEPS) {
    if (skip !== undefined || kube === undefined) {
      lines.push(result(step.id, step.title, 'SKIP', skip ?? 'no cluster'));
      continue;
    }
    ctx.deps.progress?.(`checking ${step.id}`);
    try {
      lines.push(await step.run(ctx, kube));
    } catch (error) {
      lines.push(
        result(
          step.id,
          step.title,
          'FAIL',
          messageOf(error),
          'Check the kubeconfig and that the API server is reachable.',
        ),
      );
      // One unreachable API server is one FAIL; the checks after it cannot learn anything more.
      if (isIrsaError(error) && error.code === 'KUBE_UNREACHABLE')
        skip = `API server unreachable (see ${step.id})`;
    }
  }
  return lines;
}

/**
 * Why kube-apiserver answers 404 on its discovery endpoints: it serves them only for an https
 * issuer, and not on 1.32–1.33 with an external signer.
 */
const NOT_SERVED =
  'kube-apiserver serves no discovery endpoints (HTTP 404): it serves none when --service-account-issuer is not https, and none on Kubernetes 1.32–1.33 with an external signer (--service-account-signing-endpoint); the token checks compare the issuer instead';

async function discovery(ctx: DoctorContext, kube: KubeClient): Promise<CheckResult> {
  const answer = await getJson(kube, '/.well-known/openid-configuration');
  if (answer.status === 404) return result('cluster.discovery', T.discovery, 'SKIP', NOT_SERVED);
  if (answer.status !== 200)
    return refusedLine(
      'cluster.discovery',
      T.discovery,
      answer,
      'get on /.well-known/openid-configuration (ClusterRole system:service-account-issuer-discovery)',
    );
  const issuer = (answer.json as { issuer?: unknown } | undefined)?.issuer;
  if (ctx.issuer === undefined)
    return result(
      'cluster.discovery',
      T.discovery,
      'SKIP',
      `kube-apiserver's issuer is ${String(issuer)}; no issuer to compare with`,
    );
  if (issuer === ctx.issuer) return result('cluster.discovery', T.discovery, 'PASS', `"${issuer}"`);
  return result(
    'cluster.discovery',
    T.discovery,
    'FAIL',
    `kube-apiserver signs tokens for ${typeof issuer === 'string' ? describeIssuerDifference(issuer, ctx.issuer) : 'no issuer'}`,
    `Set kube-apiserver's first --service-account-issuer to ${ctx.issuer}: irsa-anywhere apiserver configure --issuer ${ctx.issuer}.`,
  );
}

function kidsOf(jwks: unknown): string[] {
  const keys = (jwks as { keys?: unknown } | undefined)?.keys;
  return Array.isArray(keys) ? keys.map((key) => String((key as { kid?: unknown }).kid)) : [];
}

async function jwks(ctx: DoctorContext, kube: KubeClient): Promise<CheckResult> {
  const answer = await getJson(kube, '/openid/v1/jwks', { accept: JWKS_ACCEPT });
  if (answer.status === 404) return result('cluster.jwks', T.jwks, 'SKIP', NOT_SERVED);
  if (answer.status !== 200)
    return refusedLine(
      'cluster.jwks',
      T.jwks,
      answer,
      'get on /openid/v1/jwks (ClusterRole system:service-account-issuer-discovery)',
    );
  const clusterKids = kidsOf(answer.json);
  if (ctx.jwks === undefined)
    return result(
      'cluster.jwks',
      T.jwks,
      'SKIP',
      `kube-apiserver has ${clusterKids.join(', ')}; the published JWKS could not be read`,
    );
  const published = kidsOf(ctx.jwks);
  const unpublished = clusterKids.filter((kid) => !published.includes(kid));
  if (unpublished.length > 0) {
    return result(
      'cluster.jwks',
      T.jwks,
      'FAIL',
      `kube-apiserver holds ${unpublished.join(', ')}, which the issuer does not publish: tokens it signs fail with "Couldn't retrieve verification key from your identity provider"`,
      'Make kube-apiserver sign only with keys from the stack: run `irsa-anywhere signer` (kms mode) or `irsa-anywhere key-sync` (file mode), and drop other --service-account-key-file flags once their tokens expire.',
    );
  }
  const extra = published.filter((kid) => !clusterKids.includes(kid));
  return result(
    'cluster.jwks',
    T.jwks,
    'PASS',
    `${clusterKids.join(', ')}${extra.length > 0 ? ` (also published: ${extra.join(', ')}, pending or retired keys)` : ''}`,
  );
}
