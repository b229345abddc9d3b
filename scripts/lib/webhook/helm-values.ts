/**
 * Values for the community chart jkroepke/helm-charts `amazon-eks-pod-identity-webhook`. The chart
 * builds the image as `{{registry}}/{{repository}}:{{tag}}` (registry defaulting to
 * public.ecr.aws), has no digest field, injects `defaultAwsRegion` (us-east-1 by default) into every
 * mutated pod, and runs as root group with `runAsNonRoot: false` by default. The values here match
 * the project's own manifests instead: the image split into its parts, no region unless asked,
 * non-root 65534.
 */
import { stringify } from 'yaml';
import { IrsaError } from '#core/errors.ts';
import { DEFAULT_AUDIENCE } from '#core/token-claims.ts';
import { comment, type WebhookOptions } from './manifests.ts';

/** An image reference split the way the chart wants it. */
export interface ChartImage {
  registry: string;
  repository: string;
  tag: string;
}

/**
 * Splits `registry/repository:tag`. The first path part is a registry when it has a dot or a port
 * or is `localhost` (the Docker rule); otherwise the image is on Docker Hub. A digest is refused:
 * the chart cannot express one.
 */
export function splitImage(image: string): ChartImage {
  if (image.includes('@')) {
    throw new IrsaError(
      'FLAG_INVALID',
      `--image "${image}" is pinned by digest, and the Helm chart has no digest field (it renders registry/repository:tag).`,
      'Pass --image with a tag for --helm-values, or use the plain manifests (without --helm-values), which keep the digest.',
    );
  }
  const slash = image.indexOf('/');
  const first = slash < 0 ? '' : image.slice(0, slash);
  const hasRegistry = first !== '' && (first.includes('.') || first.includes(':') || first === 'localhost');
  const registry = hasRegistry ? first : 'docker.io';
  let rest = hasRegistry ? image.slice(slash + 1) : image;
  if (!hasRegistry && !rest.includes('/')) rest = `library/${rest}`;
  const colon = rest.lastIndexOf(':');
  // No tag means latest (what the plain manifests run); left out, the chart would use its appVersion.
  return colon > rest.lastIndexOf('/')
    ? { registry, repository: rest.slice(0, colon), tag: rest.slice(colon + 1) }
    : { registry, repository: rest, tag: 'latest' };
}

/** The values object. */
export function buildHelmValues(options: WebhookOptions): Record<string, unknown> {
  return {
    image: splitImage(options.image),
    replicaCount: 2,
    mutatingWebhook: { failurePolicy: 'Ignore' },
    config: {
      annotationPrefix: 'eks.amazonaws.com',
      tokenAudience: DEFAULT_AUDIENCE,
      // Empty, not absent: the chart's own default (us-east-1) would be injected into every pod.
      defaultAwsRegion: options.region ?? '',
    },
    securityContext: {
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      runAsUser: 65534,
      runAsGroup: 65534,
      allowPrivilegeEscalation: false,
    },
    pki: { certManager: { enabled: true } },
  };
}

/** Helm values YAML with the install command in a comment. */
export function renderHelmValues(options: WebhookOptions): string {
  const values = buildHelmValues(options);
  const header = [
    'Values for the community chart: https://github.com/jkroepke/helm-charts (amazon-eks-pod-identity-webhook).',
    'helm repo add jkroepke https://jkroepke.github.io/helm-charts/',
    `helm upgrade --install pod-identity-webhook jkroepke/amazon-eks-pod-identity-webhook --namespace ${options.namespace} --create-namespace -f values.yaml`,
    'The chart excludes its own pods with an objectSelector; failurePolicy is set to Ignore (see docs/webhook.md).',
  ];
  return `${comment(header)}\n${stringify(values, { lineWidth: 0 })}`;
}
