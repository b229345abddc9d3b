/**
 * The cooperative scheduler of `simulate --overlap`: runs interleave on a virtual clock, one at a
 * time. Every port call of a run first sleeps a random virtual delay (parking the run); the
 * earliest wake-up goes next. Deterministic for a seed, no real sleeps.
 */
import { isIrsaError } from '#core/errors.ts';
import type { Keyset } from '#core/keyset.ts';
import type { KeyBackend, KeysetStore, LiveDocuments, PublicDocuments, Publisher } from '#core/ports.ts';
import { EventQueue } from './event-queue.ts';
import type { Random } from './prng.ts';

/** Virtual start time of every overlap simulation. */
export const START = Date.parse('2026-01-01T00:00:00Z');

/** Thrown into a run that dies part way (a Lambda killed at its timeout, an instance lost). */
export class RunDeath extends Error {}

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
}

function deferred(): Deferred {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

/** One-run-at-a-time scheduler on a virtual clock. */
export class Scheduler {
  now = START;
  readonly queue = new EventQueue<() => void>();
  active = 0;
  #parked: Deferred | undefined;

  /** Parks the running run for `ms` of virtual time. */
  sleep(ms: number): Promise<void> {
    const wake = deferred();
    this.queue.push(this.now + ms, wake.resolve);
    this.#parked?.resolve();
    return wake.promise;
  }

  /** Starts `body` as a run (from a queued event); it runs until it parks or ends. */
  start(body: () => Promise<void>): void {
    this.active += 1;
    void body().finally(() => {
      this.active -= 1;
      this.#parked?.resolve();
    });
  }

  /** Runs every queued event in time order, up to `end`. */
  async drain(end: number): Promise<void> {
    for (let item = this.queue.pop(); item !== undefined; item = this.queue.pop()) {
      if (item.at > end) break;
      this.now = item.at;
      this.#parked = deferred();
      const parked = this.#parked.promise;
      item.event();
      await parked;
    }
  }
}

export interface RunShape {
  maxDelayMs: number;
  dieAtCall: number | undefined;
}

/** Wraps the three ports so every call first waits a random delay, and may kill the run. */
export function delayed(
  ports: { store: KeysetStore; keys: KeyBackend; publisher: Publisher },
  sched: Scheduler,
  random: Random,
  shape: RunShape,
  onPublish: (documents: PublicDocuments) => void,
  onConflict: () => void,
  unconditional: boolean,
) {
  let calls = 0;
  const step = async (): Promise<void> => {
    await sched.sleep(random.between(0, shape.maxDelayMs));
    calls += 1;
    if (shape.dieAtCall !== undefined && calls >= shape.dieAtCall) throw new RunDeath('run died');
  };
  const wrap =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      await step();
      return call(...args);
    };
  const { store, keys, publisher } = ports;
  const store2: KeysetStore = {
    read: wrap(() => store.read()),
    write: wrap((keyset: Keyset, version: string | null) => store.write(keyset, version)),
  };
  const keys2: KeyBackend = {
    create: wrap((spec, options) => keys.create(spec, options)),
    destroy: wrap((key) => keys.destroy(key)),
  };
  const publisher2: Publisher = {
    inspect: wrap(() => publisher.inspect()),
    publish: wrap(async (documents: PublicDocuments, expected?: LiveDocuments) => {
      try {
        const result = await publisher.publish(documents, unconditional ? undefined : expected);
        onPublish(documents);
        return result;
      } catch (error) {
        if (isIrsaError(error, 'PUBLISH_CONFLICT')) onConflict();
        throw error;
      }
    }),
  };
  return { store: store2, keys: keys2, publisher: publisher2 };
}
