/**
 * One key-sync pass (file mode): read keyset.json, install the active private key and the
 * verification bundle in the key directory, then point kube-apiserver at them through the same
 * planner as `apiserver configure`. Keys are written before the manifest, so the manifest never
 * names a file that does not exist. Steady state (keys on disk already current): one S3 read, no
 * KMS call, no write. Key material is never logged: reports carry kids only.
 */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { DecryptCommand, type KMSClient } from '@aws-sdk/client-kms';
import type { S3Client } from '@aws-sdk/client-s3';
import { isAwsError } from '#adapters/aws/aws-errors.ts';
import { unwrapPrivateKey } from '#adapters/aws/kms-wrapped-keys.ts';
import { S3KeysetStore } from '#adapters/aws/s3-keyset-store.ts';
import { IrsaError } from '#core/errors.ts';
import type { KeyRecord } from '#core/keyset.ts';
import { kidFromSpki } from '#core/kid.ts';
import { activeKey } from '#core/planner.ts';
import { modeFor } from '../apiserver/configure.ts';
import { planApiserver } from '../apiserver/index.ts';
import { normalizeSettings } from '../apiserver/settings.ts';
import {
  type Change,
  DEFAULT_FILES,
  SIGNING_KEY_FILE,
  VERIFICATION_BUNDLE_FILE,
} from '../apiserver/types.ts';
import { changeFiles, DEFAULT_BACKUP_DIR, type PlannedFile, readConfig } from '../file-change.ts';
import type { StateLocation } from '../state-url.ts';
import { prepareKeyDir, removeStaleTemps } from './key-files.ts';
import { privateKeyPem, verificationBundle } from './pem.ts';

/** Annotations that change with the keys, so kubelet restarts kube-apiserver (kubeadm). */
export const KID_ANNOTATION = 'irsa-anywhere.io/signing-kid';
export const BUNDLE_ANNOTATION = 'irsa-anywhere.io/verification-sha256';

/** Distros key-sync can update on the node. */
export type SyncDistro = 'kubeadm' | 'k3s' | 'rke2';

/** Inputs of {@link syncOnce}; the S3 and KMS clients are built by the command. */
export interface SyncOptions {
  s3: S3Client;
  kms: KMSClient;
  state: StateLocation;
  cluster: string;
  keyDir: string;
  /** null: only install the keys, leave kube-apiserver's config alone. */
  manifest: { distro: SyncDistro; file?: string; audiences: string[]; backupDir: string } | null;
  now: () => Date;
  /** Plan only: decrypt nothing, write nothing, report what would change. */
  dryRun?: boolean;
}

/** What one pass did: kids and paths only, never key material. */
export interface SyncReport {
  kid: string;
  /** When the installed key became active (ISO time), for the key-age metric. */
  activatedAt?: string;
  issuer: string;
  verificationKids: string[];
  wroteSigningKey: boolean;
  wroteBundle: boolean;
  manifest: { file: string; changes: Change[]; backup?: string; notes: string[] } | null;
  /** Set on a dry run: the files a real pass would write (key material is never shown). */
  dryRun?: { wouldWrite: string[]; diff: string };
}

async function readOptional(path: string): Promise<string | null> {
  try {
    return await fs.readFile(path, 'utf8');
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return null;
    throw error;
  }
}

/** The kid of the private key in a PEM file, or null when it cannot be read. */
function kidOfPrivatePem(text: string | null): string | null {
  if (text === null) return null;
  try {
    const spki = createPublicKey(createPrivateKey(text)).export({ type: 'spki', format: 'der' });
    return kidFromSpki(spki);
  } catch {
    return null;
  }
}

/** True when KMS's answer names the wrapping key the record names (an ARN, a key id or an alias). */
export function sameKmsKey(expected: string, answered: string | undefined): boolean {
  if (answered === undefined) return false;
  if (expected.startsWith('arn:') && !expected.includes(':alias/')) return expected === answered;
  if (expected.startsWith('alias/') || expected.includes(':alias/')) return answered.includes(':key/');
  return answered.endsWith(`:key/${expected}`) || answered === expected;
}

