/**
 * `rotate --at`: a drill. The real rotation runner plans and applies every step on a virtual clock,
 * against a copy of the keyset held in memory, with keys generated in memory and a publisher that
 * keeps nothing. The directory is only read, so a drill can never leave times from the future
 * behind (which would stall the real rotation until then).
 */

import { readLocalConfig } from '#adapters/local/local-config.ts';
import { generateSoftwareKey } from '#adapters/local/software-keys.ts';
import type { Keyset } from '#core/keyset.ts';
import { kidFromSpki } from '#core/kid.ts';
import type { RotationRequest } from '#core/planner.ts';
import type { CreatedKey, KeyBackend, KeysetStore, Publisher, VersionedKeyset } from '#core/ports.ts';
import { type RotationReport, runRotation } from '#core/rotation-run.ts';
import { checkLocalState } from './local-state.ts';

/** A keyset store that starts from a snapshot and keeps every write in memory. */
class SnapshotStore implements KeysetStore {
  private version = 0;
  constructor(private current: Keyset | null) {}

  async read(): Promise<VersionedKeyset | null> {
    return this.current === null ? null : { keyset: this.current, version: String(this.version) };
  }

  async write(keyset: Keyset): Promise<string> {
    this.current = keyset;
    this.version += 1;
    return String(this.version);
  }
}

/** Keys made in memory; nothing is written or destroyed. */
const memoryKeys: KeyBackend = {
  async create(spec): Promise<CreatedKey> {
    const { publicKeySpki } = await generateSoftwareKey(spec);
    return { location: { type: 'local', file: `keys/${kidFromSpki(publicKeySpki)}.pem` }, publicKeySpki };
  },
  async destroy() {},
};

/** A publisher that publishes nowhere. */
const noPublisher: Publisher = {
  async publish() {
    return { changed: true };
  },
};

/**
 * Runs the rotation plan of `dir` as if at `at`, writing nothing. `realNow` is the real clock, used
 * to check the directory as every other command does.
 */
export async function drillLocal(
  dir: string,
  at: Date,
  realNow: Date,
  request?: RotationRequest,
): Promise<RotationReport> {
  const { current } = await checkLocalState(dir, realNow, { keyFiles: false });
  const { config, policy } = await readLocalConfig(dir);
  return runRotation(
    {
      store: new SnapshotStore(current?.keyset ?? null),
      keys: memoryKeys,
      publisher: noPublisher,
      policy,
      cluster: 'local',
      issuer: config.issuer,
      clock: () => at,
    },
    request,
  );
}
