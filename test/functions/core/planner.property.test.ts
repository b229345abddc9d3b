/**
 * Property tests of the key lifecycle (ARCHITECTURE.md, "Invariants") over random policies,
 * random histories of runs at random times (missed runs included), operator requests, crashes
 * injected at a random port call, and pairs of runs interleaved on one store.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assertNoPrivateMembers } from '#core/jwks.ts';
import type { KeyRecord, Keyset } from '#core/keyset.ts';
import { parseKeyset } from '#core/keyset-parse.ts';
import { INTENT_GRACE_SECONDS, type RotationRequest } from '#core/planner.ts';
import { makePolicy, type RotationPolicy } from '#core/policy.ts';
import type { KeysetStore } from '#core/ports.ts';
import { type RotationDeps, runRotation } from '#core/rotation-run.ts';
import {
  crashAtCall,
  InjectedCrash,
  MemoryKeyBackend,
  MemoryKeysetStore,
  MemoryPublisher,
  type PortCall,
  type PublishedRecord,
} from '../../support/memory-adapters.ts';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const ISSUERS = ['https://oidc.example.com/a', 'https://oidc.example.com/b'];

type Ask = 'none' | 'rotate-now' | 'revoke-active' | 'revoke-any' | 'switch-issuer';

interface RunSpec {
  /** Time since the previous run: seconds, or thousandths of a rotation period (missed runs). */
  gap: { seconds: number } | { perMille: number };
  ask: Ask;
  pick: number;
  /** Crash at this hook event (1-based), if any. */
  crashAt: number | null;
  /** Run a second run interleaved with this one. */
  concurrent: boolean;
  /** What the second run asks for. */
  concurrentAsk: Ask;
}

const policyArb = fc
  .record({
    jwksMaxAgeSeconds: fc.integer({ min: 60, max: 3600 }),
    nodeSyncLagSeconds: fc.integer({ min: 0, max: 3600 }),
    extraLeadHours: fc.integer({ min: 0, max: 48 }),
    extraPeriodDays: fc.integer({ min: 1, max: 10 }),
    maxTokenLifetimeSeconds: fc.integer({ min: 600, max: 3 * 86_400 }),
  })
  .map((p): RotationPolicy => {
    const publishLeadHours =
      Math.ceil((p.jwksMaxAgeSeconds + p.nodeSyncLagSeconds) / 3600) + p.extraLeadHours;
    return makePolicy({
      keySpec: 'ECC_NIST_P256',
      rotationPeriodDays: Math.ceil(publishLeadHours / 24) + p.extraPeriodDays,
      publishLeadHours,
      maxTokenLifetimeSeconds: p.maxTokenLifetimeSeconds,
      jwksMaxAgeSeconds: p.jwksMaxAgeSeconds,
      nodeSyncLagSeconds: p.nodeSyncLagSeconds,
    });
  });

const runArb: fc.Arbitrary<RunSpec> = fc.record({
  gap: fc.oneof(
    fc.record({ seconds: fc.integer({ min: 0, max: 7200 }) }),
    fc.record({ perMille: fc.integer({ min: 0, max: 400 }) }),
    fc.record({ perMille: fc.integer({ min: 0, max: 3000 }) }),
  ),
  ask: fc.oneof(
    { weight: 12, arbitrary: fc.constant<Ask>('none') },
    {
      weight: 1,
      arbitrary: fc.constantFrom<Ask>('rotate-now', 'revoke-active', 'revoke-any', 'switch-issuer'),
    },
  ),
  pick: fc.nat(),
  crashAt: fc.option(fc.integer({ min: 1, max: 30 }), { freq: 3, nil: null }),
  concurrent: fc.integer({ min: 0, max: 3 }).map((n) => n === 0),
  concurrentAsk: fc.constantFrom<Ask>('none', 'none', 'rotate-now', 'revoke-active', 'revoke-any'),
});

