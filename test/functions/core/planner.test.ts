import { describe, expect, it } from 'vitest';
import { IrsaError } from '#core/errors.ts';
import type { KeyRecord, Keyset } from '#core/keyset.ts';
import { type Action, activeKey, nextTransition, plan } from '#core/planner.ts';
import { DEFAULT_POLICY_INPUT, makePolicy } from '#core/policy.ts';

const policy = makePolicy(DEFAULT_POLICY_INPUT); // 7 d period, 24 h lead, retention 87,900 s
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.parse('2026-03-01T00:00:00.000Z');
const iso = (ms: number): string => new Date(ms).toISOString();
const at = (ms: number): Date => new Date(ms);
const ISSUER = 'https://oidc.example.com/prod';

/** A record with a made-up kid: the planner never looks inside keys. */
function rec(kid: string, state: KeyRecord['state'], fields: Partial<KeyRecord> = {}): KeyRecord {
  return {
    kid,
    alg: 'ES256',
    keySpec: 'ECC_NIST_P256',
    state,
    publicKeySpki: 'AAAA',
    location: { type: 'kms', keyId: kid },
    createdAt: iso(T0),
    ...fields,
  };
}

/** A keyset whose last publish holds exactly its pending, active and retired keys. */
function keyset(keys: KeyRecord[], published = true): Keyset {
  const doc: Keyset = { version: 1, cluster: 'prod', issuer: ISSUER, keys, updatedAt: iso(T0) };
  if (published) {
    doc.lastPublish = {
      kids: keys.filter((key) => key.state !== 'deleted').map((key) => key.kid),
      at: iso(T0),
      issuer: ISSUER,
    };
  }
  return doc;
}

const A = rec('A', 'active', { activatedAt: iso(T0), publishedAt: iso(T0) });
const types = (actions: Action[]): string[] => actions.map((action) => action.type);

describe('plan: the scheduled lifecycle', () => {
  it('bootstraps when there is no keyset, and when the keyset has no keys', () => {
    expect(plan(null, policy, at(T0))).toEqual([
      { type: 'bootstrap', keySpec: 'RSA_2048', reason: expect.any(String) },
    ]);
    expect(types(plan(keyset([], false), policy, at(T0)))).toEqual(['bootstrap', 'publish']);
  });

  it('does nothing in the steady state', () => {
    expect(plan(keyset([A]), policy, at(T0 + DAY))).toEqual([]);
  });

  it('creates a pending key once the active key is rotationPeriod - publishLead old, not a second earlier', () => {
    const due = T0 + 7 * DAY - 24 * HOUR;
    expect(plan(keyset([A]), policy, at(due - 1000))).toEqual([]);
    expect(plan(keyset([A]), policy, at(due))).toEqual([
      { type: 'create-pending', keySpec: 'RSA_2048', reason: expect.stringContaining('due for rotation') },
    ]);
  });

  it('publishes a pending key that is not published yet, and does not promote it', () => {
    const P = rec('P', 'pending');
    const ks = keyset([A, P]);
    ks.lastPublish = { kids: ['A'], at: iso(T0), issuer: ISSUER };
    expect(plan(ks, policy, at(T0 + 30 * DAY))).toEqual([
      { type: 'publish', kids: ['A', 'P'], reason: expect.stringContaining('lacks P') },
    ]);
  });

  it('promotes a pending key after it has been published for publishLead, retiring the active key', () => {
    const publishedAt = T0 + 6 * DAY;
    const ks = keyset([A, rec('P', 'pending', { publishedAt: iso(publishedAt) })]);
    expect(plan(ks, policy, at(publishedAt + 24 * HOUR - 1000))).toEqual([]);
    expect(plan(ks, policy, at(publishedAt + 24 * HOUR))).toEqual([
      { type: 'promote', kid: 'P', retire: ['A'], mode: 'scheduled', reason: expect.any(String) },
    ]);
  });

  it('never promotes a pending key that the last publish does not hold', () => {
    const ks = keyset([A, rec('P', 'pending', { publishedAt: iso(T0) })]);
    ks.lastPublish = { kids: ['A'], at: iso(T0), issuer: ISSUER };
    expect(types(plan(ks, policy, at(T0 + 30 * DAY)))).toEqual(['publish']);
  });

  it('deletes a retired key exactly when retention is over, publishes, then destroys', () => {
    const retiredAt = T0 + DAY;
    const R = rec('R', 'retired', { retiredAt: iso(retiredAt), publishedAt: iso(T0) });
    const over = retiredAt + policy.retentionSeconds * 1000;
    expect(plan(keyset([A, R]), policy, at(over - 1000))).toEqual([]);
    expect(plan(keyset([A, R]), policy, at(over))).toEqual([
      { type: 'delete', kid: 'R', reason: expect.any(String) },
    ]);

    const deleted = rec('R', 'deleted', { retiredAt: iso(retiredAt), deletedAt: iso(over) });
    const before = keyset([A, deleted]);
    before.lastPublish = { kids: ['A', 'R'], at: iso(T0), issuer: ISSUER };
    expect(plan(before, policy, at(over))).toEqual([
      { type: 'publish', kids: ['A'], reason: expect.stringContaining('still holds R') },
    ]);

    const after = keyset([A, { ...deleted, unpublishedAt: iso(over) }]);
    expect(plan(after, policy, at(over))).toEqual([
      { type: 'destroy', kid: 'R', reason: expect.any(String) },
    ]);
  });

  it('publishes for a deleted key without unpublishedAt even when the JWKS already lacks it, before destroying', () => {
    const ks = keyset([A, rec('D', 'deleted', { deletedAt: iso(T0) })]);
    expect(types(plan(ks, policy, at(T0)))).toEqual(['publish']);
  });

  it('lists everything due in application order', () => {
    const R = rec('R', 'retired', { retiredAt: iso(T0 - 30 * DAY), publishedAt: iso(T0 - 40 * DAY) });
    const P = rec('P', 'pending', { publishedAt: iso(T0 - 2 * DAY) });
    const D = rec('D', 'deleted', { deletedAt: iso(T0 - DAY), unpublishedAt: iso(T0 - DAY) });
    expect(types(plan(keyset([A, R, P, D]), policy, at(T0)))).toEqual(['delete', 'promote', 'destroy']);
  });

  it('stops creating keys of a type at 100 published keys (the AWS limit)', () => {
    const many = Array.from({ length: 99 }, (_, index) =>
      rec(`R${index}`, 'retired', { retiredAt: iso(T0 + 20 * DAY), publishedAt: iso(T0) }),
    );
    const ecPolicy = { ...policy, keySpec: 'ECC_NIST_P256' as const };
    expect(plan(keyset([A, ...many]), ecPolicy, at(T0 + 20 * DAY))).toEqual([]);
    expect(types(plan(keyset([A, ...many]), policy, at(T0 + 20 * DAY)))).toEqual(['create-pending']);
  });
});

