/**
 * `signer install` keeps old tokens verifying by default: the public keys kube-apiserver verifies
 * with today (`--service-account-key-file` in its static pod manifest, e.g. kubeadm's sa.pub) become
 * the signer's `--extra-public-key` files, because `apiserver configure --mode kms` must remove that
 * flag and from then on only the keys FetchKeys returns verify tokens.
 */
import { readFile } from 'node:fs/promises';
import { IrsaError, isIrsaError } from '#core/errors.ts';
import { listedKeyFiles } from '../apiserver/kubeadm.ts';
import { loadExtraKeys } from './extra-keys.ts';

/** The key files picked up, and where from (empty when there is nothing to pick up). */
export interface PickedKeys {
  manifest: string;
  files: string[];
}

function errno(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/**
 * Reads the kube-apiserver manifest and returns its `--service-account-key-file` values, checked the
 * way the signer will load them (public PEM keys only). A missing manifest is "nothing to pick up"
 * unless the caller named it (`explicit`). Throws a coded error naming the file and the opt-out.
 */
export async function pickUpApiserverKeys(manifest: string, explicit: boolean): Promise<PickedKeys> {
  let text: string;
  try {
    text = await readFile(manifest, 'utf8');
  } catch (error) {
    if (errno(error) === 'ENOENT' && !explicit) return { manifest, files: [] };
    throw new IrsaError(
      errno(error) === 'ENOENT' ? 'APISERVER_FILE_NOT_FOUND' : 'APISERVER_FILE_UNREADABLE',
      `Cannot read the kube-apiserver manifest ${manifest} (${errno(error) ?? 'error'}) to pick up its key files.`,
      'Run as root, pass --apiserver-manifest with the right file, or pass --no-extra-public-keys to leave the old keys out.',
      { cause: error },
    );
  }
  const files = listedKeyFiles(text);
  try {
    await loadExtraKeys(files);
  } catch (error) {
    if (!isIrsaError(error)) throw error;
    throw new IrsaError(
      error.code,
      `${error.message} (picked up from --service-account-key-file in ${manifest})`,
      `${error.fix} Then pass --no-extra-public-keys and --extra-public-key with the public key file.`,
      { cause: error },
    );
  }
  return { manifest, files };
}

/** Explicit `--extra-public-key` files first, then the picked-up ones not already there. */
export function mergeExtraKeyFiles(explicit: readonly string[], picked: readonly string[]): string[] {
  return [...new Set([...explicit, ...picked])];
}
