/**
 * `cluster.serviceaccount`: the service account exists and carries `eks.amazonaws.com/role-arn`
 * (equal to `--role-arn` when given); a non-default `eks.amazonaws.com/audience` is a WARN.
 */
import type { KubeClient } from '../kube-client.ts';
import { type CheckResult, type DoctorContext, result } from '../types.ts';
import { createServiceAccountFix, getJson, refusedLine } from './kube-answers.ts';

/** The title of `cluster.serviceaccount`. */
export const SERVICE_ACCOUNT_TITLE = 'Service account is annotated with eks.amazonaws.com/role-arn';

const ID = 'cluster.serviceaccount';
const ROLE_ANNOTATION = 'eks.amazonaws.com/role-arn';
const AUDIENCE_ANNOTATION = 'eks.amazonaws.com/audience';

/** Reads the service account named by `--namespace`/`--service-account` and checks its annotations. */
export async function checkServiceAccount(ctx: DoctorContext, kube: KubeClient): Promise<CheckResult> {
  const { namespace, serviceAccount: name, roleArn } = ctx.options;
  if (namespace === undefined || name === undefined) {
    return result(ID, SERVICE_ACCOUNT_TITLE, 'SKIP', 'no --namespace and --service-account given');
  }
  const answer = await getJson(
    kube,
    `/api/v1/namespaces/${encodeURIComponent(namespace)}/serviceaccounts/${encodeURIComponent(name)}`,
  );
  if (answer.status === 404) {
    return result(
      ID,
      SERVICE_ACCOUNT_TITLE,
      'FAIL',
      `service account ${namespace}/${name} does not exist`,
      await createServiceAccountFix(kube, namespace, name),
    );
  }
  if (answer.status !== 200)
    return refusedLine(ID, SERVICE_ACCOUNT_TITLE, answer, `get on serviceaccounts in namespace ${namespace}`);
  const annotations = ((answer.json as { metadata?: { annotations?: Record<string, string> } }).metadata
    ?.annotations ?? {}) as Record<string, string>;
  const annotated = annotations[ROLE_ANNOTATION];
  const wanted = roleArn ?? '<role arn>';
  if (annotated === undefined) {
    return result(
      ID,
      SERVICE_ACCOUNT_TITLE,
      'FAIL',
      `${namespace}/${name} has no ${ROLE_ANNOTATION} annotation: the webhook leaves its pods alone`,
      `kubectl -n ${namespace} annotate serviceaccount ${name} ${ROLE_ANNOTATION}=${wanted}`,
    );
  }
  if (roleArn !== undefined && annotated !== roleArn) {
    return result(
      ID,
      SERVICE_ACCOUNT_TITLE,
      'FAIL',
      `${namespace}/${name} is annotated with ${annotated}, not ${roleArn}`,
      `kubectl -n ${namespace} annotate --overwrite serviceaccount ${name} ${ROLE_ANNOTATION}=${roleArn}`,
    );
  }
  const audience = annotations[AUDIENCE_ANNOTATION];
  if (
    audience !== undefined &&
    audience !== ctx.audience &&
    !(ctx.provider?.clientIds.includes(audience) ?? false)
  ) {
    return result(
      ID,
      SERVICE_ACCOUNT_TITLE,
      'WARN',
      `${AUDIENCE_ANNOTATION} is "${audience}", not "${ctx.audience}": STS answers "Incorrect token audience" unless the provider lists it`,
      `kubectl -n ${namespace} annotate serviceaccount ${name} ${AUDIENCE_ANNOTATION}-`,
    );
  }
  return result(ID, SERVICE_ACCOUNT_TITLE, 'PASS', `${ROLE_ANNOTATION}=${annotated}`);
}
