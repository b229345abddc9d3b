/**
 * A signer on a temporary socket with the local backend and a fresh key, for the benchmark and
 * the tests. Nothing here is used by the `signer` command itself.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalKeysetStore, localPaths } from '#adapters/local/fs-store.ts';
import { LocalKeys } from '#adapters/local/software-keys.ts';
import { ALG_FOR_SPEC, type KeyRecord, type KeySpec, type KeyState, type Keyset } from '#core/keyset.ts';
import { emptyKeyset } from '#core/keyset-parse.ts';
import { kidFromSpki } from '#core/kid.ts';
import { localBackend } from './backends.ts';
import type { SignerSettings } from './config.ts';
import type { ExtraKey } from './extra-keys.ts';
import type { SignerLog } from './log.ts';
import { type Signer, startSigner } from './run.ts';
import { socketAnswers } from './socket.ts';

/** Creates a key in a local state directory and returns its keyset record. */
export async function createLocalKey(
  keys: LocalKeys,
  spec: KeySpec,
  state: KeyState,
  now: Date,
): Promise<KeyRecord> {
  const created = await keys.create(spec);
  const at = now.toISOString();
  return {
    kid: kidFromSpki(created.publicKeySpki),
    alg: ALG_FOR_SPEC[spec],
    keySpec: spec,
    state,
    publicKeySpki: Buffer.from(created.publicKeySpki).toString('base64'),
    location: created.location,
    createdAt: at,
    publishedAt: at,
    ...(state === 'pending' ? {} : { activatedAt: at }),
    ...(state === 'retired' || state === 'deleted' ? { retiredAt: at } : {}),
    ...(state === 'deleted' ? { deletedAt: at } : {}),
  };
}

/**
 * Writes a local issuer directory under `dir` whose keyset holds one key per entry of `keys`
 * (spec and state), and returns the keyset written.
 */
export async function writeLocalKeyset(
  dir: string,
  keys: ReadonlyArray<{ spec: KeySpec; state: KeyState }>,
  options: { issuer?: string; now?: Date } = {},
): Promise<Keyset> {
  const now = options.now ?? new Date();
  const paths = localPaths(dir);
  const software = new LocalKeys(paths.state);
  const keyset = emptyKeyset('test', options.issuer ?? 'http://127.0.0.1:1/issuer', now);
  for (const { spec, state } of keys) keyset.keys.push(await createLocalKey(software, spec, state, now));
  await new LocalKeysetStore(paths.state).write(keyset, null);
  return keyset;
}

/** A signer on a temporary socket, and what a benchmark needs to compare against in-process signing. */
export interface TempSigner {
  /** `unix:///...` target for {@link import('./client.ts').connectSigner}. */
  target: string;
  socketPath: string;
  dir: string;
  signer: Signer;
  /** The active key and the same software signer the server uses, for an in-process baseline. */
  activeKey: KeyRecord;
  localKeys: LocalKeys;
  /** Stops the server and removes the temporary directory. */
  close(): Promise<void>;
}

/**
 * Starts a signer with the local backend on a socket in a fresh temporary directory, with one
 * active key of `keySpec` (RSA_2048 by default). Logs are dropped unless `log` is given.
 */
export async function startTempLocalSigner(
  options: {
    keySpec?: KeySpec;
    settings?: SignerSettings;
    extraKeys?: readonly ExtraKey[];
    log?: SignerLog;
  } = {},
): Promise<TempSigner> {
  const dir = await mkdtemp(join(tmpdir(), 'irsa-signer-'));
  try {
    const keyset = await writeLocalKeyset(join(dir, 'issuer'), [
      { spec: options.keySpec ?? 'RSA_2048', state: 'active' },
    ]);
    const socketPath = join(dir, 'run', 'signer.sock');
    const backend = localBackend(join(dir, 'issuer'));
    const signer = await startSigner({
      socket: socketPath,
      backend,
      log: options.log ?? { log: () => {} },
      refresh: false,
      ...(options.settings === undefined ? {} : { settings: options.settings }),
      ...(options.extraKeys === undefined ? {} : { extraKeys: options.extraKeys }),
    });
    return {
      target: `unix://${socketPath}`,
      socketPath,
      dir,
      signer,
      activeKey: keyset.keys[0] as KeyRecord,
      localKeys: backend.signer as LocalKeys,
      close: async () => {
        await signer.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** A signer in a child process, for measurements where client and server must not share a thread. */
export interface ChildSigner {
  target: string;
  socketPath: string;
  dir: string;
  pid: number;
  activeKey: KeyRecord;
  /** An in-process signer over the same key, for the baseline. */
  localKeys: LocalKeys;
  /** Sends SIGTERM, waits for the exit, removes the temporary directory. */
  close(): Promise<void>;
}

/**
 * Like {@link startTempLocalSigner}, but runs `irsa-anywhere signer serve --backend local` in a
 * child process, as kube-apiserver meets it. In one process the client and the server share an
 * event loop, so a synchronous RSA signature also holds up the client's side of each call.
 */
export async function startChildLocalSigner(
  options: {
    keySpec?: KeySpec;
    startTimeoutMs?: number /** CLI entry to run (default bin.mjs) */;
    bin?: string;
  } = {},
): Promise<ChildSigner> {
  const dir = await mkdtemp(join(tmpdir(), 'irsa-signer-child-'));
  const issuerDir = join(dir, 'issuer');
  const keyset = await writeLocalKeyset(issuerDir, [
    { spec: options.keySpec ?? 'RSA_2048', state: 'active' },
  ]);
  const socketPath = join(dir, 'run', 'signer.sock');
  const bin = options.bin ?? fileURLToPath(new URL('../../bin.mjs', import.meta.url));
  const child = spawn(
    process.execPath,
    [
      bin,
      'signer',
      'serve',
      '--backend',
      'local',
      '--dir',
      issuerDir,
      '--socket',
      socketPath,
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const cleanup = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + (options.startTimeoutMs ?? 20_000);
  while (
    !(await stat(socketPath).then(
      (s) => s.isSocket(),
      () => false,
    )) ||
    !(await socketAnswers(socketPath))
  ) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await cleanup();
      throw new Error(`the signer child process did not start listening on ${socketPath}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    target: `unix://${socketPath}`,
    socketPath,
    dir,
    pid: child.pid ?? -1,
    activeKey: keyset.keys[0] as KeyRecord,
    localKeys: new LocalKeys(localPaths(issuerDir).state),
    close: cleanup,
  };
}
