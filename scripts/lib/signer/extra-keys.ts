/**
 * Legacy verification keys (`--extra-public-key FILE`): the public keys a cluster signed with
 * before it moved to the external signer. FetchKeys returns them with
 * `exclude_from_oidc_discovery = true`, so kube-apiserver keeps accepting old tokens while never
 * signing with them or publishing them.
 */
import { createPublicKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { IrsaError } from '#core/errors.ts';
import { kidFromSpki } from '#core/kid.ts';

/** A verification-only key. */
export interface ExtraKey {
  kid: string;
  spki: Buffer;
  file: string;
}

const PEM_BLOCK = /-----BEGIN ([A-Z ]+)-----[\s\S]*?-----END \1-----/g;

/**
 * Parses the public keys in PEM text (several blocks allowed, as kube-apiserver's
 * `--service-account-key-file` allows). Private keys are refused: this flag never needs one.
 */
export function parseExtraKeys(pem: string, file: string): ExtraKey[] {
  const keys: ExtraKey[] = [];
  for (const match of pem.matchAll(PEM_BLOCK)) {
    const label = match[1] ?? '';
    if (label.includes('PRIVATE')) {
      throw new IrsaError(
        'CONFIG_EXTRA_KEY_PRIVATE',
        `${file} holds a private key; --extra-public-key takes public keys only.`,
        `Extract the public key (openssl pkey -in ${file} -pubout) and pass that file instead.`,
      );
    }
    if (label !== 'PUBLIC KEY' && label !== 'RSA PUBLIC KEY') continue;
    let spki: Buffer;
    try {
      spki = createPublicKey(match[0]).export({ format: 'der', type: 'spki' });
    } catch (cause) {
      throw new IrsaError(
        'CONFIG_EXTRA_KEY_INVALID',
        `${file} holds a PEM public key that does not parse.`,
        `Check ${file}: it must be a PEM "PUBLIC KEY" (for example the cluster's old sa.pub).`,
        { cause },
      );
    }
    keys.push({ kid: kidFromSpki(spki), spki, file });
  }
  if (keys.length === 0) {
    throw new IrsaError(
      'CONFIG_EXTRA_KEY_INVALID',
      `${file} holds no PEM public key.`,
      `Pass a PEM file with "-----BEGIN PUBLIC KEY-----" (for example the cluster's old sa.pub).`,
    );
  }
  return keys;
}

/** Reads every `--extra-public-key` file. Throws `CONFIG_EXTRA_KEY_*` naming the file. */
export async function loadExtraKeys(files: readonly string[]): Promise<ExtraKey[]> {
  const keys: ExtraKey[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (cause) {
      throw new IrsaError(
        'CONFIG_EXTRA_KEY_UNREADABLE',
        `Cannot read --extra-public-key ${file}.`,
        'Check the path and that the signer may read it.',
        { cause },
      );
    }
    for (const key of parseExtraKeys(text, file)) {
      if (!keys.some((k) => k.kid === key.kid)) keys.push(key);
    }
  }
  return keys;
}
