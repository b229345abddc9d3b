/**
 * Issue 14 item 8: moving a cluster to kms mode must not break the tokens its old key signed.
 * `apiserver configure --mode kms` removes `--service-account-key-file`; before it does, it asks the
 * running signer (FetchKeys over its socket) whether it serves those keys, and refuses otherwise,
 * naming `--extra-public-key` and the file. `signer install` picks the key files up by default.
 */
import { copyFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { register } from '#scripts/commands/apiserver.ts';
import { register as registerSigner } from '#scripts/commands/signer.ts';
import { droppedKeyFiles, oldKeysOf, servedByFetchKeys } from '#scripts/lib/apiserver/old-keys.ts';
import { loadExtraKeys } from '#scripts/lib/signer/extra-keys.ts';
import { startTempLocalSigner, type TempSigner } from '#scripts/lib/signer/temp-signer.ts';
import { runRegistered } from '../../support/run-cli.ts';

const FIXTURES = join(import.meta.dirname, '../../fixtures');
const ISSUER = 'https://oidc.example.com/prod';

let work: string;
let saPub: string;
let manifestText: string;
/** A signer that serves only its own keyset key: the old sa.pub is not among its keys. */
let bare: TempSigner;
/** The same, started with `--extra-public-key <sa.pub>`. */
let withOldKey: TempSigner;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'irsa-kms-migration-'));
  saPub = join(work, 'sa.pub');
  await copyFile(join(FIXTURES, 'keys/rsa-2048.pub.pem'), saPub);
  await copyFile(join(FIXTURES, 'keys/rsa-2048.pem'), join(work, 'sa.key'));
  manifestText = (await readFile(join(FIXTURES, 'apiserver/kubeadm-real-1.34-kms.in.yaml'), 'utf8'))
    .replaceAll('/etc/kubernetes/pki/sa.pub', saPub)
    .replaceAll('/etc/kubernetes/pki/sa.key', join(work, 'sa.key'));
  [bare, withOldKey] = await Promise.all([
    startTempLocalSigner(),
    startTempLocalSigner({ extraKeys: await loadExtraKeys([saPub]) }),
  ]);
});
afterAll(async () => {
  await Promise.all([bare?.close(), withOldKey?.close()]);
});

let n = 0;
async function manifest(): Promise<string> {
  n += 1;
  const file = join(work, `kube-apiserver-${n}.yaml`);
  await writeFile(file, manifestText, { mode: 0o600 });
  return file;
}

const configure = (file: string, socket: string, ...extra: string[]) =>
  runRegistered(register, [
    'apiserver',
    'configure',
    '--distro',
    'kubeadm',
    '--mode',
    'kms',
    '--issuer',
    ISSUER,
    '--file',
    file,
    '--signer-socket',
    socket,
    '--backup-dir',
    join(work, 'backups'),
    ...extra,
  ]);

