/**
 * Shared pieces of the fuzz suites: the property every input handler must have (resolve, or
 * reject with a coded IrsaError, within a time bound), string mutators, and a case counter that
 * the suites print so the figures can go in docs/reliability.md.
 */
import fc from 'fast-check';
import { IrsaError } from '#core/errors.ts';

/** Cases run per suite, printed at the end of each suite. */
export const caseCounts = new Map<string, number>();

/** Counts one case under `suite`. */
export function count(suite: string): void {
  caseCounts.set(suite, (caseCounts.get(suite) ?? 0) + 1);
}

/** Runs `body`; throws if it hangs beyond `ms`. */
export async function withinTime<T>(ms: number, body: () => Promise<T> | T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`HANG: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([Promise.resolve().then(body), hang]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The fuzz property: `body` returns, or throws an IrsaError with an UPPER_SNAKE code and a fix.
 * Anything else (TypeError, a plain Error, a hang) is a crash and fails the property.
 */
export async function expectCodedOutcome(suite: string, body: () => unknown): Promise<'ok' | string> {
  count(suite);
  try {
    await withinTime(5_000, async () => body());
    return 'ok';
  } catch (error) {
    if (error instanceof IrsaError && /^[A-Z][A-Z0-9_]+$/.test(error.code) && error.fix.length > 0)
      return error.code;
    throw new Error(`crash: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`, {
      cause: error,
    });
  }
}

/** Random edits of a valid input: flips, insertions, deletions, truncation, duplication. */
export function mutated(valid: string): fc.Arbitrary<string> {
  const position = fc.nat({ max: Math.max(0, valid.length) });
  const edit = fc.oneof(
    fc.tuple(position, fc.string({ minLength: 1, maxLength: 3 })).map(
      ([at, text]) =>
        (s: string) =>
          s.slice(0, at) + text + s.slice(at + 1),
    ),
    fc.tuple(position, fc.string({ maxLength: 20 })).map(
      ([at, text]) =>
        (s: string) =>
          s.slice(0, at) + text + s.slice(at),
    ),
    fc.tuple(position, fc.nat({ max: 40 })).map(
      ([at, n]) =>
        (s: string) =>
          s.slice(0, at) + s.slice(at + n),
    ),
    position.map((at) => (s: string) => s.slice(0, at)),
    fc.tuple(position, fc.nat({ max: 60 })).map(
      ([at, n]) =>
        (s: string) =>
          s.slice(0, at + n) + s.slice(at),
    ),
    fc
      .constantFrom('\u0000', '\uFFFD', '"', '\\', '\n', '{', '}', '[', ']', ':', '-', '#', '&', '*', '!')
      .chain((ch) => position.map((at) => (s: string) => s.slice(0, at) + ch + s.slice(at))),
  );
  return fc
    .array(edit, { minLength: 1, maxLength: 4 })
    .map((edits) => edits.reduce((text, apply) => apply(text), valid));
}
