/**
 * Times in a keyset that lie in the future. A keyset only ever records what happened, so a time
 * after the real clock means it was written by a drill on a virtual clock (old `rotate --at`) or
 * edited by hand. Planning on it stalls rotation (keys look younger than they are, the next
 * promotion moves years away), so such a keyset is refused until it is repaired.
 */
import { IrsaError } from './errors.ts';
import type { KeyRecord, Keyset } from './keyset.ts';

/** Clock skew tolerated before a time counts as "in the future" (the same 5 min STS allows). */
export const FUTURE_SKEW_SECONDS = 300;

const KEY_TIMES = [
  'createdAt',
  'publishedAt',
  'activatedAt',
  'retiredAt',
  'deletedAt',
  'unpublishedAt',
] as const satisfies readonly (keyof KeyRecord)[];

/** Every recorded time later than `now` + skew, as `where: time` (e.g. `kid abc createdAt: 2030-…`). */
export function futureTimes(keyset: Keyset, now: Date): string[] {
  const limit = now.getTime() + FUTURE_SKEW_SECONDS * 1000;
  const late = (iso: string | undefined): iso is string => iso !== undefined && Date.parse(iso) > limit;
  const found: string[] = [];
  for (const key of keyset.keys) {
    for (const field of KEY_TIMES) {
      const value = key[field];
      if (late(value)) found.push(`kid ${key.kid} ${field}: ${value}`);
    }
  }
  if (late(keyset.lastPublish?.at)) found.push(`lastPublish.at: ${keyset.lastPublish?.at}`);
  if (late(keyset.updatedAt)) found.push(`updatedAt: ${keyset.updatedAt}`);
  return found;
}

/**
 * Throws `KEYSET_FUTURE_TIME` when the keyset records a time after `now` (+ skew). `repair` is the
 * command that fixes it, named in the error.
 */
export function assertNoFutureTimes(keyset: Keyset, now: Date, repair: string): void {
  const found = futureTimes(keyset, now);
  if (found.length === 0) return;
  throw new IrsaError(
    'KEYSET_FUTURE_TIME',
    `keyset.json records ${found.length} time(s) after now (${found[0]}${found.length > 1 ? ', …' : ''}); rotation would stall until then.`,
    `Run ${repair}: it sets every future time to now (keys then look newly created, which only delays rotation).`,
    { detail: { times: found } },
  );
}

/**
 * The keyset with every time after `now` set to `now`. Safe: a key that looks younger rotates
 * later, and a publish that looks newer waits the full publish lead again; nothing happens early.
 */
export function clampFutureTimes(keyset: Keyset, now: Date): Keyset {
  const limit = now.getTime();
  const iso = now.toISOString();
  const clamp = (value: string): string => (Date.parse(value) > limit ? iso : value);
  const keys = keyset.keys.map((key) => {
    const copy: KeyRecord = { ...key };
    for (const field of KEY_TIMES) {
      const value = copy[field];
      if (value !== undefined) copy[field] = clamp(value);
    }
    return copy;
  });
  const lastPublish =
    keyset.lastPublish === undefined
      ? {}
      : { lastPublish: { ...keyset.lastPublish, at: clamp(keyset.lastPublish.at) } };
  return { ...keyset, keys, ...lastPublish, updatedAt: clamp(keyset.updatedAt) };
}
