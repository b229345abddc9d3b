import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { isIrsaError } from '#core/errors.ts';
import { renderHelmValues } from '#scripts/lib/webhook/helm-values.ts';
import {
  DEFAULT_WEBHOOK_IMAGE,
  renderManifests,
  validateWebhookOptions,
} from '#scripts/lib/webhook/manifests.ts';

type Obj = Record<string, unknown>;
const at = (value: unknown, ...path: Array<string | number>): unknown =>
  path.reduce<unknown>((node, key) => (node as Obj | unknown[] | undefined)?.[key as never], value);

function docs(text: string): Obj[] {
  const parsed = parseAllDocuments(text);
  for (const doc of parsed) expect(doc.errors).toEqual([]);
  return parsed.map((doc) => doc.toJS() as Obj).filter((doc) => doc !== null);
}

describe('webhook manifests', () => {
  const options = validateWebhookOptions({ namespace: 'irsa-system', region: 'eu-west-2' });
  const objects = docs(renderManifests(options));
  const byKind = (kind: string): Obj => {
    const found = objects.find((o) => o.kind === kind);
    if (found === undefined) throw new Error(`no ${kind}`);
    return found;
  };

  it('prints every object kubectl needs, in apply order', () => {
    expect(objects.map((o) => o.kind)).toEqual([
      'Namespace',
      'ServiceAccount',
      'ClusterRole',
      'ClusterRoleBinding',
      'Issuer',
      'Certificate',
      'Deployment',
      'Service',
      'MutatingWebhookConfiguration',
    ]);
    for (const o of objects.filter(
      (x) =>
        !['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'MutatingWebhookConfiguration'].includes(
          x.kind as string,
        ),
    )) {
      expect(at(o, 'metadata', 'namespace')).toBe('irsa-system');
    }
  });

  it('runs the pinned image with the IRSA flags and the cert-manager certificate', () => {
    const deployment = byKind('Deployment');
    const container = at(deployment, 'spec', 'template', 'spec', 'containers', 0) as Obj;
    expect(container.image).toBe(DEFAULT_WEBHOOK_IMAGE);
    expect(container.command).toEqual(
      expect.arrayContaining([
        '--in-cluster=false',
        '--namespace=irsa-system',
        '--service-name=pod-identity-webhook',
        '--annotation-prefix=eks.amazonaws.com',
        '--token-audience=sts.amazonaws.com',
        '--aws-default-region=eu-west-2',
        '--tls-cert=/etc/webhook/certs/tls.crt',
        '--tls-key=/etc/webhook/certs/tls.key',
        '--logtostderr',
      ]),
    );
    expect(at(deployment, 'spec', 'template', 'spec', 'volumes', 0, 'secret', 'secretName')).toBe(
      at(byKind('Certificate'), 'spec', 'secretName'),
    );
    expect(at(byKind('Certificate'), 'spec', 'dnsNames')).toContain('pod-identity-webhook.irsa-system.svc');
    expect(at(byKind('Issuer'), 'spec', 'selfSigned')).toEqual({});
    expect(at(byKind('Service'), 'spec', 'ports', 0, 'port')).toBe(443);
  });

  it('grants only the service-account reads the webhook needs', () => {
    expect(at(byKind('ClusterRole'), 'rules')).toEqual([
      { apiGroups: [''], resources: ['serviceaccounts'], verbs: ['get', 'watch', 'list'] },
    ]);
    expect(at(byKind('ClusterRoleBinding'), 'subjects', 0)).toEqual({
      kind: 'ServiceAccount',
      name: 'pod-identity-webhook',
      namespace: 'irsa-system',
    });
  });

  it('fails open and never sends the webhook its own pods', () => {
    const config = byKind('MutatingWebhookConfiguration');
    expect(at(config, 'metadata', 'annotations', 'cert-manager.io/inject-ca-from')).toBe(
      'irsa-system/pod-identity-webhook',
    );
    const hook = at(config, 'webhooks', 0) as Obj;
    expect(hook.failurePolicy).toBe('Ignore');
    expect(at(hook, 'objectSelector', 'matchExpressions', 0)).toEqual({
      key: 'app.kubernetes.io/name',
      operator: 'NotIn',
      values: ['pod-identity-webhook'],
    });
    const podLabels = at(byKind('Deployment'), 'spec', 'template', 'metadata', 'labels') as Obj;
    expect(podLabels['app.kubernetes.io/name']).toBe('pod-identity-webhook');
    expect(at(hook, 'clientConfig', 'service', 'path')).toBe('/mutate');
    expect(renderManifests(options)).toContain('# failurePolicy: Ignore');
  });

  it('omits the region flag when no region is given', () => {
    const plain = docs(renderManifests(validateWebhookOptions({})));
    const deployment = plain.find((o) => o.kind === 'Deployment');
    const command = at(deployment, 'spec', 'template', 'spec', 'containers', 0, 'command') as string[];
    expect(command.some((arg) => arg.startsWith('--aws-default-region'))).toBe(false);
    expect(command).toContain('--namespace=irsa-system');
  });

  it('prints Helm values for the community chart', () => {
    const values = parse(
      renderHelmValues(validateWebhookOptions({ region: 'us-east-1', image: 'example.com/w:v1' })),
    ) as Obj;
    expect(at(values, 'image')).toEqual({ registry: 'example.com', repository: 'w', tag: 'v1' });
    expect(at(values, 'config', 'defaultAwsRegion')).toBe('us-east-1');
    expect(at(values, 'mutatingWebhook', 'failurePolicy')).toBe('Ignore');
    expect(at(values, 'pki', 'certManager', 'enabled')).toBe(true);
  });

  it.each([
    [{ namespace: 'Irsa_System' }, '--namespace'],
    [{ namespace: 'a'.repeat(64) }, '--namespace'],
    [{ namespace: '-x' }, '--namespace'],
    [{ region: 'mars-1' }, '--region'],
    [{ region: 'us-east-1; rm' }, '--region'],
    [{ image: 'bad image' }, '--image'],
  ])('rejects %o naming %s', (input, flag) => {
    try {
      validateWebhookOptions(input);
      expect.unreachable();
    } catch (error) {
      expect(isIrsaError(error, 'FLAG_INVALID')).toBe(true);
      expect((error as Error).message).toContain(flag);
    }
  });

  it('accepts GovCloud and custom namespaces', () => {
    expect(validateWebhookOptions({ namespace: 'team-a', region: 'us-gov-west-1' })).toEqual({
      namespace: 'team-a',
      region: 'us-gov-west-1',
      image: DEFAULT_WEBHOOK_IMAGE,
    });
  });
});
