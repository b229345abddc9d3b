import { describe, expect, it } from 'vitest';
import { assertNoPrivateMembers } from '#core/jwks.ts';
import type { Keyset } from '#core/keyset.ts';
import { DEFAULT_POLICY_INPUT, makePolicy } from '#core/policy.ts';
import type { Publisher } from '#core/ports.ts';
import { type RotationDeps, runRotation } from '#core/rotation-run.ts';
import {
  crashAtCall,
  InjectedCrash,
  MemoryKeyBackend,
  MemoryKeysetStore,
  MemoryPublisher,
  type PortHook,
} from '../../support/memory-adapters.ts';

const policy = makePolicy({ ...DEFAULT_POLICY_INPUT, keySpec: 'ECC_NIST_P256' });
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.parse('2026-03-01T00:00:00.000Z');
const ISSUER = 'https://oidc.example.com/prod';

function world(options: { initial?: Keyset; hook?: PortHook } = {}) {
  let now = T0;
  const clock = () => new Date(now);
  const store = new MemoryKeysetStore(options);
  const keys = new MemoryKeyBackend({ hook: options.hook });
  const publisher = new MemoryPublisher({ hook: options.hook, clock });
  const deps: RotationDeps = { store, keys, publisher, policy, cluster: 'prod', issuer: ISSUER, clock };
  return {
    store,
    keys,
    publisher,
    deps,
    setTime: (ms: number) => {
      now = ms;
    },
    keyset: () => store.peek() as Keyset,
  };
}

const types = (report: { steps: Array<{ action: { type: string } }> }) =>
  report.steps.map((s) => s.action.type);