/** A KMS client that checks every Decrypt answer came from the expected wrapping key. */
function checkingKms(kms: KMSClient, expected: string, kid: string): KMSClient {
  const send = async (command: unknown): Promise<unknown> => {
    const out = (await kms.send(command as DecryptCommand)) as { KeyId?: string };
    if (command instanceof DecryptCommand && !sameKmsKey(expected, out.KeyId)) {
      throw new IrsaError(
        'KEY_SYNC_WRONG_WRAPPING_KEY',
        `KMS decrypted the key for kid ${kid} with ${out.KeyId ?? 'an unnamed key'}, not the wrapping key ${expected} named in keyset.json.`,
        'Do not install it: check who wrote the wrapped key object and the keyset, then rotate with {"now": true}.',
      );
    }
    return out;
  };
  return { send } as unknown as KMSClient;
}

async function unwrap(options: SyncOptions, key: KeyRecord): Promise<Uint8Array> {
  const expected = key.location.type === 'wrapped' ? key.location.wrappingKeyId : '';
  try {
    return await unwrapPrivateKey(
      {
        kms: checkingKms(options.kms, expected, key.kid),
        s3: options.s3,
        bucket: options.state.bucket,
        cluster: options.cluster,
      },
      key,
    );
  } catch (error) {
    if (isAwsError(error, ['IncorrectKeyException'], [])) {
      throw new IrsaError(
        'KEY_SYNC_WRONG_WRAPPING_KEY',
        `The wrapped key for kid ${key.kid} was not encrypted with the wrapping key ${expected} named in keyset.json.`,
        'Do not install it: check who wrote the wrapped key object and the keyset, then rotate with {"now": true}.',
        { cause: error },
      );
    }
    if (isAwsError(error, ['InvalidCiphertextException'], [])) {
      throw new IrsaError(
        'KEY_SYNC_CONTEXT_MISMATCH',
        `KMS refused to decrypt the wrapped key for kid ${key.kid} with encryption context {cluster: "${options.cluster}", kid: "${key.kid}"}: it was not wrapped with that context (or not with this wrapping key).`,
        'Pass the --cluster name the stack was deployed with; if it is right, the wrapped key object was replaced: rotate with {"now": true} and investigate.',
        { cause: error },
      );
    }
    if (isAwsError(error, ['AccessDeniedException', 'AccessDenied'], [403])) {
      throw new IrsaError(
        'KEY_SYNC_ACCESS_DENIED',
        `Access denied reading or decrypting the wrapped key for kid ${key.kid}.`,
        "Attach the stack output NodePolicyArn to this node's role (it allows s3:GetObject on the state bucket and kms:Decrypt with this cluster's context).",
        { cause: error },
      );
    }
    throw error;
  }
}