/** One cluster: shared ports, the clock, and everything observed so far. */
class Sim {
  now = T0;
  issuer = ISSUERS[0] as string;
  readonly store = new MemoryKeysetStore();
  readonly keys = new MemoryKeyBackend();
  readonly publisher = new MemoryPublisher({ clock: () => new Date(this.now) });
  /** The request of the run that made each write in `store.history`. */
  readonly writeOwners: RotationRequest[] = [];
  /** The latest record seen for every kid ever written (records are dropped after destroy). */
  readonly seen = new Map<string, KeyRecord>();
  /** Backend keyIds created in runs that crashed (must all be adopted or destroyed after repair). */
  readonly mayBeOrphaned = new Set<string>();
  private checkedWrites = 0;
  private checkedPublishes = 0;
  /** The publish that removals are measured from: the last one outside a race. */
  private baseline: PublishedRecord | undefined;
  private racing = false;
  private crash: ((call: PortCall) => void) | undefined;

  constructor(readonly policy: RotationPolicy) {
    const hook = (call: PortCall): void => {
      // While two runs race, the loser may briefly publish stale documents (it republishes after
      // its lost CAS); the documents are checked once the race is over, in checkRemovals.
      if (call.op === 'destroy' && call.phase === 'before' && call.kid !== undefined && !this.racing) {
        expect(this.publisher.last?.kids ?? [], `destroyed ${call.kid} while published`).not.toContain(
          call.kid,
        );
      }
      this.crash?.(call);
    };
    this.store.hook = hook;
    this.keys.hook = hook;
    this.publisher.hook = hook;
  }

  /**
   * Ports for one run. With `seed`, every call first waits a pseudo-random number of event-loop
   * turns, so two concurrent runs interleave differently from one history to the next.
   */
  deps(request: RotationRequest, seed?: number): RotationDeps {
    const { store, writeOwners, keys, publisher } = this;
    let state = seed ?? 0;
    const pause = async (): Promise<void> => {
      if (seed === undefined) return;
      state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
      for (let turns = state % 4; turns > 0; turns -= 1)
        await new Promise((resolve) => setImmediate(resolve));
    };
    const paused =
      <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
      async (...args: A): Promise<R> => {
        await pause();
        return call(...args);
      };
    const tagged: KeysetStore = {
      read: async () => {
        await pause();
        return store.read();
      },
      write: async (keyset, version) => {
        await pause();
        const index = store.history.length;
        const result = store.write(keyset, version);
        if (store.history.length > index) writeOwners[index] = request;
        return result;
      },
    };
    return {
      store: tagged,
      keys: {
        create: paused((spec, options) => keys.create(spec, options)),
        label: paused((location, kid) => keys.label(location, kid)),
        destroy: paused((record) => keys.destroy(record)),
        findIntentKeys: paused((intent) => keys.findIntentKeys(intent)),
      },
      publisher: {
        inspect: paused(() => publisher.inspect()),
        publish: paused((documents, expected) => publisher.publish(documents, expected)),
      },
      policy: this.policy,
      cluster: 'sim',
      issuer: this.issuer,
      clock: () => new Date(this.now),
    };
  }

  request(ask: Ask, pick: number): RotationRequest {
    const keyset = this.store.peek();
    const live = keyset?.keys.filter((key) => key.state !== 'deleted') ?? [];
    if (ask === 'rotate-now') return { rotateNow: true };
    if (ask === 'revoke-active') {
      const active = live.find((key) => key.state === 'active');
      return active === undefined ? {} : { revoke: active.kid };
    }
    if (ask === 'revoke-any' && keyset !== null && keyset.keys.length > 0) {
      return { revoke: (keyset.keys[pick % keyset.keys.length] as KeyRecord).kid };
    }
    if (ask === 'switch-issuer')
      this.issuer = this.issuer === ISSUERS[0] ? (ISSUERS[1] as string) : (ISSUERS[0] as string);
    return {};
  }

