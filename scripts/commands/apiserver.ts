/**
 * `irsa-anywhere apiserver configure|rollback`: points kube-apiserver at the issuer and the signer
 * (kms mode) or the key files key-sync keeps (file mode). The planning is pure
 * (`scripts/lib/apiserver/`); this file only wires flags.
 */
import type { Command } from 'commander';
import { normalizeSettings } from '../lib/apiserver/settings.ts';
import { DEFAULT_KEY_DIR, DEFAULT_SIGNER_SOCKET, DISTROS } from '../lib/apiserver/types.ts';
import { backupDirOption, dryRunOption, jsonOption } from '../lib/cli-options.ts';
import { type Io, type Register, runCommand } from '../lib/cli-support.ts';

// The manifest editors (YAML, diff) are loaded by the actions, not when the command is registered:
// `irsa-anywhere --help` registers every command (see COMMANDS in cli.ts).
const editors = async () => {
  const [configure, index] = await Promise.all([
    import('../lib/apiserver/configure.ts'),
    import('../lib/apiserver/index.ts'),
  ]);
  return { ...configure, parseDistro: index.parseDistro };
};

interface ConfigureFlags {
  distro: string;
  issuer: string;
  mode: string;
  file?: string;
  signerSocket: string;
  keyDir: string;
  audiences?: string;
  kubernetesVersion?: string;
  allowReplace?: boolean;
  backupDir: string;
  dryRun?: boolean;
  json?: boolean;
  skipPreflight?: boolean;
  allowDroppingOldTokens?: boolean;
}

interface RollbackFlags {
  distro: string;
  file?: string;
  backupDir: string;
  dryRun?: boolean;
  json?: boolean;
}

/** Adds `apiserver configure` and `apiserver rollback` to the program. */
export const register: Register = (program: Command, io: Io, setExit) => {
  const apiserver = program
    .command('apiserver')
    .description('Configure kube-apiserver for the issuer and the signer or key files.');
  apiserver
    .command('configure')
    .description('Set the service-account flags (issuer, JWKS URI, audiences, signer or key files).')
    .requiredOption('--distro <distro>', `one of ${DISTROS.join(', ')}`)
    .requiredOption('--issuer <url>', 'issuer URL (https, no trailing slash)')
    .option('--mode <mode>', 'kms (external signer socket) or file (key-sync key files)', 'kms')
    .option('--file <path>', 'config file to edit (default: the distro default; talos/kind/openshift print)')
    .option('--signer-socket <path>', 'signer Unix socket (kms mode)', DEFAULT_SIGNER_SOCKET)
    .option('--key-dir <dir>', 'directory of signing.key and verification.pem (file mode)', DEFAULT_KEY_DIR)
    .option('--audiences <list>', 'extra audiences for --api-audiences (sts.amazonaws.com is always added)')
    .option('--kubernetes-version <v>', 'Kubernetes version, where the config does not say')
    .option(
      '--allow-replace',
      'where the format holds one value per flag (kubeadm v1beta3, Talos), replace the old issuer and key ' +
        'file instead of failing (tokens for the old ones stop verifying)',
    )
    .addOption(backupDirOption('where backups are kept'))
    .addOption(dryRunOption('print the diff and change nothing'))
    .addOption(jsonOption('print the result as JSON'))
    .option('--skip-preflight', 'do not check that the signer socket or key files exist')
    .option(
      '--allow-dropping-old-tokens',
      'kms mode: remove --service-account-key-file without checking that the running signer serves those ' +
        'keys (signer --extra-public-key); tokens they signed stop verifying',
    )
    .action(async (flags: ConfigureFlags) => {
      setExit(
        await runCommand(
          io,
          async () => {
            const { parseDistro, runConfigure } = await editors();
            const distro = parseDistro(flags.distro);
            const settings = normalizeSettings({
              issuer: flags.issuer,
              mode: flags.mode,
              signerSocket: flags.signerSocket,
              keyDir: flags.keyDir,
              audiences: flags.audiences?.split(',') ?? [],
              ...(flags.kubernetesVersion !== undefined
                ? { kubernetesVersion: flags.kubernetesVersion }
                : {}),
              allowReplace: flags.allowReplace === true,
              // The kind + local flow: a kind config, then the copied kubeadm manifest of that node.
              allowLoopbackHttp: distro === 'kind' || (distro === 'kubeadm' && flags.file !== undefined),
            });
            await runConfigure(io, {
              distro,
              settings,
              ...(flags.file !== undefined ? { file: flags.file } : {}),
              backupDir: flags.backupDir,
              dryRun: flags.dryRun === true,
              json: flags.json === true,
              skipPreflight: flags.skipPreflight === true,
              allowDroppingOldTokens: flags.allowDroppingOldTokens === true,
              now: () => new Date(),
            });
          },
          { json: flags.json },
        ),
      );
    });
  apiserver
    .command('rollback')
    .description('Restore the config file from the newest backup configure made.')
    .option('--distro <distro>', 'whose default file to restore', 'kubeadm')
    .option('--file <path>', 'file to restore')
    .addOption(backupDirOption('where backups are kept'))
    .addOption(dryRunOption('print the diff the restore would make and change nothing'))
    .addOption(jsonOption('print the result as JSON'))
    .action(async (flags: RollbackFlags) => {
      setExit(
        await runCommand(
          io,
          async () => {
            const { parseDistro, runRollback } = await editors();
            await runRollback(io, {
              distro: parseDistro(flags.distro),
              ...(flags.file !== undefined ? { file: flags.file } : {}),
              backupDir: flags.backupDir,
              json: flags.json === true,
              dryRun: flags.dryRun === true,
              now: () => new Date(),
            });
          },
          { json: flags.json },
        ),
      );
    });
};
