/**
 * Manifests for amazon-eks-pod-identity-webhook on a cluster that is not EKS: the webhook injects
 * the projected token (audience sts.amazonaws.com) and the AWS_* variables into pods whose service
 * account carries `eks.amazonaws.com/role-arn`. TLS comes from cert-manager (self-signed Issuer +
 * Certificate, CA injected into the webhook configuration by cainjector).
 *
 * Pure: builds plain objects and YAML text; the command prints them.
 */
import { stringify } from 'yaml';
import { IrsaError } from '#core/errors.ts';
import { isDns1123Label } from '#core/kube-names.ts';

/**
 * Pinned image. Upstream stopped pushing release tags to Docker Hub after v0.6.7 (aws/amazon-eks-pod-identity-webhook#273);
 * release images are on ECR Public. Override with `--image`.
 */
export const DEFAULT_WEBHOOK_IMAGE = 'public.ecr.aws/eks/amazon-eks-pod-identity-webhook:v0.6.17';

/** Name of every object we create, and of the MutatingWebhookConfiguration doctor looks for. */
export const WEBHOOK_NAME = 'pod-identity-webhook';

/** The port the webhook listens on inside the pod (unprivileged, so it runs as non-root). */
const WEBHOOK_PORT = 8443;
const METRICS_PORT = 9999;

/** Checked inputs for the manifests. */
export interface WebhookOptions {
  namespace: string;
  /** AWS region injected as AWS_REGION / AWS_DEFAULT_REGION; omitted when undefined. */
  region?: string;
  image: string;
}

const REGION = /^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/;
const IMAGE = /^[a-z0-9]([a-z0-9._\-/:]*[a-z0-9_])?(@sha256:[a-f0-9]{64})?$/i;

/**
 * Validates user input: namespace is a DNS-1123 label (max 63), region looks like `us-east-1`,
 * image is a plain reference without spaces. Throws `FLAG_INVALID` naming the flag.
 */
export function validateWebhookOptions(input: {
  namespace?: string;
  region?: string;
  image?: string;
}): WebhookOptions {
  const namespace = input.namespace ?? 'irsa-system';
  if (!isDns1123Label(namespace)) {
    throw new IrsaError(
      'FLAG_INVALID',
      `--namespace "${namespace}" is not a DNS-1123 label (lower-case letters, digits and "-", at most 63 characters).`,
      'Pass --namespace irsa-system or another valid namespace name.',
    );
  }
  if (input.region !== undefined && !REGION.test(input.region)) {
    throw new IrsaError(
      'FLAG_INVALID',
      `--region "${input.region}" is not an AWS region name.`,
      'Pass --region like us-east-1 or eu-west-2.',
    );
  }
  const image = input.image ?? DEFAULT_WEBHOOK_IMAGE;
  if (image.length > 512 || !IMAGE.test(image)) {
    throw new IrsaError(
      'FLAG_INVALID',
      `--image "${image}" is not a container image reference.`,
      `Pass --image registry/repository:tag, e.g. ${DEFAULT_WEBHOOK_IMAGE}.`,
    );
  }
  return input.region === undefined ? { namespace, image } : { namespace, region: input.region, image };
}

type K8sObject = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: Record<string, unknown>;
};

const LABELS = { 'app.kubernetes.io/name': WEBHOOK_NAME, 'app.kubernetes.io/part-of': 'irsa-anywhere' };

/** The webhook's container arguments. */
export function webhookArgs(options: WebhookOptions): string[] {
  return [
    '/webhook',
    '--in-cluster=false',
    `--namespace=${options.namespace}`,
    `--service-name=${WEBHOOK_NAME}`,
    '--annotation-prefix=eks.amazonaws.com',
    '--token-audience=sts.amazonaws.com',
    ...(options.region === undefined ? [] : [`--aws-default-region=${options.region}`]),
    `--port=${WEBHOOK_PORT}`,
    `--metrics-port=${METRICS_PORT}`,
    '--tls-cert=/etc/webhook/certs/tls.crt',
    '--tls-key=/etc/webhook/certs/tls.key',
    '--logtostderr',
  ];
}

