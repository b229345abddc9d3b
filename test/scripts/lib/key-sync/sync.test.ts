/**
 * key-sync against mocked S3 and KMS: the active key is unwrapped with the {cluster, kid}
 * encryption context, signing.key (0600, PKCS#8 PEM) and verification.pem are written before the
 * kubeadm manifest, the manifest changes only when the keys change, and every bad input leaves the
 * files untouched.
 */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DecryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { isIrsaError } from '#core/errors.ts';
import type { Keyset } from '#core/keyset.ts';
import { serializeKeyset } from '#core/keyset-parse.ts';
import { kidFromSpki } from '#core/kid.ts';
import { printSyncReport } from '#scripts/lib/key-sync/run.ts';
import {
  BUNDLE_ANNOTATION,
  KID_ANNOTATION,
  type SyncOptions,
  sameKmsKey,
  syncOnce,
} from '#scripts/lib/key-sync/sync.ts';
import { awsError, body } from '../../../functions/adapters/aws/aws-fakes.ts';
import { CLUSTER, fakeCiphertext, ISSUER, makeWorld, WRAPPING_KEY } from './world.ts';

const FIXTURES = join(import.meta.dirname, '../../../fixtures/apiserver');
const MANIFEST = readFileSync(join(FIXTURES, 'kubeadm-real-1.34-kms.in.yaml'), 'utf8');

const s3 = mockClient(S3Client);
const kms = mockClient(KMSClient);

interface Setup {
  dir: string;
  keyDir: string;
  manifest: string;
  backups: string;
  options: SyncOptions;
  world: ReturnType<typeof makeWorld>;
}

function serve(keyset: Keyset, world: ReturnType<typeof makeWorld>): void {
  s3.reset();
  kms.reset();
  s3.on(GetObjectCommand, { Key: 'keyset.json' }).resolves({
    Body: body(serializeKeyset(keyset)),
    ETag: '"v1"',
  });
  for (const key of [world.active, world.retired, world.pending]) {
    s3.on(GetObjectCommand, { Key: `keys/${key.record.kid}.wrapped` }).resolves({
      Body: body(fakeCiphertext(key.record.kid)),
    });
  }
  kms
    .on(DecryptCommand)
    .callsFake((input: { CiphertextBlob: Uint8Array; EncryptionContext?: Record<string, string> }) => {
      const kid = new TextDecoder().decode(input.CiphertextBlob).replace('wrapped:', '');
      const key = [world.active, world.retired, world.pending].find((k) => k.record.kid === kid);
      const context = input.EncryptionContext ?? {};
      if (
        key === undefined ||
        context.cluster !== CLUSTER ||
        context.kid !== kid ||
        Object.keys(context).length !== 2
      ) {
        throw awsError('InvalidCiphertextException', 400);
      }
      return { Plaintext: Uint8Array.from(key.pkcs8), KeyId: WRAPPING_KEY };
    });
}

function setup(keyset?: Keyset): Setup {
  const world = makeWorld();
  const dir = mkdtempSync(join(tmpdir(), 'key-sync-'));
  const keyDir = join(dir, 'keys');
  const manifest = join(dir, 'kube-apiserver.yaml');
  const backups = join(dir, 'backups');
  writeFileSync(manifest, MANIFEST, { mode: 0o600 });
  serve(keyset ?? world.keyset, world);
  const options: SyncOptions = {
    s3: new S3Client({ region: 'eu-west-1' }),
    kms: new KMSClient({ region: 'eu-west-1' }),
    state: { bucket: 'state-bucket', key: 'keyset.json' },
    cluster: CLUSTER,
    keyDir,
    manifest: { distro: 'kubeadm', file: manifest, audiences: [], backupDir: backups },
    now: () => new Date('2026-11-22T12:00:00Z'),
  };
  return { dir, keyDir, manifest, backups, options, world };
}

function kidOfSigningKey(path: string): string {
  return kidFromSpki(
    createPublicKey(createPrivateKey(readFileSync(path, 'utf8'))).export({ type: 'spki', format: 'der' }),
  );
}

function pemKids(path: string): string[] {
  const blocks =
    readFileSync(path, 'utf8').match(/-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/g) ?? [];
  return blocks.map((pem) => kidFromSpki(createPublicKey(pem).export({ type: 'spki', format: 'der' })));
}

