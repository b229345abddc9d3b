/**
 * Properties of the planner around write-ahead intents (issue 12): while an intent is open nothing
 * that creates a key is planned; an abandoned intent (older than INTENT_GRACE_SECONDS) or the run's
 * own (`settleIntent`) is reconciled first; nothing is published while no key can sign. And the
 * keyset schema additions (revision, intent, lastPublish digests) round-trip, while documents
 * written before them still parse.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { KeyRecord, KeyState, Keyset } from '#core/keyset.ts';
import { parseKeyset, serializeKeyset } from '#core/keyset-parse.ts';
import { adoptionState, INTENT_GRACE_SECONDS, plan, type RotationRequest } from '#core/planner.ts';
import { DEFAULT_POLICY_INPUT, makePolicy } from '#core/policy.ts';
import { freshSpki, recordFor } from './key-fixtures.ts';

const policy = makePolicy({ ...DEFAULT_POLICY_INPUT, keySpec: 'ECC_NIST_P256' });
const T0 = Date.parse('2026-03-01T00:00:00.000Z');
const ISSUER = 'https://oidc.example.com/prod';
const SPKIS = Array.from({ length: 4 }, () => freshSpki('ECC_NIST_P256'));
const STATES: KeyState[] = ['pending', 'active', 'retired', 'deleted'];

const keysArb = fc
  .array(fc.record({ state: fc.constantFrom(...STATES), ageHours: fc.integer({ min: 0, max: 24 * 30 }) }), {
    maxLength: SPKIS.length,
  })
  .map((specs) =>
    specs.map((spec, index): KeyRecord => {
      const at = new Date(T0 - spec.ageHours * 3_600_000).toISOString();
      const extra: Partial<KeyRecord> = { publishedAt: at };
      if (spec.state === 'active') extra.activatedAt = at;
      if (spec.state === 'retired') extra.retiredAt = at;
      if (spec.state === 'deleted') extra.deletedAt = at;
      return recordFor(SPKIS[index] as Uint8Array, spec.state, at, 'ECC_NIST_P256', extra);
    }),
  );

const keysetArb = fc
  .record({
    keys: keysArb,
    intentAgeSeconds: fc.integer({ min: 0, max: 3 * INTENT_GRACE_SECONDS }),
    published: fc.boolean(),
  })
  .map(({ keys, intentAgeSeconds, published }): Keyset => {
    const at = new Date(T0 - intentAgeSeconds * 1000).toISOString();
    const keyset: Keyset = {
      version: 1,
      cluster: 'prod',
      issuer: ISSUER,
      keys,
      revision: 7,
      intent: { id: `7-${at.replace(/[-:.]/g, '')}`, keySpec: 'ECC_NIST_P256', createdAt: at },
      updatedAt: at,
    };
    if (published) keyset.lastPublish = { kids: keys.map((key) => key.kid), at, issuer: ISSUER, revision: 6 };
    return keyset;
  });

const requestArb = fc.record(
  { rotateNow: fc.boolean(), revokeIndex: fc.option(fc.nat(3), { nil: undefined }), settle: fc.boolean() },
  { requiredKeys: [] },
);

function requestFor(keyset: Keyset, spec: { rotateNow?: boolean; revokeIndex?: number; settle?: boolean }) {
  const request: RotationRequest = {};
  if (spec.rotateNow === true) request.rotateNow = true;
  const target = spec.revokeIndex === undefined ? undefined : keyset.keys[spec.revokeIndex];
  if (target !== undefined) request.revoke = target.kid;
  if (spec.settle === true && keyset.intent !== undefined) request.settleIntent = keyset.intent.id;
  return request;
}

describe('planner with an open intent', () => {
  it('never plans a key creation, reconciles first when abandoned or settled, and never publishes unsigned', () => {
    fc.assert(
      fc.property(keysetArb, requestArb, (keyset, spec) => {
        const request = requestFor(keyset, spec);
        const actions = plan(keyset, policy, new Date(T0), request);
        for (const action of actions) {
          expect(action.type).not.toBe('bootstrap');
          expect(action.type).not.toBe('create-pending');
          if (action.type === 'revoke') expect(action.create).toBeUndefined();
        }
        const intent = keyset.intent as NonNullable<Keyset['intent']>;
        const abandoned = Date.parse(intent.createdAt) + INTENT_GRACE_SECONDS * 1000 <= T0;
        const due = abandoned || request.settleIntent === intent.id;
        expect(actions[0]?.type === 'reconcile').toBe(due);
        expect(actions.filter((action) => action.type === 'reconcile')).toHaveLength(due ? 1 : 0);
        const signs =
          keyset.keys.some((key) => key.state === 'active') ||
          actions.some((a) => a.type === 'promote' || (a.type === 'revoke' && a.promote !== undefined));
        if (!signs) expect(actions.map((action) => action.type)).not.toContain('publish');
      }),
      { numRuns: 300 },
    );
  });

  it('without an intent plans exactly as before (no reconcile ever)', () => {
    fc.assert(
      fc.property(keysetArb, requestArb, (withIntent, spec) => {
        const { intent: _open, ...keyset } = withIntent;
        const request = requestFor(keyset, { ...spec, settle: false });
        const actions = plan(keyset, policy, new Date(T0), request);
        expect(actions.map((action) => action.type)).not.toContain('reconcile');
      }),
      { numRuns: 200 },
    );
  });

  it('adopts a found key as active when nothing signs, as pending beside an active key, else not at all', () => {
    fc.assert(
      fc.property(keysArb, (keys) => {
        const keyset: Keyset = {
          version: 1,
          cluster: 'prod',
          issuer: ISSUER,
          keys,
          updatedAt: '2026-03-01T00:00:00Z',
        };
        const state = adoptionState(keyset);
        const pending = keys.some((key) => key.state === 'pending');
        const active = keys.some((key) => key.state === 'active');
        expect(state).toBe(pending ? undefined : active ? 'pending' : 'active');
      }),
    );
  });
});

describe('keyset schema: revision, intent and digests', () => {
  it('round-trip through serialize and parse', () => {
    fc.assert(
      fc.property(keysetArb, (keyset) => {
        const withDigests: Keyset =
          keyset.lastPublish === undefined
            ? keyset
            : {
                ...keyset,
                lastPublish: {
                  ...keyset.lastPublish,
                  jwksSha256: 'A'.repeat(43).concat('='),
                  discoverySha256: 'B'.repeat(43).concat('='),
                },
              };
        expect(parseKeyset(serializeKeyset(withDigests))).toEqual(withDigests);
      }),
      { numRuns: 50 },
    );
  });

  it('a keyset.json written before revisions, intents and digests still parses (back-compat)', () => {
    const [spki] = SPKIS;
    const record = recordFor(spki as Uint8Array, 'active', '2026-01-01T00:00:00.000Z', 'ECC_NIST_P256', {
      activatedAt: '2026-01-01T00:00:00.000Z',
      publishedAt: '2026-01-01T00:00:01.000Z',
    });
    // Exactly the shape the previous release wrote: version 1, lastPublish with kids, at, issuer.
    const old = `{
  "version": 1,
  "cluster": "prod",
  "issuer": "${ISSUER}",
  "keys": [${JSON.stringify(record)}],
  "lastPublish": { "kids": ["${record.kid}"], "at": "2026-01-01T00:00:01.000Z", "issuer": "${ISSUER}" },
  "updatedAt": "2026-01-01T00:00:01.000Z"
}`;
    const keyset = parseKeyset(old);
    expect(keyset.revision).toBeUndefined();
    expect(keyset.intent).toBeUndefined();
    expect(keyset.lastPublish).toEqual({
      kids: [record.kid],
      at: '2026-01-01T00:00:01.000Z',
      issuer: ISSUER,
    });
    // Nothing new is due on it but a publish: the documents carry no recorded digest yet.
    expect(plan(keyset, policy, new Date('2026-01-01T01:00:00Z')).map((a) => a.type)).toEqual([]);
    expect(plan(keyset, policy, new Date('2026-01-01T01:00:00Z'), { republish: true })[0]?.type).toBe(
      'publish',
    );
  });

  it('refuses a malformed intent or revision, naming the path', () => {
    const base = { version: 1, cluster: 'prod', issuer: ISSUER, keys: [], updatedAt: '2026-01-01T00:00:00Z' };
    expect(() => parseKeyset(JSON.stringify({ ...base, revision: -1 }))).toThrow(/\$\.revision/);
    expect(() =>
      parseKeyset(
        JSON.stringify({ ...base, intent: { id: 'x', keySpec: 'ECC_NIST_P256', createdAt: base.updatedAt } }),
      ),
    ).toThrow(/\$\.intent\.id/);
  });
});
