/**
 * Issue 14 item 9: Helm values for jkroepke/amazon-eks-pod-identity-webhook. The chart renders
 * `{{image.registry}}/{{image.repository}}:{{image.tag}}` (registry default public.ecr.aws), so the
 * test renders the image the way the chart does and compares it with what the user asked for.
 */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runCli } from '../../support/run-cli.ts';

interface Values {
  image: { registry?: string; repository: string; tag?: string };
  config: { defaultAwsRegion?: string };
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; runAsGroup?: number };
}

/** What the chart's template makes of the values (chart default registry: public.ecr.aws). */
function chartImage(values: Values): string {
  return `${values.image.registry ?? 'public.ecr.aws'}/${values.image.repository}:${values.image.tag ?? 'appVersion'}`;
}

async function helmValues(...args: string[]): Promise<Values> {
  const result = await runCli('webhook', 'manifests', '--helm-values', ...args);
  expect(result.code, result.stderr).toBe(0);
  return parse(result.stdout) as Values;
}

describe('9. Helm values for the community chart', () => {
  it.each([
    [[], 'public.ecr.aws/eks/amazon-eks-pod-identity-webhook:v0.6.17'],
    [['--image', 'registry.example:5000/team/x:v1'], 'registry.example:5000/team/x:v1'],
    [
      ['--image', 'amazon/amazon-eks-pod-identity-webhook:v0.5.0'],
      'docker.io/amazon/amazon-eks-pod-identity-webhook:v0.5.0',
    ],
    // No tag means latest, as in the plain manifests; the chart would put its appVersion there.
    [['--image', 'registry.example:5000/team/x'], 'registry.example:5000/team/x:latest'],
  ])('the chart renders the image asked for (%j)', async (args, image) => {
    expect(chartImage(await helmValues(...args))).toBe(image);
  });

  it('a digest is refused: the chart has no digest field', async () => {
    const result = await runCli(
      'webhook',
      'manifests',
      '--helm-values',
      '--image',
      `public.ecr.aws/eks/x@sha256:${'a'.repeat(64)}`,
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error FLAG_INVALID: .*digest.* — .+/);
  });

  it('no --region: an empty default region, so the chart injects no us-east-1', async () => {
    expect((await helmValues()).config.defaultAwsRegion).toBe('');
    expect((await helmValues('--region', 'eu-west-1')).config.defaultAwsRegion).toBe('eu-west-1');
  });

  it('non-root 65534, as the project manifests', async () => {
    expect((await helmValues()).securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 65534,
      runAsGroup: 65534,
    });
  });
});