describe('8a. apiserver configure --mode kms keeps old tokens verifying', () => {
  it('refuses to drop a key file whose kid the running signer does not serve, naming --extra-public-key and the file', async () => {
    const file = await manifest();
    const result = await configure(file, bare.socketPath);
    expect(result.code, result.out).toBe(1);
    const lines = result.err.split('\n').filter((l) => l.startsWith('error '));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^error APISERVER_OLD_KEYS_NOT_SERVED: /);
    expect(result.err).toContain(saPub);
    expect(result.err).toContain(`--extra-public-key ${saPub}`);
    expect(result.err).toContain('signer install');
    expect(result.err).toContain('--allow-dropping-old-tokens');
    expect(await readFile(file, 'utf8')).toBe(manifestText);
  });

  it('--dry-run performs the same read-only check', async () => {
    const file = await manifest();
    const result = await configure(file, bare.socketPath, '--dry-run');
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/^error APISERVER_OLD_KEYS_NOT_SERVED: /m);
    expect(await readFile(file, 'utf8')).toBe(manifestText);
  });

  it('proceeds when the signer serves the old key, and says so', async () => {
    const file = await manifest();
    const dry = await configure(file, withOldKey.socketPath, '--dry-run');
    expect(dry.code, dry.err).toBe(0);
    expect(dry.out).toMatch(/note: the signer at .* serves the key of .*sa\.pub/);
    const result = await configure(file, withOldKey.socketPath);
    expect(result.code, result.err).toBe(0);
    expect(result.out).toMatch(/note: the signer at .* serves the key of .*sa\.pub \(kid [\w-]{43}\)/);
    expect(await readFile(file, 'utf8')).toContain(
      `--service-account-signing-endpoint=${withOldKey.socketPath}`,
    );
  });

  it('--allow-dropping-old-tokens skips the check with a warning', async () => {
    const file = await manifest();
    const result = await configure(file, bare.socketPath, '--allow-dropping-old-tokens', '--json');
    expect(result.code, result.err).toBe(0);
    const report = JSON.parse(result.out) as { warnings: string[]; changed: boolean };
    expect(report.changed).toBe(true);
    expect(report.warnings.join('\n')).toMatch(/--allow-dropping-old-tokens: tokens signed by .*sa\.pub/);
    expect(await readFile(file, 'utf8')).not.toContain('--service-account-key-file');
  });

  it('a signer that does not answer FetchKeys is refused with the way forward', async () => {
    const file = await manifest();
    const socket = join(work, 'dead.sock');
    await writeFile(socket, '');
    const result = await configure(file, socket, '--skip-preflight');
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/^error APISERVER_SIGNER_NOT_RUNNING: .*FetchKeys/m);
    expect(result.err).toContain(`--extra-public-key ${saPub}`);
    expect(await readFile(file, 'utf8')).toBe(manifestText);
  });
});

describe('8a. the kid of an old key file, the way kube-apiserver computes it', () => {
  it('matches the known answer for a public key, a private key and a two-key bundle (fixtures/keys/README.md)', async () => {
    expect(await oldKeysOf(join(FIXTURES, 'keys/rsa-2048.pub.pem'))).toEqual([
      { file: join(FIXTURES, 'keys/rsa-2048.pub.pem'), kid: '0UT47vY6F01H_HCSL11CTRVgBpEDio8c54oX8Id-6_Y' },
    ]);
    const fromPrivate = await oldKeysOf(join(FIXTURES, 'keys/rsa-2048.pem'));
    expect(fromPrivate.map((k) => k.kid)).toEqual(['0UT47vY6F01H_HCSL11CTRVgBpEDio8c54oX8Id-6_Y']);
    const bundle = join(work, 'bundle.pem');
    await writeFile(
      bundle,
      (await readFile(join(FIXTURES, 'keys/rsa-2048.pub.pem'), 'utf8')) +
        (await readFile(join(FIXTURES, 'keys/ec-p256.pub.pem'), 'utf8')),
    );
    expect((await oldKeysOf(bundle)).map((k) => k.kid)).toEqual([
      '0UT47vY6F01H_HCSL11CTRVgBpEDio8c54oX8Id-6_Y',
      'gxGGelS7BnMAN0-VsYRvVj-RAuRAEsAeeJJiZ7JmiLM',
    ]);
  });

  it('a missing or keyless file is APISERVER_OLD_KEY_UNREADABLE; a served key must carry its own kid', async () => {
    await expect(oldKeysOf(join(work, 'nope.pub'))).rejects.toMatchObject({
      code: 'APISERVER_OLD_KEY_UNREADABLE',
    });
    await writeFile(join(work, 'empty.pub'), 'not a key\n');
    await expect(oldKeysOf(join(work, 'empty.pub'))).rejects.toMatchObject({
      code: 'APISERVER_OLD_KEY_UNREADABLE',
    });
    const old = await oldKeysOf(join(FIXTURES, 'keys/rsa-2048.pub.pem'));
    const ec = (await oldKeysOf(join(FIXTURES, 'keys/ec-p256.pub.pem')))[0];
    const { createPublicKey } = await import('node:crypto');
    const ecDer = createPublicKey(await readFile(join(FIXTURES, 'keys/ec-p256.pub.pem'))).export({
      format: 'der',
      type: 'spki',
    });
    // A key listed under the old kid but with other bytes does not verify those tokens.
    const forged = { key_id: old[0]?.kid ?? '', key: ecDer, exclude_from_oidc_discovery: true };
    const fetched = { keys: [forged], data_timestamp: null, refresh_hint_seconds: 60 };
    expect(servedByFetchKeys(old, fetched).missing).toEqual(old);
    const honest = { key_id: ec?.kid ?? '', key: ecDer, exclude_from_oidc_discovery: true };
    expect(servedByFetchKeys([...old, ec!], { ...fetched, keys: [honest] }).served).toEqual([ec]);
    expect(
      droppedKeyFiles([
        { action: 'remove', target: '--service-account-key-file', before: ['/a.pub', '/b.pub'] },
      ]),
    ).toEqual(['/a.pub', '/b.pub']);
  });
});

