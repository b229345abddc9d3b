/**
 * Checks a local issuer directory before anything uses it: the keyset reads and parses, records no
 * time in the future, and the private key of every key that signs or will sign is on disk and
 * parses. `local`, `status`, `rotate`, `token mint` and `signer --backend local` run it first, so a
 * broken directory is reported with its fix before anything is written.
 */
import { composeLocal } from '#adapters/local/compose-local.ts';
import { readLocalConfig } from '#adapters/local/local-config.ts';
import { IrsaError, isIrsaError } from '#core/errors.ts';
import type { Keyset } from '#core/keyset.ts';
import { assertNoFutureTimes } from '#core/keyset-clock.ts';
import type { VersionedKeyset } from '#core/ports.ts';

/** The command that repairs future times in `dir`. */
export function repairClockCommand(dir: string): string {
  return `irsa-anywhere rotate --dir ${dir} --repair-clock`;
}

/**
 * One `LOCAL_KEY_MISSING` / `LOCAL_KEY_INVALID` per active or pending key whose private key file
 * is gone or garbage, with the fix for that key's state.
 */
export async function missingKeyProblems(dir: string, keyset: Keyset): Promise<IrsaError[]> {
  const { keys } = composeLocal(dir);
  const problems: IrsaError[] = [];
  for (const key of keyset.keys) {
    if ((key.state !== 'active' && key.state !== 'pending') || key.location.type !== 'local') continue;
    try {
      await keys.privateKey(key);
    } catch (error) {
      if (!isIrsaError(error, 'LOCAL_KEY_MISSING') && !isIrsaError(error, 'LOCAL_KEY_INVALID')) throw error;
      const fix =
        key.state === 'active'
          ? `Restore ${key.location.file} in ${dir}/state, or run irsa-anywhere rotate --dir ${dir} --now: a new key signs at once and tokens already signed keep verifying.`
          : `Restore ${key.location.file} in ${dir}/state, or run irsa-anywhere rotate --dir ${dir} --revoke ${key.kid} to drop the pending key.`;
      problems.push(
        new IrsaError(
          error.code,
          `${error.message.replace(/\.$/, '')}: the ${key.state} key cannot sign.`,
          fix,
          {
            cause: error,
          },
        ),
      );
    }
  }
  return problems;
}

/** What {@link checkLocalState} found. */
export interface LocalState {
  current: VersionedKeyset | null;
}

/**
 * Reads and checks `dir` at `now` (the real clock): `local.json` (when present), the keyset, future
 * times and, unless `keyFiles` is false, the private key files. Throws the first problem.
 */
export async function checkLocalState(
  dir: string,
  now: Date,
  options: { keyFiles?: boolean; config?: boolean } = {},
): Promise<LocalState> {
  if (options.config !== false) await readLocalConfig(dir);
  const current = await composeLocal(dir).store.read();
  if (current === null) return { current };
  assertNoFutureTimes(current.keyset, now, repairClockCommand(dir));
  if (options.keyFiles !== false) {
    const [first] = await missingKeyProblems(dir, current.keyset);
    if (first !== undefined) throw first;
  }
  return { current };
}
