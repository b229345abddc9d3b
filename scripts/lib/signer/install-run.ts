/**
 * `signer install` once its serve flags are parsed: check the install flags, pick up the key files
 * kube-apiserver verifies with today, render the unit (or static pod), then print or write it.
 */
import { IrsaError } from '#core/errors.ts';
import { DEFAULT_FILES } from '../apiserver/types.ts';
import type { Io } from '../cli-support.ts';
import { renderStaticPod, renderSystemdUnit, type ServeFlags, writeInstallFile } from './install.ts';
import { mergeExtraKeyFiles, pickUpApiserverKeys } from './install-keys.ts';
import { checkUnitPath, enableHint } from './install-unit.ts';
import { STATIC_POD_PATH, SYSTEMD_UNIT_PATH } from './paths.ts';

/** The kubeadm kube-apiserver static pod, whose key files `signer install` picks up. */
export const APISERVER_MANIFEST = DEFAULT_FILES.kubeadm as string;

/** The install-only flags of `signer install`. */
export interface InstallFlags {
  /** `--write [path]`: true for the default path. */
  write?: string | boolean;
  staticPod?: boolean;
  image?: string;
  bin: string;
  user: string;
  dryRun?: boolean;
  backupDir: string;
  /** false with `--no-extra-public-keys`. */
  extraPublicKeys: boolean;
  apiserverManifest?: string;
}

/** Where `--write` puts the file, checked; undefined when the file is printed. */
function targetPath(options: InstallFlags): string | undefined {
  if (options.write === undefined || options.write === false) return undefined;
  if (options.staticPod) return typeof options.write === 'string' ? options.write : STATIC_POD_PATH;
  return checkUnitPath(typeof options.write === 'string' ? options.write : SYSTEMD_UNIT_PATH);
}

function checkFlags(options: InstallFlags): void {
  if (options.staticPod && options.image === undefined) {
    throw new IrsaError(
      'FLAG_MISSING',
      '--static-pod needs --image <image with irsa-anywhere>.',
      'Pass --image, e.g. --image registry.example.com/irsa-anywhere:0.1.0.',
    );
  }
  // systemd refuses a unit whose ExecStart is not an absolute path.
  if (!options.staticPod && !options.bin.startsWith('/')) {
    throw new IrsaError(
      'FLAG_INVALID',
      `--bin ${options.bin} is not an absolute path; systemd refuses a relative ExecStart.`,
      'Pass --bin with an absolute path, e.g. --bin /usr/local/bin/irsa-anywhere.',
    );
  }
}

/** Runs `signer install` with parsed serve flags. Every check runs before anything is printed. */
export async function runInstall(io: Io, serve: ServeFlags, options: InstallFlags): Promise<void> {
  checkFlags(options);
  const path = targetPath(options);
  // The key files kube-apiserver verifies with today must keep verifying once kms mode removes them.
  const picked =
    options.extraPublicKeys === false
      ? { manifest: '', files: [] }
      : await pickUpApiserverKeys(
          options.apiserverManifest ?? APISERVER_MANIFEST,
          options.apiserverManifest !== undefined,
        );
  const flags = { ...serve, extraPublicKeys: mergeExtraKeyFiles(serve.extraPublicKeys, picked.files) };
  const content = options.staticPod
    ? renderStaticPod(flags, { image: options.image as string })
    : renderSystemdUnit(flags, { bin: options.bin, user: options.user });
  if (picked.files.length > 0) {
    // stdout holds the unit when it is printed: the note goes to stderr then.
    (path === undefined ? io.err : io.out)(
      `note: added --extra-public-key ${picked.files.join(' --extra-public-key ')} from the ` +
        `--service-account-key-file flags of ${picked.manifest}, so tokens the old keys signed keep verifying ` +
        'after `apiserver configure --mode kms` (--no-extra-public-keys leaves them out).',
    );
  }
  if (path === undefined) {
    io.out(content);
    return;
  }
  const result = await writeInstallFile(path, content, {
    dryRun: options.dryRun === true,
    backupDir: options.backupDir,
  });
  if (!result.changed) {
    io.out(`${path}: unchanged`);
    return;
  }
  if (options.dryRun) {
    io.out(result.diff);
    io.out(`${path}: would change (dry run, nothing written)`);
    return;
  }
  io.out(
    `${path}: written${result.backup === undefined ? '' : ` (previous version kept in ${result.backup})`}`,
  );
  if (!options.staticPod) io.out(`next: ${enableHint(path)}`);
}