/** Every object, in apply order (namespace first, webhook configuration last). */
export function buildWebhookManifests(options: WebhookOptions): K8sObject[] {
  const ns = options.namespace;
  const meta = (extra: Record<string, unknown> = {}) => ({
    name: WEBHOOK_NAME,
    namespace: ns,
    labels: LABELS,
    ...extra,
  });
  const secretName = `${WEBHOOK_NAME}-cert`;
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: LABELS } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta() },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: WEBHOOK_NAME, labels: LABELS },
      // The webhook keeps an informer cache of service accounts (their annotations). It needs no
      // CSR rights because cert-manager issues its certificate.
      rules: [{ apiGroups: [''], resources: ['serviceaccounts'], verbs: ['get', 'watch', 'list'] }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: WEBHOOK_NAME, labels: LABELS },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: WEBHOOK_NAME },
      subjects: [{ kind: 'ServiceAccount', name: WEBHOOK_NAME, namespace: ns }],
    },
    {
      apiVersion: 'cert-manager.io/v1',
      kind: 'Issuer',
      metadata: { name: `${WEBHOOK_NAME}-selfsigned`, namespace: ns, labels: LABELS },
      spec: { selfSigned: {} },
    },
    {
      apiVersion: 'cert-manager.io/v1',
      kind: 'Certificate',
      metadata: meta(),
      spec: {
        secretName,
        commonName: `${WEBHOOK_NAME}.${ns}.svc`,
        dnsNames: [
          WEBHOOK_NAME,
          `${WEBHOOK_NAME}.${ns}`,
          `${WEBHOOK_NAME}.${ns}.svc`,
          `${WEBHOOK_NAME}.${ns}.svc.cluster.local`,
        ],
        isCA: true,
        duration: '2160h',
        renewBefore: '360h',
        privateKey: { algorithm: 'ECDSA', size: 256, rotationPolicy: 'Always' },
        issuerRef: { name: `${WEBHOOK_NAME}-selfsigned`, kind: 'Issuer', group: 'cert-manager.io' },
      },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta(),
      spec: {
        replicas: 2,
        selector: { matchLabels: { 'app.kubernetes.io/name': WEBHOOK_NAME } },
        template: {
          metadata: { labels: LABELS },
          spec: {
            serviceAccountName: WEBHOOK_NAME,
            securityContext: {
              runAsNonRoot: true,
              runAsUser: 65534,
              runAsGroup: 65534,
              seccompProfile: { type: 'RuntimeDefault' },
            },
            containers: [
              {
                name: WEBHOOK_NAME,
                image: options.image,
                imagePullPolicy: 'IfNotPresent',
                command: webhookArgs(options),
                ports: [
                  { name: 'https', containerPort: WEBHOOK_PORT, protocol: 'TCP' },
                  { name: 'metrics', containerPort: METRICS_PORT, protocol: 'TCP' },
                ],
                readinessProbe: { httpGet: { path: '/healthz', port: 'metrics' } },
                livenessProbe: { httpGet: { path: '/healthz', port: 'metrics' } },
                securityContext: {
                  allowPrivilegeEscalation: false,
                  readOnlyRootFilesystem: true,
                  capabilities: { drop: ['ALL'] },
                },
                resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '128Mi' } },
                volumeMounts: [{ name: 'cert', mountPath: '/etc/webhook/certs', readOnly: true }],
              },
            ],
            volumes: [{ name: 'cert', secret: { secretName } }],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(),
      spec: {
        selector: { 'app.kubernetes.io/name': WEBHOOK_NAME },
        ports: [{ name: 'https', port: 443, targetPort: 'https', protocol: 'TCP' }],
      },
    },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata: {
        name: WEBHOOK_NAME,
        labels: LABELS,
        annotations: { 'cert-manager.io/inject-ca-from': `${ns}/${WEBHOOK_NAME}` },
      },
      webhooks: [
        {
          name: 'pod-identity-webhook.amazonaws.com',
          // Ignore: if the webhook is down, pods are still created (without AWS credentials) instead of
          // every pod creation in the cluster failing. See FAILURE_POLICY_NOTE.
          failurePolicy: 'Ignore',
          // Never send the webhook its own pods: with failurePolicy Fail this would deadlock a restart.
          objectSelector: {
            matchExpressions: [{ key: 'app.kubernetes.io/name', operator: 'NotIn', values: [WEBHOOK_NAME] }],
          },
          clientConfig: { service: { name: WEBHOOK_NAME, namespace: ns, port: 443, path: '/mutate' } },
          rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
          sideEffects: 'None',
          admissionReviewVersions: ['v1beta1'],
          timeoutSeconds: 10,
        },
      ],
    },
  ];
}

/** The comment printed above the manifests: what they need and why the webhook fails open. */
export const FAILURE_POLICY_NOTE = [
  'amazon-eks-pod-identity-webhook for irsa-anywhere. Requires cert-manager (https://cert-manager.io).',
  'Apply: irsa-anywhere webhook manifests | kubectl apply -f -',
  '',
  'failurePolicy: Ignore. When the webhook is unavailable, pods are still admitted but WITHOUT the',
  'token volume and AWS_* variables: such a pod fails its AWS calls (no credentials) until it is',
  're-created. The alternative, Fail, blocks every pod creation in the cluster while the webhook is',
  'down (node drains, upgrades, the webhook restarting itself). For a stricter setup switch to Fail',
  "and keep the objectSelector, which excludes the webhook's own pods so it can always come back.",
  'Two replicas reduce the window; `irsa-anywhere doctor --kubeconfig` checks the webhook is installed.',
];

/** YAML comment lines. */
export function comment(lines: readonly string[]): string {
  return lines.map((line) => (line === '' ? '#' : `# ${line}`)).join('\n');
}

/** Multi-document YAML for `kubectl apply -f -`. */
export function renderManifests(options: WebhookOptions): string {
  const docs = buildWebhookManifests(options).map((object) => stringify(object, { lineWidth: 0 }).trimEnd());
  return `${comment(FAILURE_POLICY_NOTE)}\n---\n${docs.join('\n---\n')}\n`;
}