describe('plan: repair', () => {
  it('retires all but the newest of several active keys', () => {
    const newer = rec('B', 'active', { activatedAt: iso(T0 + HOUR), publishedAt: iso(T0) });
    const oldest = rec('C', 'active', { activatedAt: iso(T0 - HOUR), publishedAt: iso(T0) });
    expect(types(plan(keyset([A, newer, oldest]), policy, at(T0 + 2 * HOUR)))).toEqual(['retire', 'retire']);
    expect(
      plan(keyset([A, newer, oldest]), policy, at(T0 + 2 * HOUR)).map((a) => 'kid' in a && a.kid),
    ).toEqual(['A', 'C']);
    expect(activeKey(keyset([A, newer, oldest]))?.kid).toBe('B');
  });

  it('promotes a pending key at once when no key is active, preferring the one published first', () => {
    const late = rec('L', 'pending', { publishedAt: iso(T0 + HOUR) });
    const early = rec('E', 'pending', { publishedAt: iso(T0) });
    expect(plan(keyset([late, early]), policy, at(T0 + 2 * HOUR))[0]).toEqual({
      type: 'promote',
      kid: 'E',
      retire: [],
      mode: 'repair',
      reason: expect.stringContaining('no active key'),
    });
  });

  it('bootstraps when only retired or deleted keys are left', () => {
    const R = rec('R', 'retired', { retiredAt: iso(T0), publishedAt: iso(T0) });
    expect(plan(keyset([R]), policy, at(T0))[0]?.type).toBe('bootstrap');
  });

  it('follows a changed issuer: set-issuer, then a publish for the new issuer', () => {
    const ks = keyset([A]);
    expect(plan(ks, policy, at(T0), { issuer: 'https://new.example.com' })).toEqual([
      { type: 'set-issuer', issuer: 'https://new.example.com', previous: ISSUER, reason: expect.any(String) },
    ]);
    expect(types(plan({ ...ks, issuer: 'https://new.example.com' }, policy, at(T0)))).toEqual(['publish']);
  });

  it('publishes again when asked to (after a lost race on publish) and not otherwise', () => {
    expect(types(plan(keyset([A]), policy, at(T0), { republish: true }))).toEqual(['publish']);
  });
});