describe('key-sync', () => {
  let t: Setup;
  beforeEach(() => {
    t = setup();
  });

  it('--dry-run decrypts nothing, writes nothing and names the files a pass would write', async () => {
    const report = await syncOnce({ ...t.options, dryRun: true });
    expect(kms.commandCalls(DecryptCommand)).toHaveLength(0);
    expect(readdirSync(t.dir).sort()).toEqual(['kube-apiserver.yaml']);
    expect(readFileSync(t.manifest, 'utf8')).toBe(MANIFEST);
    expect(report).toMatchObject({ wroteSigningKey: false, wroteBundle: false });
    expect(report.dryRun?.wouldWrite.sort()).toEqual(
      [join(t.keyDir, 'signing.key'), join(t.keyDir, 'verification.pem'), t.manifest].sort(),
    );
    expect(report.dryRun?.diff).toContain('+    - --service-account-issuer=');
    expect(report.dryRun?.diff).not.toContain('PRIVATE KEY');
  });

  it('installs the active key (0600 PKCS#8) and a bundle of every non-deleted key, then configures the manifest', async () => {
    const report = await syncOnce(t.options);
    const signing = join(t.keyDir, 'signing.key');
    expect(readFileSync(signing, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(statSync(signing).mode & 0o777).toBe(0o600);
    expect(kidOfSigningKey(signing)).toBe(t.world.active.record.kid);
    expect(pemKids(join(t.keyDir, 'verification.pem')).sort()).toEqual(
      [t.world.active.record.kid, t.world.retired.record.kid, t.world.pending.record.kid].sort(),
    );
    expect(report).toMatchObject({
      kid: t.world.active.record.kid,
      issuer: ISSUER,
      wroteSigningKey: true,
      wroteBundle: true,
    });
    const manifest = readFileSync(t.manifest, 'utf8');
    expect(manifest).toContain(
      `- --service-account-issuer=${ISSUER}\n    - --service-account-issuer=https://kubernetes.default.svc.cluster.local`,
    );
    expect(manifest).toContain(`- --service-account-signing-key-file=${t.keyDir}/signing.key`);
    expect(manifest).toContain(`- --service-account-key-file=${t.keyDir}/verification.pem`);
    expect(manifest).toContain('- --service-account-key-file=/etc/kubernetes/pki/sa.pub');
    expect(manifest).toContain(`${KID_ANNOTATION}: ${t.world.active.record.kid}`);
    expect(statSync(t.manifest).mode & 0o777).toBe(0o600);
    expect(readdirSync(t.backups)).toHaveLength(1);
    // Decrypt was called once, with the cluster/kid context.
    expect(kms.commandCalls(DecryptCommand)).toHaveLength(1);
    expect(kms.commandCalls(DecryptCommand)[0]?.args[0].input).toMatchObject({
      EncryptionContext: { cluster: CLUSTER, kid: t.world.active.record.kid },
      KeyId: WRAPPING_KEY,
    });
  });

  it('is steady on a second pass: no KMS call, no write, manifest unchanged', async () => {
    await syncOnce(t.options);
    const before = readFileSync(t.manifest, 'utf8');
    const mtime = statSync(join(t.keyDir, 'signing.key')).mtimeMs;
    kms.resetHistory();
    const report = await syncOnce(t.options);
    expect(report).toMatchObject({ wroteSigningKey: false, wroteBundle: false });
    expect(report.manifest?.changes).toEqual([]);
    expect(kms.commandCalls(DecryptCommand)).toHaveLength(0);
    expect(readFileSync(t.manifest, 'utf8')).toBe(before);
    expect(statSync(join(t.keyDir, 'signing.key')).mtimeMs).toBe(mtime);
    expect(readdirSync(t.backups)).toHaveLength(1);
  });

  it('follows a rotation: new signing key, and the manifest annotation changes so kubelet restarts kube-apiserver', async () => {
    await syncOnce(t.options);
    const { keyset, active, pending } = t.world;
    const rotated: Keyset = {
      ...keyset,
      keys: keyset.keys.map((k) => {
        if (k.kid === active.record.kid)
          return { ...k, state: 'retired' as const, retiredAt: '2026-11-22T00:00:00Z' };
        if (k.kid === pending.record.kid)
          return { ...k, state: 'active' as const, activatedAt: '2026-11-22T00:00:00Z' };
        return k;
      }),
    };
    serve(rotated, t.world);
    const report = await syncOnce(t.options);
    expect(report.kid).toBe(pending.record.kid);
    expect(kidOfSigningKey(join(t.keyDir, 'signing.key'))).toBe(pending.record.kid);
    expect(report.manifest?.changes.map((c) => c.target)).toEqual([
      `annotation:${KID_ANNOTATION}`,
      `annotation:${BUNDLE_ANNOTATION}`,
    ]);
    expect(readFileSync(t.manifest, 'utf8')).toContain(`${KID_ANNOTATION}: ${pending.record.kid}`);
  });

  it('fails with KEY_SYNC_CONTEXT_MISMATCH when KMS rejects the encryption context, writing nothing', async () => {
    const other = { ...t.world.keyset, cluster: 'staging' };
    serve(other, t.world);
    await expect(syncOnce({ ...t.options, cluster: 'staging' })).rejects.toSatisfy((e: unknown) =>
      isIrsaError(e, 'KEY_SYNC_CONTEXT_MISMATCH'),
    );
    expect(() => statSync(t.keyDir)).toThrow();
    expect(readFileSync(t.manifest, 'utf8')).toBe(MANIFEST);
  });

  it('refuses a key that KMS says was decrypted with another wrapping key, writing nothing', async () => {
    kms.on(DecryptCommand).resolves({
      Plaintext: Uint8Array.from(t.world.active.pkcs8),
      KeyId: 'arn:aws:kms:eu-west-1:111122223333:key/other',
    });
    await expect(syncOnce(t.options)).rejects.toSatisfy((e: unknown) =>
      isIrsaError(e, 'KEY_SYNC_WRONG_WRAPPING_KEY'),
    );
    expect(() => statSync(t.keyDir)).toThrow();
    expect(readFileSync(t.manifest, 'utf8')).toBe(MANIFEST);
  });

  it('matches the wrapping key by ARN, key id or alias', () => {
    const arn = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd';
    expect(sameKmsKey(arn, arn)).toBe(true);
    expect(sameKmsKey('1234abcd', arn)).toBe(true);
    expect(sameKmsKey('alias/irsa-wrap', arn)).toBe(true);
    expect(sameKmsKey(arn, 'arn:aws:kms:eu-west-1:111122223333:key/other')).toBe(false);
    expect(sameKmsKey('1234abcd', undefined)).toBe(false);
  });

  it('refuses a keyset of another cluster before any KMS call', async () => {
    await expect(syncOnce({ ...t.options, cluster: 'staging' })).rejects.toSatisfy((e: unknown) =>
      isIrsaError(e, 'KEY_SYNC_CLUSTER_MISMATCH'),
    );
    expect(kms.commandCalls(DecryptCommand)).toHaveLength(0);
    expect(readFileSync(t.manifest, 'utf8')).toBe(MANIFEST);
  });

  it('fails with KEY_SYNC_NO_ACTIVE_KEY on a keyset without an active key, writing nothing', async () => {
    const noActive = { ...t.world.keyset, keys: t.world.keyset.keys.filter((k) => k.state !== 'active') };
    serve(noActive, t.world);
    await expect(syncOnce(t.options)).rejects.toSatisfy((e: unknown) =>
      isIrsaError(e, 'KEY_SYNC_NO_ACTIVE_KEY'),
    );
    expect(() => statSync(t.keyDir)).toThrow();
    expect(readFileSync(t.manifest, 'utf8')).toBe(MANIFEST);
  });

  it('fails with KEYSET_CORRUPT on a corrupt keyset, writing nothing', async () => {
    s3.on(GetObjectCommand, { Key: 'keyset.json' }).resolves({ Body: body('{"version":1,'), ETag: '"x"' });
    await expect(syncOnce(t.options)).rejects.toSatisfy((e: unknown) => isIrsaError(e, 'KEYSET_CORRUPT'));
    expect(readFileSync(t.manifest, 'utf8')).toBe(MANIFEST);
  });

  it('never writes the manifest when the key cannot be installed (the manifest must not name a missing key)', async () => {
    s3.on(GetObjectCommand, { Key: `keys/${t.world.active.record.kid}.wrapped` }).rejects(
      awsError('NoSuchKey', 404),
    );
    await expect(syncOnce(t.options)).rejects.toSatisfy((e: unknown) =>
      isIrsaError(e, 'WRAPPED_KEY_MISSING'),
    );
    expect(() => statSync(join(t.keyDir, 'signing.key'))).toThrow();
    expect(readFileSync(t.manifest, 'utf8')).toBe(MANIFEST);
  });

  it('--distro none installs the keys only', async () => {
    const report = await syncOnce({ ...t.options, manifest: null });
    expect(report.manifest).toBeNull();
    expect(readFileSync(t.manifest, 'utf8')).toBe(MANIFEST);
    expect(kidOfSigningKey(join(t.keyDir, 'signing.key'))).toBe(t.world.active.record.kid);
  });

  it('never prints key material', async () => {
    const lines: string[] = [];
    const io = { out: (s: string) => lines.push(s), err: (s: string) => lines.push(s) };
    const report = await syncOnce(t.options);
    printSyncReport(io, report, false);
    printSyncReport(io, report, true);
    const printed = lines.join('\n');
    const der = Buffer.from(t.world.active.pkcs8).toString('base64');
    expect(printed).toContain(t.world.active.record.kid);
    expect(printed).not.toContain(der.slice(40, 100));
    expect(printed).not.toContain('PRIVATE KEY');
  });
});

const asRoot = process.getuid?.() === 0;
if (!asRoot) console.warn('SKIPPED: not root; the key-sync ownership checks (chown to nobody) did not run.');

describe('key-sync files', () => {
  let t: Setup;
  beforeEach(() => {
    t = setup();
  });

  it('creates the key directory 0700, and tightens an existing 0755 one', async () => {
    await syncOnce(t.options);
    expect(statSync(t.keyDir).mode & 0o777).toBe(0o700);
    chmodSync(t.keyDir, 0o755);
    await syncOnce(t.options);
    expect(statSync(t.keyDir).mode & 0o777).toBe(0o700);
  });

  it('refuses a key directory that is a symlink, writing nothing', async () => {
    const real = join(t.dir, 'real');
    mkdirSync(real, { mode: 0o700 });
    symlinkSync(real, t.keyDir);
    await expect(syncOnce(t.options)).rejects.toMatchObject({ code: 'KEY_SYNC_DIR_UNSAFE' });
    expect(readdirSync(real)).toEqual([]);
  });

  it('removes its own stale temp files at start, and nothing else', async () => {
    mkdirSync(t.keyDir, { mode: 0o700 });
    // A run killed between writing and renaming leaves these (pid 4194304 is above pid_max).
    const stale = ['.signing.key.4194304-0badc0de0bad.tmp', '.verification.pem.4194304-123456789abc.tmp'];
    for (const name of stale) writeFileSync(join(t.keyDir, name), 'x', { mode: 0o600 });
    writeFileSync(join(t.keyDir, 'notes.txt'), 'keep');
    await syncOnce(t.options);
    expect(readdirSync(t.keyDir).sort()).toEqual(['notes.txt', 'signing.key', 'verification.pem']);
  });

  it.skipIf(!asRoot)('a new private key never takes the owner of a file already at that path', async () => {
    mkdirSync(t.keyDir, { mode: 0o700 });
    // An old key file that another user owns (planted, or left by a mistaken chown).
    const signing = join(t.keyDir, 'signing.key');
    writeFileSync(signing, 'old', { mode: 0o644 });
    chownSync(signing, 65534, 65534);
    writeFileSync(join(t.keyDir, 'verification.pem'), 'old', { mode: 0o666 });
    chownSync(join(t.keyDir, 'verification.pem'), 65534, 65534);
    await syncOnce(t.options);
    for (const [name, mode] of [
      ['signing.key', 0o600],
      ['verification.pem', 0o644],
    ] as const) {
      const info = lstatSync(join(t.keyDir, name));
      expect({ name, uid: info.uid, gid: info.gid, mode: info.mode & 0o777 }).toEqual({
        name,
        uid: process.getuid?.(),
        gid: process.getgid?.(),
        mode,
      });
    }
    expect(existsSync(signing)).toBe(true);
  });

  it.skipIf(!asRoot)('refuses a key directory owned by another user, writing nothing', async () => {
    mkdirSync(t.keyDir, { mode: 0o700 });
    chownSync(t.keyDir, 65534, 65534);
    await expect(syncOnce(t.options)).rejects.toMatchObject({ code: 'KEY_SYNC_DIR_UNSAFE' });
    expect(readdirSync(t.keyDir)).toEqual([]);
  });
});
