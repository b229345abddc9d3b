/**
 * The keyset as the signer serves it: read at start, re-read every refresh interval, and kept
 * when a re-read fails (S3 briefly unreachable must not stop token issuance). Every key is
 * checked against its kid before it is served or used.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { formatError, IrsaError, isIrsaError } from '#core/errors.ts';
import { type KeyRecord, type Keyset, PUBLISHED_STATES } from '#core/keyset.ts';
import { kidFromSpki } from '#core/kid.ts';
import type { Clock, KeysetStore } from '#core/ports.ts';
import type { SignerLog } from './log.ts';

/** A public key checked against its kid. */
export interface ServedKey {
  kid: string;
  record: KeyRecord;
  spki: Buffer;
  publicKey: KeyObject;
}

/** One successful read of the keyset, checked. */
export interface KeysetSnapshot {
  readAt: Date;
  /** Keys that are not deleted (pending, active, retired), in keyset order. */
  keys: ServedKey[];
  /** The one active key, or null when the keyset has none (or more than one) that checks out. */
  active: ServedKey | null;
}

/** The read half of a {@link KeysetStore}: all the signer needs. */
export type KeysetSource = Pick<KeysetStore, 'read'>;

function checkKey(record: KeyRecord, log: SignerLog): ServedKey | null {
  try {
    const spki = Buffer.from(record.publicKeySpki, 'base64');
    const kid = kidFromSpki(spki);
    if (kid !== record.kid) {
      log.log('error', 'keyset key skipped: kid does not match its public key', {
        code: 'SIGNER_KID_MISMATCH',
        kid: record.kid,
        computedKid: kid,
      });
      return null;
    }
    const publicKey = createPublicKey({ key: spki, format: 'der', type: 'spki' });
    return { kid, record, spki, publicKey };
  } catch (error) {
    log.log('error', 'keyset key skipped: public key does not parse', {
      code: 'SIGNER_KEY_INVALID',
      kid: record.kid,
      error: formatError(error),
    });
    return null;
  }
}

/** Checks a keyset and picks the keys to serve. Bad keys are logged and skipped, never served. */
export function snapshotOf(keyset: Keyset, readAt: Date, log: SignerLog): KeysetSnapshot {
  const keys: ServedKey[] = [];
  for (const record of keyset.keys) {
    if (!PUBLISHED_STATES.has(record.state) || record.revoked === true) continue;
    const served = checkKey(record, log);
    if (served !== null) keys.push(served);
  }
  const actives = keys.filter((k) => k.record.state === 'active');
  if (actives.length > 1) {
    log.log('error', 'keyset has more than one active key; refusing to sign until it is repaired', {
      code: 'SIGNER_MANY_ACTIVE',
      kids: actives.map((k) => k.kid),
    });
  }
  const active = actives.length === 1 ? (actives[0] ?? null) : null;
  if (actives.length === 0) {
    log.log('error', 'keyset has no usable active key; Sign fails until the rotation makes one active', {
      code: 'SIGNER_NO_ACTIVE_KEY',
      kids: keys.map((k) => k.kid),
    });
  }
  return { readAt, keys, active };
}

/** Holds the last good keyset snapshot and refreshes it on a timer. */
export class KeysetCache {
  #snapshot: KeysetSnapshot | null = null;
  #timer: NodeJS.Timeout | undefined;
  #refreshing: Promise<void> | undefined;

  constructor(
    private readonly deps: {
      source: KeysetSource;
      clock: Clock;
      log: SignerLog;
      describe: string;
      /** Metrics hook for a failed re-read; absent when metrics are off. */
      onReadFailure?: (error: unknown) => void;
    },
  ) {}

  /** The last good snapshot, or null before the first successful read. */
  get snapshot(): KeysetSnapshot | null {
    return this.#snapshot;
  }

  async #read(): Promise<KeysetSnapshot> {
    const readAt = this.deps.clock();
    const versioned = await this.deps.source.read();
    if (versioned === null) {
      throw new IrsaError(
        'SIGNER_KEYSET_MISSING',
        `No keyset at ${this.deps.describe}.`,
        'Deploy the stack (its bootstrap creates the first key) or start the local issuer (`irsa-anywhere local --dir <dir>`), then start the signer again.',
      );
    }
    return snapshotOf(versioned.keyset, readAt, this.deps.log);
  }

  /** First read. Throws when it fails: a signer with no keys must not start. */
  async load(): Promise<KeysetSnapshot> {
    const snapshot = await this.#read();
    this.#snapshot = snapshot;
    this.deps.log.log('info', 'keyset loaded', {
      source: this.deps.describe,
      kids: snapshot.keys.map((k) => k.kid),
      active: snapshot.active?.kid ?? null,
    });
    return snapshot;
  }

  /** Re-reads once; on failure keeps the last good snapshot and logs why. Never throws. */
  refresh(): Promise<void> {
    this.#refreshing ??= this.#read()
      .then((snapshot) => {
        const before = this.#snapshot;
        this.#snapshot = snapshot;
        const kids = snapshot.keys.map((k) => k.kid).join(',');
        if (
          before === null ||
          before.keys.map((k) => k.kid).join(',') !== kids ||
          before.active?.kid !== snapshot.active?.kid
        ) {
          this.deps.log.log('info', 'keyset changed', {
            kids: snapshot.keys.map((k) => k.kid),
            active: snapshot.active?.kid ?? null,
          });
        }
      })
      .catch((error: unknown) => {
        const last = this.#snapshot;
        this.deps.onReadFailure?.(error);
        this.deps.log.log('warn', 'keyset refresh failed; serving the last good keyset', {
          code: isIrsaError(error) ? error.code : 'SIGNER_KEYSET_READ_FAILED',
          error: formatError(error),
          lastGoodAgeSeconds:
            last === null ? null : Math.round((this.deps.clock().getTime() - last.readAt.getTime()) / 1000),
        });
      })
      .finally(() => {
        this.#refreshing = undefined;
      });
    return this.#refreshing;
  }

  /** Re-reads every `intervalMs` until {@link stop}. The timer does not keep the process alive. */
  start(intervalMs: number): void {
    this.stop();
    this.#timer = setInterval(() => void this.refresh(), intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