describe('runRotation', () => {
  it('bootstraps on the first run: one active key, labelled, published, recorded', async () => {
    const w = world();
    const report = await runRotation(w.deps);
    expect(types(report)).toEqual(['bootstrap', 'publish']);
    expect(report.wrote).toBe(true);
    expect(report.published).toBe(true);
    const [key] = w.keyset().keys;
    expect(key).toMatchObject({ state: 'active', alg: 'ES256', activatedAt: new Date(T0).toISOString() });
    expect(key?.publishedAt).toBe(new Date(T0).toISOString());
    expect(w.keyset().lastPublish).toMatchObject({
      kids: [key?.kid],
      at: new Date(T0).toISOString(),
      issuer: ISSUER,
      // Written at revision 2 (1: the intent), published from it, recorded at 3.
      revision: 2,
    });
    expect(w.keyset().revision).toBe(3);
    expect(w.keyset().intent).toBeUndefined();
    expect(JSON.parse(w.publisher.last?.documents.jwks ?? '{}').irsa_anywhere_keyset_revision).toBe(2);
    expect(w.publisher.last?.kids).toEqual([key?.kid]);
    expect(w.keys.keys.get('memory-key-1')?.kid).toBe(key?.kid);
    expect(report.steps[0]?.kid).toBe(key?.kid);
    assertNoPrivateMembers(JSON.parse(w.publisher.last?.documents.jwks ?? ''));
  });

  it('in the steady state reads once and does nothing else', async () => {
    const w = world();
    await runRotation(w.deps);
    const before = { ...w.store.calls, ...w.keys.calls, ...w.publisher.calls };
    w.setTime(T0 + DAY);
    const report = await runRotation(w.deps);
    expect(report).toMatchObject({ steps: [], wrote: false, published: false });
    expect({ ...w.store.calls, ...w.keys.calls, ...w.publisher.calls }).toEqual({
      ...before,
      read: before.read + 1,
    });
  });

  it('walks a key through its whole life: pending, active, retired, unpublished, destroyed', async () => {
    const w = world();
    await runRotation(w.deps);
    const first = w.keyset().keys[0]?.kid;
    w.setTime(T0 + 6 * DAY);
    expect(types(await runRotation(w.deps))).toEqual(['create-pending', 'publish']);
    const second = w.keyset().keys.find((key) => key.state === 'pending')?.kid;
    expect(w.publisher.last?.kids).toEqual([first, second]);

    w.setTime(T0 + 7 * DAY);
    expect(types(await runRotation(w.deps))).toEqual(['promote']);
    expect(w.keyset().keys.map((key) => [key.kid, key.state])).toEqual([
      [first, 'retired'],
      [second, 'active'],
    ]);

    const retentionOver = T0 + 7 * DAY + policy.retentionSeconds * 1000;
    w.setTime(retentionOver - 1000);
    expect(types(await runRotation(w.deps))).toEqual([]);
    w.setTime(retentionOver);
    expect(types(await runRotation(w.deps))).toEqual(['delete', 'publish', 'destroy']);
    expect(w.keyset().keys.map((key) => key.kid)).toEqual([second]);
    expect(w.publisher.last?.kids).toEqual([second]);
    expect(w.keys.live().map((key) => key.kid)).toEqual([second]);
  });

  it('refuses a corrupt keyset and changes nothing', async () => {
    const w = world();
    w.store.setRaw('{"version": 1, "keys": [');
    await expect(runRotation(w.deps)).rejects.toMatchObject({ code: 'KEYSET_CORRUPT' });
    expect(w.store.raw()).toBe('{"version": 1, "keys": [');
    expect({ ...w.store.calls, ...w.keys.calls, ...w.publisher.calls }).toMatchObject({
      write: 0,
      create: 0,
      publish: 0,
    });
  });

  it('refuses a bad configured issuer before touching any port', async () => {
    const w = world();
    await expect(runRotation({ ...w.deps, issuer: `${ISSUER}/` })).rejects.toMatchObject({
      code: expect.stringMatching(/^ISSUER_/),
    });
    expect(w.store.calls.read).toBe(0);
  });

  it('refuses the keyset of another cluster', async () => {
    const w = world();
    await runRotation(w.deps);
    await expect(runRotation({ ...w.deps, cluster: 'staging' })).rejects.toMatchObject({
      code: 'KEYSET_CLUSTER_MISMATCH',
    });
  });

  it('rotate --now: a new key signs at once, published first; the old one stays published', async () => {
    const w = world();
    await runRotation(w.deps);
    const old = w.keyset().keys[0]?.kid;
    w.setTime(T0 + HOUR);
    const report = await runRotation(w.deps, { rotateNow: true });
    expect(types(report)).toEqual(['create-pending', 'publish', 'rotate-now']);
    const fresh = w.keyset().keys.find((key) => key.state === 'active');
    expect(fresh?.kid).not.toBe(old);
    expect(w.publisher.last?.kids).toContain(fresh?.kid);
    expect(w.publisher.last?.kids).toContain(old);
    expect(w.keyset().keys.find((key) => key.kid === old)?.state).toBe('retired');
    expect(types(await runRotation(w.deps))).toEqual([]);
  });

  it('rotate --revoke of the active key: a new key signs, the revoked key is unpublished and destroyed', async () => {
    const w = world();
    await runRotation(w.deps);
    const old = w.keyset().keys[0]?.kid as string;
    const report = await runRotation(w.deps, { revoke: old });
    expect(types(report)).toEqual(['revoke', 'publish', 'destroy']);
    expect(w.publisher.last?.kids).not.toContain(old);
    expect(w.keyset().keys).toHaveLength(1);
    expect(w.keyset().keys[0]?.state).toBe('active');
    expect(w.keys.keys.get('memory-key-1')?.destroyed).toBe(true);
  });

  it('rotate --revoke of an unknown kid fails and writes nothing', async () => {
    const w = world();
    await runRotation(w.deps);
    const writes = w.store.calls.write;
    await expect(runRotation(w.deps, { revoke: 'x'.repeat(43) })).rejects.toMatchObject({
      code: 'REVOKE_UNKNOWN_KID',
    });
    expect(w.store.calls.write).toBe(writes);
  });

  it('follows a new issuer: records it and republishes the documents for it', async () => {
    const w = world();
    await runRotation(w.deps);
    const report = await runRotation({ ...w.deps, issuer: 'https://oidc.example.com/new' });
    expect(types(report)).toEqual(['set-issuer', 'publish']);
    expect(w.publisher.last?.issuer).toBe('https://oidc.example.com/new');
    expect(w.keyset().lastPublish?.issuer).toBe('https://oidc.example.com/new');
  });

  it('a race lost on the intent write creates no key at all', async () => {
    const w = world();
    await runRotation(w.deps);
    w.setTime(T0 + 6 * DAY);
    let raced = false;
    w.store.hook = (call) => {
      if (call.op === 'write' && call.phase === 'before' && !raced) {
        raced = true;
        const other = w.store.peek() as Keyset;
        w.store.setRaw(JSON.stringify({ ...other, updatedAt: new Date(T0 + 6 * DAY).toISOString() }));
      }
    };
    const report = await runRotation(w.deps);
    expect(types(report)).toEqual(['create-pending', 'publish']);
    expect(w.store.calls.conflicts).toBe(1);
    expect(w.keys.calls).toMatchObject({ create: 2, destroy: 0 });
    expect(w.keys.live()).toHaveLength(2);
    expect(w.keys.live().map((key) => key.location.keyId)).toEqual(
      w.keyset().keys.map((key) => (key.location.type === 'kms' ? key.location.keyId : '')),
    );
  });

  it('a race lost after creating adopts the key it created (its intent is still open): none is orphaned', async () => {
    const w = world();
    await runRotation(w.deps);
    w.setTime(T0 + 6 * DAY);
    let writes = 0;
    w.store.hook = (call) => {
      if (call.op === 'write' && call.phase === 'before' && ++writes === 2) {
        const other = w.store.peek() as Keyset;
        w.store.setRaw(JSON.stringify({ ...other, updatedAt: new Date(T0 + 6 * DAY).toISOString() }));
      }
    };
    const report = await runRotation(w.deps);
    expect(types(report)).toEqual(['reconcile', 'publish']);
    expect(w.store.calls.conflicts).toBe(1);
    expect(w.keys.calls).toMatchObject({ create: 2, destroy: 0 });
    expect(w.keyset().keys.map((key) => key.state)).toEqual(['active', 'pending']);
    expect(w.keys.live()).toHaveLength(2);
    expect(w.keys.live().map((key) => key.location.keyId)).toEqual(
      w.keyset().keys.map((key) => (key.location.type === 'kms' ? key.location.keyId : '')),
    );
  });

  it('publishes again after losing a race right after a publish', async () => {
    const w = world();
    await runRotation(w.deps);
    w.setTime(T0 + 6 * DAY);
    let writes = 0;
    w.store.hook = (call) => {
      // 1: the intent, 2: the new key, 3: the publish record.
      if (call.op === 'write' && call.phase === 'before' && ++writes === 3) {
        w.store.setRaw(w.store.raw() ?? '');
      }
    };
    const report = await runRotation(w.deps);
    expect(types(report)).toEqual(['create-pending', 'publish']);
    expect(w.publisher.calls.publish).toBe(3);
    expect(w.keyset().lastPublish?.kids).toEqual(w.publisher.last?.kids);
  });

  it('never publishes documents older than a concurrent run published (conditional publish)', async () => {
    // Run A is about to publish documents computed from a keyset that run B then changes (B revokes
    // a key, publishes and records). A's publish is conditional on the documents A saw before it
    // read the keyset: it is refused, A re-reads, and the revoked key is never public again.
    const w = world();
    await runRotation(w.deps);
    w.setTime(T0 + 6 * DAY);
    await runRotation(w.deps);
    w.setTime(T0 + 7 * DAY);
    await runRotation(w.deps);
    const retired = w.keyset().keys.find((key) => key.state === 'retired')?.kid as string;
    w.setTime(T0 + 7 * DAY + HOUR);
    // Move the issuer away, so that A (configured with ISSUER) has a set-issuer and a publish to do.
    await runRotation({ ...w.deps, issuer: 'https://oidc.example.com/next' }, {});
    let gate: (() => Promise<unknown>) | undefined = () => runRotation(w.deps, { revoke: retired });
    const gated: Publisher = {
      inspect: () => w.publisher.inspect(),
      publish: async (documents, expected) => {
        const other = gate;
        gate = undefined;
        if (other !== undefined) await other();
        return w.publisher.publish(documents, expected);
      },
    };
    const before = w.publisher.published.length;
    const report = await runRotation({ ...w.deps, publisher: gated });
    expect(types(report)).toEqual(['set-issuer']);
    const after = w.publisher.published.slice(before);
    expect(after.length).toBeGreaterThan(0);
    for (const record of after) expect(record.kids).not.toContain(retired);
    expect(w.publisher.last?.kids).toEqual(w.keyset().lastPublish?.kids);
  });

  it('gives up with STATE_CONFLICT when the keyset keeps changing', async () => {
    const w = world();
    await runRotation(w.deps);
    w.setTime(T0 + 6 * DAY);
    w.store.hook = (call) => {
      if (call.op === 'write' && call.phase === 'before') w.store.setRaw(w.store.raw() ?? '');
    };
    await expect(runRotation(w.deps)).rejects.toMatchObject({ code: 'STATE_CONFLICT' });
    expect(w.keys.live()).toHaveLength(1);
  });

  it('repairs after a crash right after a publish: the next run records it', async () => {
    const w = world();
    // store.read(2) write-intent(2) create(2) label(2) write(2) publish.before, publish.after
    const crash = crashAtCall(12);
    w.publisher.hook = crash;
    w.keys.hook = crash;
    w.store.hook = crash;
    await expect(runRotation(w.deps)).rejects.toBeInstanceOf(InjectedCrash);
    expect(crash.fired()).toBe(true);
    expect(w.publisher.calls.publish).toBe(1);
    expect(w.keyset().lastPublish).toBeUndefined();
    w.setTime(T0 + 1000);
    expect(types(await runRotation(w.deps))).toEqual(['publish']);
    expect(w.keyset().keys[0]?.publishedAt).toBe(new Date(T0 + 1000).toISOString());
  });
});
