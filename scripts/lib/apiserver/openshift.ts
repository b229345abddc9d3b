/**
 * OpenShift: the cluster `Authentication` resource's `spec.serviceAccountIssuer`. The
 * kube-apiserver operator owns every kube-apiserver flag and the signing key
 * (`next-bound-service-account-signing-key`), and has no external-signer option, so only file mode
 * is offered and the key step is manual (see docs/control-plane.md).
 */
import { isMap } from 'yaml';
import { IrsaError } from '#core/errors.ts';
import type { ApiserverSettings, Change, PlanResult } from './types.ts';
import { ensureMap, parseSingleDocument, renderSingleDocument } from './yaml-doc.ts';

const WHERE = 'the OpenShift Authentication resource';

/** Notes printed with every OpenShift Authentication resource: the manual steps. */
export const OPENSHIFT_NOTES = [
  'Apply with `oc apply -f <file>` (or `oc patch authentication.config.openshift.io cluster --type=merge ' +
    '-p \'{"spec":{"serviceAccountIssuer":"<issuer>"}}\'`); the kube-apiserver operator rolls the change out ' +
    'and keeps trusting the previous issuer for a transition period.',
  'OpenShift signs tokens with its own bound service-account key: install the key-sync key as ' +
    '`next-bound-service-account-signing-key` in the openshift-kube-apiserver-operator namespace (see ' +
    'docs/control-plane.md), or the published JWKS will not hold the key that signs tokens.',
];

/** Plans the Authentication resource. Pure: text in, text out (an empty text starts a new one). */
export function planOpenshiftAuthentication(text: string, settings: ApiserverSettings): PlanResult {
  if (settings.mode === 'kms') {
    throw new IrsaError(
      'APISERVER_MODE_UNSUPPORTED',
      'kms mode is not available on OpenShift: the kube-apiserver operator owns the kube-apiserver flags and offers no external signer.',
      'Use --mode file, and install the key as described in docs/control-plane.md.',
    );
  }
  const single = parseSingleDocument(
    text,
    WHERE,
    {
      apiVersion: 'config.openshift.io/v1',
      kind: 'Authentication',
      metadata: { name: 'cluster' },
      spec: {},
    },
    'Keep the Authentication resource in its own file.',
  );
  const { doc } = single;
  const root = doc.contents;
  if (!isMap(root) || root.get('kind') !== 'Authentication') {
    throw new IrsaError(
      'APISERVER_CONFIG_INVALID',
      `${WHERE} file does not hold a kind: Authentication resource.`,
      'Pass --file with `oc get authentication.config.openshift.io cluster -o yaml` output, or leave --file out.',
    );
  }
  const spec = ensureMap(doc, root, 'spec', WHERE);
  const current = spec.get('serviceAccountIssuer');
  const changes: Change[] = [];
  if (current !== settings.issuer) {
    spec.set('serviceAccountIssuer', settings.issuer);
    changes.push({
      action: typeof current === 'string' && current !== '' ? 'set' : 'add',
      target: 'spec.serviceAccountIssuer',
      ...(typeof current === 'string' && current !== '' ? { before: [current] } : {}),
      after: [settings.issuer],
    });
  }
  return {
    text: renderSingleDocument(single, changes.length > 0),
    changes,
    notes: OPENSHIFT_NOTES,
  };
}
