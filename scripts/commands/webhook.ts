/**
 * `irsa-anywhere webhook manifests`: prints the amazon-eks-pod-identity-webhook manifests (or Helm
 * values) for `kubectl apply -f -`.
 */
import type { Command } from 'commander';
import { regionOption } from '../lib/cli-options.ts';
import { type Io, type Register, runCommand } from '../lib/cli-support.ts';

interface ManifestFlags {
  namespace: string;
  region?: string;
  image?: string;
  helmValues?: boolean;
}

/** Adds `webhook manifests` to the program. */
export const register: Register = (program: Command, io: Io, setExit) => {
  const webhook = program
    .command('webhook')
    .description('Install amazon-eks-pod-identity-webhook (needs cert-manager).');
  webhook
    .command('manifests')
    .description('Print the webhook manifests as YAML for `kubectl apply -f -`.')
    .option('--namespace <ns>', 'namespace for the webhook', 'irsa-system')
    .addOption(regionOption('AWS region injected into pods as AWS_REGION / AWS_DEFAULT_REGION'))
    .option('--image <image>', 'webhook image (pinned by default)')
    .option('--helm-values', 'print values for the community Helm chart instead')
    .action(async (flags: ManifestFlags) => {
      setExit(
        await runCommand(io, async () => {
          // Loaded here, not at registration: YAML is not needed for `--help`.
          const { renderManifests, validateWebhookOptions } = await import('../lib/webhook/manifests.ts');
          const { renderHelmValues } = await import('../lib/webhook/helm-values.ts');
          const options = validateWebhookOptions(flags);
          io.out(flags.helmValues === true ? renderHelmValues(options) : renderManifests(options));
        }),
      );
    });
};
