/**
 * Local-mode state and public store: `keyset.json` and the two public documents in a directory.
 * Same ports as the S3 adapters, same guarantees: compare-and-swap writes, atomic files, a corrupt
 * keyset is reported and never replaced.
 */
import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { IrsaError, isIrsaError } from '#core/errors.ts';
import type { Keyset } from '#core/keyset.ts';
import { parseKeyset, serializeKeyset } from '#core/keyset-parse.ts';
import type { KeysetStore, PublicDocuments, Publisher, VersionedKeyset } from '#core/ports.ts';
import { atomicWriteFile } from './atomic-file.ts';

/** Paths of the local layout below `--dir`. */
export function localPaths(dir: string) {
  const state = join(dir, 'state');
  const publicDir = join(dir, 'public');
  return {
    dir,
    state,
    keyset: join(state, 'keyset.json'),
    keys: join(state, 'keys'),
    config: join(dir, 'local.json'),
    public: publicDir,
    discovery: join(publicDir, '.well-known', 'openid-configuration'),
    jwks: join(publicDir, 'openid', 'v1', 'jwks'),
  };
}

function versionOf(bytes: string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function readIfExists(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** How long a lock file may live before it is taken to be left over from a crashed process. */
const STALE_LOCK_MS = 30_000;

/**
 * `keyset.json` on the local file system. The version is the SHA-256 of the file's bytes; a write
 * holds an exclusive lock file while it compares and renames, so two processes cannot fork the state.
 */
export class LocalKeysetStore implements KeysetStore {
  private readonly path: string;

  /** @param stateDir the `state/` directory (see {@link localPaths}). */
  constructor(private readonly stateDir: string) {
    this.path = join(stateDir, 'keyset.json');
  }

  async read(): Promise<VersionedKeyset | null> {
    let text: string | null;
    try {
      text = await readIfExists(this.path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'an error';
      throw new IrsaError(
        'KEYSET_UNREADABLE',
        `Cannot read ${this.path} (${code}${code === 'EISDIR' ? ': it is a directory' : ''}).`,
        `Make ${this.path} the keyset file again (restore it from a backup), or point --dir at the right directory.`,
        { cause: error },
      );
    }
    if (text === null) return null;
    try {
      return { keyset: parseKeyset(text), version: versionOf(text) };
    } catch (error) {
      // The core's fix names the versioned state bucket; a local keyset has no bucket behind it.
      if (!isIrsaError(error, 'KEYSET_CORRUPT')) throw error;
      throw new IrsaError(
        'KEYSET_CORRUPT',
        error.message,
        `Restore ${this.path} from your backup; if this is a throw-away local issuer, move its directory aside and start again with irsa-anywhere local.`,
        { cause: error },
      );
    }
  }

  async write(keyset: Keyset, expectedVersion: string | null): Promise<string> {
    const text = serializeKeyset(keyset);
    await mkdir(this.stateDir, { recursive: true, mode: 0o700 });
    const release = await this.lock();
    try {
      const current = await readIfExists(this.path);
      const currentVersion = current === null ? null : versionOf(current);
      if (currentVersion !== expectedVersion) {
        throw new IrsaError(
          'STATE_CONFLICT',
          `keyset.json changed since it was read (${this.path}).`,
          'Another run changed the keyset; read it again and re-plan.',
        );
      }
      await atomicWriteFile(this.path, text, { mode: 0o600, dirMode: 0o700 });
      return versionOf(text);
    } finally {
      await release();
    }
  }

  private async lock(): Promise<() => Promise<void>> {
    const lockPath = `${this.path}.lock`;
    for (let attempt = 0; attempt < 200; attempt++) {
      try {
        const handle = await open(lockPath, 'wx', 0o600);
        await handle.close();
        return () => rm(lockPath, { force: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const info = await stat(lockPath).catch(() => null);
        if (info !== null && Date.now() - info.mtimeMs > STALE_LOCK_MS) await rm(lockPath, { force: true });
        else await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
    throw new IrsaError(
      'STATE_LOCKED',
      `${lockPath} is held by another process.`,
      'Wait for the other run to finish, or remove the lock file if no run is active.',
    );
  }
}

/**
 * Publishes the discovery document and JWKS as files under `public/`, JWKS first. Unchanged bytes
 * are not rewritten.
 */
export class LocalPublisher implements Publisher {
  private readonly paths: ReturnType<typeof localPaths>;

  /** @param dir the local root (`--dir`). */
  constructor(dir: string) {
    this.paths = localPaths(dir);
  }

  async publish(documents: PublicDocuments): Promise<{ changed: boolean }> {
    let changed = false;
    for (const [path, body] of [
      [this.paths.jwks, documents.jwks],
      [this.paths.discovery, documents.discovery],
    ] as const) {
      if ((await readIfExists(path)) === body) continue;
      await atomicWriteFile(path, body, { mode: 0o644 });
      changed = true;
    }
    return { changed };
  }
}