  async run(spec: RunSpec): Promise<void> {
    this.now +=
      'seconds' in spec.gap ? spec.gap.seconds * 1000 : this.policy.rotationPeriodSeconds * spec.gap.perMille;
    const activeBefore = this.store.peek()?.keys.find((key) => key.state === 'active')?.kid;
    const request = this.request(spec.ask, spec.pick);
    const second = spec.concurrent ? this.request(spec.concurrentAsk, spec.pick + 1) : {};
    const crash = spec.crashAt === null ? undefined : crashAtCall(spec.crashAt);
    this.crash = crash;
    const createdBefore = new Set(this.keys.keys.keys());
    const runs = [runRotation(this.deps(request, spec.concurrent ? spec.pick : undefined), request)];
    if (spec.concurrent) runs.push(runRotation(this.deps(second, spec.pick + 7), second));
    this.racing = spec.concurrent;
    const results = await Promise.allSettled(runs);
    this.racing = false;
    this.crash = undefined;
    const failures = results.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
    for (const failure of failures) {
      const code = (failure as { code?: string }).code;
      // A racing run may find that the kid it was asked to revoke was already destroyed by the other.
      // A racing run may find that the other run holds an intent its request must wait for.
      const expected =
        code === 'STATE_CONFLICT' ||
        (spec.concurrent && (code === 'REVOKE_UNKNOWN_KID' || code === 'INTENT_OPEN'));
      if (!(failure instanceof InjectedCrash) && !expected) throw failure;
    }
    if (failures.length > 0) {
      for (const keyId of this.keys.keys.keys()) if (!createdBefore.has(keyId)) this.mayBeOrphaned.add(keyId);
    }
    this.checkHistory(spec.concurrent);
    // Whatever happened, the next scheduled run completes, and everything holds after it. After a
    // failure it runs once an intent the failed run may have left open counts as abandoned.
    if (failures.length > 0 || spec.concurrent) {
      if (failures.length > 0) this.now += (INTENT_GRACE_SECONDS + 60) * 1000;
      await runRotation(this.deps({}));
      this.checkHistory(false);
    }
    if (spec.concurrent) {
      this.checkRemovals(this.baseline, this.publisher.last);
      this.baseline = this.publisher.last;
    }
    this.checkCompleted();
    if (results[0]?.status === 'fulfilled') this.checkRequestDone(request, activeBefore);
    await this.checkSteadyState();
  }

  /** A run that completed did what it was asked. */
  private checkRequestDone(request: RotationRequest, activeBefore: string | undefined): void {
    const keyset = this.store.peek() as Keyset;
    if (request.revoke !== undefined) {
      expect(this.publisher.last?.kids).not.toContain(request.revoke);
      expect(keyset.keys.map((key) => key.kid)).not.toContain(request.revoke);
      const record = this.seen.get(request.revoke);
      const keyId = record?.location.type === 'kms' ? record.location.keyId : '';
      expect(this.keys.keys.get(keyId)?.destroyed, `revoked ${request.revoke} is destroyed`).toBe(true);
    }
    if (request.rotateNow === true) {
      expect(keyset.keys.find((key) => key.state === 'active')?.kid).not.toBe(activeBefore);
    }
  }

  /**
   * Checks every write and every publish since the last check. Publishes made while two runs
   * raced are checked for content only; removals are measured across the whole race instead.
   */
  private checkHistory(racing: boolean): void {
    const history = this.store.history;
    for (; this.checkedWrites < history.length; this.checkedWrites += 1) {
      const i = this.checkedWrites;
      const prev = i === 0 ? null : parseKeyset((history[i - 1] as { text: string }).text);
      const next = parseKeyset((history[i] as { text: string }).text);
      this.checkWrite(prev, next, this.writeOwners[i] ?? {});
      for (const key of next.keys) this.seen.set(key.kid, key);
    }
    const published = this.publisher.published;
    for (; this.checkedPublishes < published.length; this.checkedPublishes += 1) {
      const record = published[this.checkedPublishes];
      if (record === undefined) continue;
      assertNoPrivateMembers(record.jwks);
      assertNoPrivateMembers(JSON.parse(record.documents.discovery));
      expect(record.jwks.keys.filter((key) => key.kty === 'EC').length).toBeLessThanOrEqual(100);
      expect(record.jwks.keys.filter((key) => key.kty === 'RSA').length).toBeLessThanOrEqual(100);
      if (!racing) {
        this.checkRemovals(this.baseline, record);
        this.baseline = record;
      }
    }
  }