describe('plan: rotate --now', () => {
  it('creates a key when there is no pending key, whatever the active key’s age', () => {
    expect(types(plan(keyset([A]), policy, at(T0), { rotateNow: true }))).toEqual(['create-pending']);
  });

  it('publishes an unpublished pending key first', () => {
    const ks = keyset([A, rec('P', 'pending')]);
    ks.lastPublish = { kids: ['A'], at: iso(T0), issuer: ISSUER };
    expect(types(plan(ks, policy, at(T0), { rotateNow: true }))).toEqual(['publish']);
  });

  it('makes a published pending key active at once, ignoring the publish lead; the old key stays published', () => {
    const ks = keyset([A, rec('P', 'pending', { publishedAt: iso(T0) })]);
    expect(plan(ks, policy, at(T0 + 1000), { rotateNow: true })).toEqual([
      { type: 'rotate-now', kid: 'P', retire: ['A'], reason: expect.any(String) },
    ]);
  });
});

describe('plan: rotate --revoke', () => {
  it('refuses an unknown kid, with or without a keyset', () => {
    for (const ks of [null, keyset([A])]) {
      expect(() => plan(ks, policy, at(T0), { revoke: 'nope' })).toThrow(
        expect.objectContaining({ code: 'REVOKE_UNKNOWN_KID' }),
      );
    }
    expect(() => plan(null, policy, at(T0), { revoke: 'nope' })).toThrow(IrsaError);
  });

  it('revokes a retired key before anything else, with no replacement', () => {
    const R = rec('R', 'retired', { retiredAt: iso(T0), publishedAt: iso(T0) });
    expect(plan(keyset([A, R]), policy, at(T0 + 30 * DAY), { revoke: 'R' })[0]).toEqual({
      type: 'revoke',
      kid: 'R',
      reason: expect.any(String),
    });
  });

  it('replaces a revoked active key with the pending key, or with a new key', () => {
    const P = rec('P', 'pending');
    expect(plan(keyset([A, P]), policy, at(T0), { revoke: 'A' })[0]).toMatchObject({
      kid: 'A',
      promote: 'P',
    });
    expect(plan(keyset([A]), policy, at(T0), { revoke: 'A' })[0]).toMatchObject({
      kid: 'A',
      create: 'RSA_2048',
    });
  });

  it('does nothing more for a key already revoked', () => {
    const D = rec('D', 'deleted', { deletedAt: iso(T0), unpublishedAt: iso(T0), revoked: true });
    const ks = keyset([A, D]);
    expect(types(plan(ks, policy, at(T0), { revoke: 'D' }))).toEqual(['destroy']);
  });
});

describe('plan is pure', () => {
  it('does not modify its input', () => {
    const ks = keyset([A, rec('R', 'retired', { retiredAt: iso(T0 - 30 * DAY) })]);
    const frozen = JSON.parse(JSON.stringify(ks));
    plan(ks, policy, at(T0 + 30 * DAY), { rotateNow: true, revoke: 'R', issuer: 'https://x.example' });
    expect(ks).toEqual(frozen);
  });
});

describe('nextTransition', () => {
  it('is now when something is due, also when there is no keyset yet', () => {
    expect(nextTransition(keyset([], false), policy, at(T0))).toEqual({
      at: at(T0),
      description: expect.any(String),
    });
    expect(nextTransition(null, policy, at(T0))?.at).toEqual(at(T0));
  });

  it('names the next pending key creation in the steady state', () => {
    expect(nextTransition(keyset([A]), policy, at(T0 + DAY))).toEqual({
      at: at(T0 + 6 * DAY),
      description: expect.stringContaining('create the next key'),
    });
  });

  it('names the earliest of promotion and end of retention', () => {
    const P = rec('P', 'pending', { publishedAt: iso(T0) });
    const R = rec('R', 'retired', { retiredAt: iso(T0 - 23 * HOUR), publishedAt: iso(T0 - DAY) });
    const next = nextTransition(keyset([A, P, R]), policy, at(T0 + HOUR));
    expect(next?.at).toEqual(at(T0 - 23 * HOUR + policy.retentionSeconds * 1000));
    expect(next?.description).toContain('unpublish retired key R');
    expect(nextTransition(keyset([A, P]), policy, at(T0 + HOUR))).toEqual({
      at: at(T0 + 24 * HOUR),
      description: 'promote pending key P',
    });
  });
});