/** Runs one pass. Throws `IrsaError` without touching kube-apiserver's config when anything is wrong. */
export async function syncOnce(options: SyncOptions): Promise<SyncReport> {
  const store = new S3KeysetStore({ s3: options.s3, bucket: options.state.bucket, key: options.state.key });
  const read = await store.read();
  const where = `s3://${options.state.bucket}/${options.state.key}`;
  if (read === null) {
    throw new IrsaError(
      'KEY_SYNC_NO_KEYSET',
      `${where} does not exist.`,
      'Deploy the stack (its bootstrap creates the first key), or pass the right --state.',
    );
  }
  const { keyset } = read;
  if (keyset.cluster !== options.cluster) {
    throw new IrsaError(
      'KEY_SYNC_CLUSTER_MISMATCH',
      `${where} belongs to cluster "${keyset.cluster}", not "${options.cluster}".`,
      'Pass --cluster with the name the stack was deployed with, or the state of this cluster.',
    );
  }
  const active = activeKey(keyset);
  if (active === undefined) {
    throw new IrsaError(
      'KEY_SYNC_NO_ACTIVE_KEY',
      `${where} has no active key, so there is nothing to sign with.`,
      'Run the rotate function (irsa-anywhere rotate) so it creates and activates a key, then run key-sync again.',
    );
  }
  if (active.location.type !== 'wrapped') {
    throw new IrsaError(
      'KEY_SYNC_NOT_FILE_MODE',
      `The active key ${active.kid} is a ${active.location.type} key; key-sync installs only wrapped (file mode) keys.`,
      'Use kms mode (irsa-anywhere signer) for this stack, or deploy the stack with KeyMode=file.',
    );
  }
  // Settings are validated before anything is written.
  const settings = normalizeSettings({
    issuer: keyset.issuer,
    mode: 'file',
    keyDir: options.keyDir,
    audiences: options.manifest?.audiences ?? [],
  });
  const bundle = verificationBundle(keyset);
  const signingPath = `${settings.keyDir}/${SIGNING_KEY_FILE}`;
  const bundlePath = `${settings.keyDir}/${VERIFICATION_BUNDLE_FILE}`;

  // Unwrap (the step most likely to fail) before writing anything, so a failure leaves the disk as it
  // was. A dry run decrypts nothing: it only needs to know that the key file would change.
  const dryRun = options.dryRun === true;
  // An existing key directory is checked (a real directory of ours, 0700) and cleared of the temp
  // files a killed run left, before its key is read. A dry run changes nothing, not even that.
  const keyDirExists = await fs.lstat(settings.keyDir).then(
    () => true,
    () => false,
  );
  if (keyDirExists && !dryRun) {
    await prepareKeyDir(settings.keyDir);
    await removeStaleTemps(settings.keyDir, [SIGNING_KEY_FILE, VERIFICATION_BUNDLE_FILE]);
  }
  const needsKey = kidOfPrivatePem(await readOptional(signingPath)) !== active.kid;
  const pkcs8 = needsKey && !dryRun ? await unwrap(options, active) : null;
  // Explicit mode and owner (this process's user and group, not a setgid directory's group), in a
  // 0700 directory.
  const keyDirWrite = {
    dirMode: 0o700,
    owner: { uid: process.geteuid?.() ?? 0, gid: process.getegid?.() ?? 0 },
  };
  // The bundle first: it already holds the new key when kube-apiserver restarts with it. Key files
  // are not backed up: the state bucket is their source, and old private keys must not linger.
  const files: PlannedFile[] = [
    { path: bundlePath, content: bundle.pem, write: { mode: 0o644, ...keyDirWrite }, backup: false },
  ];
  const now = options.now();
  const backupDir = options.manifest?.backupDir ?? DEFAULT_BACKUP_DIR;
  let results: Awaited<ReturnType<typeof changeFiles>>;
  try {
    if (!dryRun) await prepareKeyDir(settings.keyDir);
    if (pkcs8 !== null) {
      files.push({
        path: signingPath,
        content: privateKeyPem(pkcs8),
        write: { mode: 0o600, ...keyDirWrite },
        secret: true,
        backup: false,
      });
    }
    results = await changeFiles(files, { dryRun, backupDir, now });
  } finally {
    pkcs8?.fill(0);
  }
  const wouldWrite = results.filter((r) => r.changed).map((r) => r.path);
  if (dryRun && needsKey) wouldWrite.push(signingPath);

  const report: SyncReport = {
    kid: active.kid,
    ...(active.activatedAt === undefined ? {} : { activatedAt: active.activatedAt }),
    issuer: keyset.issuer,
    verificationKids: bundle.kids,
    wroteSigningKey: results.some((r) => r.path === signingPath && r.written),
    wroteBundle: results.some((r) => r.path === bundlePath && r.written),
    manifest: null,
  };
  const diffs = results.map((r) => r.diff).filter((d) => d !== '');
  if (options.manifest !== null) {
    const { distro } = options.manifest;
    const file = options.manifest.file ?? DEFAULT_FILES[distro] ?? '';
    const current = await readConfig(file, distro !== 'kubeadm');
    const planned = planApiserver(distro, current ?? '', {
      ...settings,
      ...(distro === 'kubeadm'
        ? { podAnnotations: { [KID_ANNOTATION]: active.kid, [BUNDLE_ANNOTATION]: bundle.digest } }
        : {}),
    });
    report.manifest = { file, changes: planned.changes, notes: planned.notes };
    if (planned.text !== (current ?? '')) {
      const [written] = await changeFiles(
        [{ path: file, content: planned.text, write: { mode: modeFor(distro) } }],
        { dryRun, backupDir: options.manifest.backupDir, now },
      );
      if (written?.backup !== undefined) report.manifest.backup = written.backup;
      if (written?.changed === true) {
        wouldWrite.push(file);
        diffs.push(written.diff);
      }
    }
  }
  if (dryRun) report.dryRun = { wouldWrite, diff: diffs.join('') };
  return report;
}