  /** A kid may leave the published JWKS only when revoked, or retired with retention over. */
  private checkRemovals(before: PublishedRecord | undefined, after: PublishedRecord | undefined): void {
    for (const kid of before?.kids ?? []) {
      if (after?.kids.includes(kid)) continue;
      const key = this.seen.get(kid);
      expect(key, `unknown kid ${kid} left the JWKS`).toBeDefined();
      if (key?.revoked === true) continue;
      expect(key?.retiredAt, `${kid} left the JWKS without being retired`).toBeDefined();
      expect(
        after?.at?.getTime() ?? 0,
        `${kid} left the JWKS before retention was over`,
      ).toBeGreaterThanOrEqual(Date.parse(key?.retiredAt ?? '') + this.policy.retentionSeconds * 1000);
    }
  }

  private firstPublished(kid: string): number | undefined {
    return this.publisher.published.find((record) => record.kids.includes(kid))?.at?.getTime();
  }

  /** Every write keeps exactly one active key, and a key only becomes active by an allowed path. */
  private checkWrite(prev: Keyset | null, next: Keyset, request: RotationRequest): void {
    const actives = next.keys.filter((key) => key.state === 'active');
    if (actives.length === 0) {
      // Only before the first key (the intent write, or a reconcile that found nothing): a write
      // never takes the last active key away.
      expect(prev?.keys.some((key) => key.state === 'active') ?? false, 'the active key was lost').toBe(
        false,
      );
      return;
    }
    expect(actives, 'every written keyset has exactly one active key').toHaveLength(1);
    // One linear history: a record leaves only as a deleted key whose private key is destroyed.
    for (const key of prev?.keys ?? []) {
      if (next.keys.some((candidate) => candidate.kid === key.kid)) continue;
      expect(key.state, `${key.kid} dropped from the keyset while ${key.state}`).toBe('deleted');
      const keyId = key.location.type === 'kms' ? key.location.keyId : '';
      expect(this.keys.keys.get(keyId)?.destroyed, `${key.kid} dropped but not destroyed`).toBe(true);
    }
    const prevActive = prev?.keys.find((key) => key.state === 'active');
    for (const key of actives) {
      const before = prev?.keys.find((candidate) => candidate.kid === key.kid);
      if (before?.state === 'active') continue;
      const activated = Date.parse(key.activatedAt ?? '');
      const revokedActive =
        prevActive !== undefined &&
        next.keys.some((k) => k.kid === prevActive.kid && k.state === 'deleted' && k.revoked === true);
      if (prevActive === undefined) {
        expect(before, 'bootstrap creates a new key').toBeUndefined();
        continue;
      }
      if (revokedActive && request.revoke === prevActive.kid) continue;
      expect(before?.state, `${key.kid} became active from pending`).toBe('pending');
      const published = this.firstPublished(key.kid);
      expect(published, `${key.kid} became active without being published`).toBeDefined();
      if (request.rotateNow === true) {
        expect(published ?? Number.POSITIVE_INFINITY).toBeLessThanOrEqual(activated);
      } else {
        expect(activated - (published ?? Number.POSITIVE_INFINITY)).toBeGreaterThanOrEqual(
          this.policy.publishLeadSeconds * 1000,
        );
      }
    }
  }