describe('8b. signer install picks up the key files kube-apiserver verifies with today', () => {
  const KMS = ['--backend', 'kms', '--state', 's3://irsa-state-prod/keyset.json', '--region', 'eu-west-1'];
  const install = (...extra: string[]) =>
    runRegistered(registerSigner, ['signer', 'install', '--distro', 'kubeadm', ...KMS, ...extra]);

  it('adds each --service-account-key-file of the manifest as --extra-public-key, and says so on stderr', async () => {
    const file = await manifest();
    const result = await install('--apiserver-manifest', file, '--extra-public-key', saPub);
    expect(result.code, result.err).toBe(0);
    const exec = result.out.split('\n').find((l) => l.startsWith('ExecStart=')) ?? '';
    // Given twice (flag and manifest), listed once.
    expect(exec.split(`--extra-public-key ${saPub}`)).toHaveLength(2);
    expect(result.err).toMatch(
      new RegExp(
        `^note: added --extra-public-key ${saPub} from the --service-account-key-file flags of ${file}`,
      ),
    );
    expect(result.err).toContain('--no-extra-public-keys');
  });

  it('--no-extra-public-keys leaves them out; a manifest that is already migrated adds nothing', async () => {
    const file = await manifest();
    const off = await install('--apiserver-manifest', file, '--no-extra-public-keys');
    expect(off.code, off.err).toBe(0);
    expect(off.out).not.toContain('--extra-public-key');
    expect(off.err).toBe('');
    const migrated = join(work, 'migrated.yaml');
    await writeFile(
      migrated,
      manifestText
        .replace(/^ {4}- --service-account-key-file=.*\n/m, '')
        .replace(/^ {4}- --service-account-signing-key-file=.*\n/m, ''),
    );
    const none = await install('--apiserver-manifest', migrated);
    expect(none.code, none.err).toBe(0);
    expect(none.out).not.toContain('--extra-public-key');
  });

  it('the static pod mounts the picked-up file; --write says so on stdout', async () => {
    const file = await manifest();
    const out = join(work, 'irsa-anywhere-signer.yaml');
    const result = await install(
      '--apiserver-manifest',
      file,
      '--static-pod',
      '--image',
      'r.example/i:1',
      '--write',
      out,
    );
    expect(result.code, result.err).toBe(0);
    expect(result.out).toMatch(/^note: added --extra-public-key /m);
    expect(await readFile(out, 'utf8')).toContain(`path: ${saPub}`);
  });

  it('a named manifest that is missing, or a key file holding a private key, is one coded line', async () => {
    const missing = await install('--apiserver-manifest', join(work, 'nope.yaml'));
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/^error APISERVER_FILE_NOT_FOUND: .*nope\.yaml.*--no-extra-public-keys/);
    const privateKeyFile = join(work, 'private-key-file.yaml');
    await writeFile(
      privateKeyFile,
      manifestText.replace(
        `--service-account-key-file=${saPub}`,
        `--service-account-key-file=${join(work, 'sa.key')}`,
      ),
    );
    const priv = await install('--apiserver-manifest', privateKeyFile);
    expect(priv.code).toBe(2);
    expect(priv.err).toMatch(/^error CONFIG_EXTRA_KEY_PRIVATE: .*picked up from --service-account-key-file/);
    expect(priv.out).toBe('');
  });
});
