/**
 * The old verification keys a move to kms mode would drop. kube-apiserver verifies tokens with the
 * keys in `--service-account-key-file`; the signing endpoint cannot be combined with that flag, so
 * kms mode removes it, and from then on only the keys the signer's FetchKeys returns verify. Before
 * removing it, `apiserver configure` asks the running signer whether it serves each of those keys
 * (`signer --extra-public-key <file>`), and refuses otherwise.
 */
import { createPublicKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { IrsaError } from '#core/errors.ts';
import { kidFromSpki } from '#core/kid.ts';
import type { FetchedKeys } from '../signer/client.ts';
import { FLAG } from './flags.ts';
import type { Change } from './types.ts';

/** One public key of a key file, by the kid kube-apiserver gives it. */
export interface OldKey {
  file: string;
  kid: string;
}

/** The `--service-account-key-file` values a plan removes (their tokens depend on them). */
export function droppedKeyFiles(changes: readonly Change[]): string[] {
  const change = changes.find((c) => c.target === `--${FLAG.keyFile}` && c.action === 'remove');
  return [...(change?.before ?? [])];
}

// kube-apiserver reads public keys, private keys (it derives the public one) and certificates.
const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

function unreadable(file: string, problem: string, cause?: unknown): IrsaError {
  return new IrsaError(
    'APISERVER_OLD_KEY_UNREADABLE',
    `Cannot check ${file}, a --${FLAG.keyFile} that kms mode removes: ${problem}.`,
    `Run as a user that can read it (usually root), or pass --allow-dropping-old-tokens to drop it unchecked (tokens it verifies stop working).`,
    cause === undefined ? undefined : { cause },
  );
}

/**
 * The kids of every key in a PEM key file, computed the way kube-apiserver does (SHA-256 of the DER
 * SubjectPublicKeyInfo). Private keys are only used to derive their public key; nothing of them is
 * kept or printed.
 */
export async function oldKeysOf(file: string): Promise<OldKey[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw unreadable(file, (cause as NodeJS.ErrnoException).code ?? 'read failed', cause);
  }
  const kids = new Set<string>();
  for (const match of text.matchAll(PEM_BLOCK)) {
    try {
      const spki = createPublicKey(match[0]).export({ format: 'der', type: 'spki' });
      kids.add(kidFromSpki(spki));
    } catch {
      // kube-apiserver skips blocks it cannot use as well; a file with none is refused below.
    }
  }
  if (kids.size === 0) throw unreadable(file, 'it holds no PEM key');
  return [...kids].map((kid) => ({ file, kid }));
}

/** Splits the old keys into those the signer serves (same kid, same key bytes) and the rest. */
export function servedByFetchKeys(
  old: readonly OldKey[],
  fetched: FetchedKeys,
): { served: OldKey[]; missing: OldKey[] } {
  const kids = new Set(
    fetched.keys
      .filter((key) => key.key.length > 0 && kidFromSpki(key.key) === key.key_id)
      .map((key) => key.key_id),
  );
  return {
    served: old.filter((key) => kids.has(key.kid)),
    missing: old.filter((key) => !kids.has(key.kid)),
  };
}

/** The `--extra-public-key` flags that make a signer serve these files. */
export function extraKeyFlags(files: readonly string[]): string {
  return [...new Set(files)].map((file) => `--extra-public-key ${file}`).join(' ');
}

/** Refusal: the signer does not serve keys that verify live tokens. */
function oldKeysNotServed(socket: string, missing: readonly OldKey[]): IrsaError {
  const files = [...new Set(missing.map((key) => key.file))];
  const flags = extraKeyFlags(files);
  return new IrsaError(
    'APISERVER_OLD_KEYS_NOT_SERVED',
    `kms mode removes --${FLAG.keyFile} ${files.join(', ')}, but the signer at ${socket} does not serve ` +
      `${missing.length === 1 ? 'its key' : 'their keys'} (kid ${missing.map((k) => k.kid).join(', ')}): ` +
      `every token signed with ${missing.length === 1 ? 'it' : 'them'} would stop verifying.`,
    `Run the signer with ${flags} (\`irsa-anywhere signer install --distro kubeadm ... ${flags} --write\`, ` +
      `then restart it, or add it to \`signer serve\`) and run again; or pass --allow-dropping-old-tokens to drop them anyway.`,
    { detail: { socket, missing: missing.map((k) => ({ ...k })) } },
  );
}

/** Refusal: the signer could not be asked. */
function signerNotAnswering(socket: string, files: readonly string[], reason: string): IrsaError {
  return new IrsaError(
    'APISERVER_SIGNER_NOT_RUNNING',
    `The signer at ${socket} did not answer FetchKeys (${reason}), so it cannot be checked to serve the ` +
      `keys kms mode removes (${files.join(', ')}).`,
    `Start \`irsa-anywhere signer serve ... ${extraKeyFlags(files)}\` on this node first and run again, ` +
      'or pass --allow-dropping-old-tokens to drop them unchecked.',
  );
}

/** What the check found, for `apiserver configure`'s report. */
export interface OldKeysReport {
  notes: string[];
  warnings: string[];
}

/**
 * Asks the running signer (FetchKeys over `socket`) whether it serves every key in `files`, and
 * refuses otherwise. With `allowDropping` it asks nothing and returns a warning instead.
 */
export async function checkOldKeysServed(input: {
  socket: string;
  files: readonly string[];
  allowDropping: boolean;
}): Promise<OldKeysReport> {
  const { socket, files } = input;
  const report: OldKeysReport = { notes: [], warnings: [] };
  if (files.length === 0) return report;
  if (input.allowDropping) {
    report.warnings.push(
      `--allow-dropping-old-tokens: tokens signed by ${files.join(', ')} stop verifying once kube-apiserver ` +
        'restarts (the signer was not asked whether it serves them).',
    );
    return report;
  }
  const old = (await Promise.all(files.map(oldKeysOf))).flat();
  // gRPC is loaded only when there is something to ask.
  const { connectSigner } = await import('../signer/client.ts');
  const client = connectSigner(socket, 'v1', 5_000);
  let fetched: FetchedKeys;
  try {
    fetched = await client.fetchKeys();
  } catch (error) {
    const reason = (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? 'no answer';
    throw signerNotAnswering(socket, files, reason);
  } finally {
    client.close();
  }
  const { served, missing } = servedByFetchKeys(old, fetched);
  if (missing.length > 0) throw oldKeysNotServed(socket, missing);
  for (const key of served) {
    report.notes.push(
      `the signer at ${socket} serves the key of ${key.file} (kid ${key.kid}): tokens it signed keep verifying.`,
    );
  }
  return report;
}