  /** After a completed run: one active key, published; the record matches what is public; keys are live. */
  private checkCompleted(): void {
    const keyset = this.store.peek() as Keyset;
    const active = keyset.keys.filter((key) => key.state === 'active');
    expect(active).toHaveLength(1);
    const last = this.publisher.last;
    expect(last?.kids).toContain(active[0]?.kid);
    expect(new Set(last?.kids)).toEqual(new Set(keyset.lastPublish?.kids));
    expect(last?.issuer).toBe(this.issuer);
    expect(keyset.keys.filter((key) => key.state === 'deleted')).toEqual([]);
    const live = new Set(this.keys.live().map((key) => key.location.keyId));
    for (const key of keyset.keys) {
      expect(key.location.type === 'kms' && live.has(key.location.keyId), `${key.kid} must be live`).toBe(
        true,
      );
    }
    const recorded = new Set(
      keyset.keys.map((key) => (key.location.type === 'kms' ? key.location.keyId : '')),
    );
    // Write-ahead intents: a key left by a failed run is adopted or destroyed by the next run.
    for (const keyId of live) expect(recorded.has(keyId), `${keyId} is orphaned`).toBe(true);
    expect(keyset.intent, 'no intent is left open after a completed run').toBeUndefined();
  }

  /** A run right after a completed run changes nothing: one read, no write, no publish, no key call. */
  private async checkSteadyState(): Promise<void> {
    const before = { ...this.store.calls, ...this.keys.calls, ...this.publisher.calls };
    const report = await runRotation(this.deps({}));
    expect(report).toMatchObject({ steps: [], wrote: false, published: false });
    expect({ ...this.store.calls, ...this.keys.calls, ...this.publisher.calls }).toEqual({
      ...before,
      read: before.read + 1,
    });
  }
}

describe('key lifecycle invariants over random histories', () => {
  it('hold after every run, with missed runs, emergencies, crashes and concurrent runs', async () => {
    await fc.assert(
      fc.asyncProperty(policyArb, fc.array(runArb, { minLength: 1, maxLength: 30 }), async (policy, runs) => {
        const sim = new Sim(policy);
        for (const spec of runs) await sim.run(spec);
      }),
      { numRuns: 120 },
    );
  });

  it('hold when every run races a second run on the same keyset (CAS keeps one history)', async () => {
    const racing = runArb.map((spec): RunSpec => ({ ...spec, concurrent: true, crashAt: null }));
    await fc.assert(
      fc.asyncProperty(policyArb, fc.array(racing, { minLength: 1, maxLength: 15 }), async (policy, runs) => {
        const sim = new Sim(policy);
        for (const spec of runs) await sim.run(spec);
      }),
      { numRuns: 60 },
    );
  });

  it('a key signs only after publishLead, and a retired key stays published for the whole retention', async () => {
    // Hourly runs through several rotations: the schedule alone, measured against the policy.
    await fc.assert(
      fc.asyncProperty(policyArb, fc.integer({ min: 1800, max: 7200 }), async (policy, intervalSeconds) => {
        const sim = new Sim(policy);
        const end = T0 + 3 * policy.rotationPeriodSeconds * 1000;
        while (sim.now < end)
          await sim.run({
            gap: { seconds: intervalSeconds },
            ask: 'none',
            pick: 0,
            crashAt: null,
            concurrent: false,
            concurrentAsk: 'none',
          });
        const keyset = sim.store.peek() as Keyset;
        const active = keyset.keys.find((key) => key.state === 'active') as KeyRecord;
        // Rotation keeps the active key younger than the period plus one run interval.
        expect(sim.now - Date.parse(active.activatedAt ?? '')).toBeLessThanOrEqual(
          (policy.rotationPeriodSeconds + intervalSeconds) * 1000,
        );
        expect(sim.keys.calls.create).toBeGreaterThanOrEqual(3);
      }),
      { numRuns: 6 },
    );
  });
});
