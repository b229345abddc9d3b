import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IrsaError } from '#core/errors.ts';
import type { Keyset } from '#core/keyset.ts';
import { emptyKeyset, isIsoTimestamp, parseKeyset, serializeKeyset } from '#core/keyset-parse.ts';
import { testKeyRecord } from '../../support/memory-adapters.ts';

const active = testKeyRecord({
  state: 'active',
  activatedAt: '2026-01-01T00:00:00.000Z',
  publishedAt: '2026-01-01T00:00:01.000Z',
});
const retired = testKeyRecord({
  state: 'retired',
  keySpec: 'RSA_2048',
  location: { type: 'wrapped', object: 'keys/x.wrapped', wrappingKeyId: 'alias/wrap' },
  activatedAt: '2025-12-01T00:00:00.000Z',
  publishedAt: '2025-12-01T00:00:00.000Z',
  retiredAt: '2026-01-01T00:00:00.000Z',
});
const deleted = testKeyRecord({
  state: 'deleted',
  location: { type: 'local', file: 'keys/old.pem' },
  deletedAt: '2026-01-02T00:00:00Z',
  revoked: true,
});

const valid: Keyset = {
  version: 1,
  cluster: 'prod',
  issuer: 'https://oidc.example.com/prod',
  keys: [active, retired, deleted],
  lastPublish: {
    kids: [active.kid, retired.kid],
    at: '2026-01-01T00:00:01.000Z',
    issuer: 'https://oidc.example.com/prod',
  },
  updatedAt: '2026-01-02T00:00:00.000Z',
};

/** The valid document as plain JSON, with `edit` applied. */
function edited(
  edit: (doc: Record<string, unknown> & { keys: Array<Record<string, unknown>> }) => void,
): string {
  const doc = JSON.parse(serializeKeyset(valid));
  edit(doc);
  return JSON.stringify(doc);
}

function corruptionOf(text: string): IrsaError {
  try {
    parseKeyset(text);
  } catch (error) {
    if (error instanceof IrsaError) return error;
    throw error;
  }
  throw new Error('parseKeyset accepted a corrupt document');
}

describe('parseKeyset', () => {
  it('reads back what serializeKeyset wrote, as a copy', () => {
    const text = serializeKeyset(valid);
    const parsed = parseKeyset(text);
    expect(parsed).toEqual(valid);
    expect(parsed.keys[0]).not.toBe(valid.keys[0]);
    expect(serializeKeyset(parsed)).toBe(text);
    expect(text.endsWith('}\n')).toBe(true);
  });

  it('accepts two active keys (the planner repairs that) and a keyset that never published', () => {
    const second = testKeyRecord({ state: 'active', activatedAt: '2026-01-03T00:00:00Z' });
    const doc = { ...valid, keys: [active, second] };
    delete doc.lastPublish;
    expect(parseKeyset(serializeKeyset(doc)).keys.map((key) => key.state)).toEqual(['active', 'active']);
  });

  const cases: Array<[string, string, string]> = [
    ['not JSON', '{"version": 1,', '$'],
    ['an array at the top', '[]', '$'],
    ['another schema version', edited((doc) => (doc.version = 2)), '$.version'],
    ['a missing cluster', edited((doc) => delete doc.cluster), '$.cluster'],
    ['an empty issuer', edited((doc) => (doc.issuer = '')), '$.issuer'],
    ['keys not an array', edited((doc) => ((doc as Record<string, unknown>).keys = {})), '$.keys'],
    ['an unknown top-level member', edited((doc) => (doc.note = 'hi')), '$.note'],
    [
      'an unknown key member (typo)',
      edited((doc) => (doc.keys[1] = { ...doc.keys[1], retiredat: 'x' })),
      '$.keys[1].retiredat',
    ],
    [
      'an unknown state',
      edited((doc) => (doc.keys[0] = { ...doc.keys[0], state: 'actve' })),
      '$.keys[0].state',
    ],
    [
      'a non-ISO timestamp',
      edited((doc) => (doc.keys[0] = { ...doc.keys[0], createdAt: 'Jan 1 2026' })),
      '$.keys[0].createdAt',
    ],
    [
      '30 February',
      edited((doc) => (doc.keys[0] = { ...doc.keys[0], createdAt: '2026-02-30T00:00:00Z' })),
      '$.keys[0].createdAt',
    ],
    ['a local time without Z', edited((doc) => (doc.updatedAt = '2026-01-01T00:00:00')), '$.updatedAt'],
    [
      'a kid with bad characters',
      edited((doc) => (doc.keys[0] = { ...doc.keys[0], kid: `${'a'.repeat(42)}=` })),
      '$.keys[0].kid',
    ],
    [
      'a kid that is not the SPKI hash',
      edited((doc) => (doc.keys[0] = { ...doc.keys[0], kid: retired.kid })),
      '$.keys[0].kid',
    ],
    [
      'a public key that is not base64',
      edited((doc) => (doc.keys[0] = { ...doc.keys[0], publicKeySpki: 'not base64!' })),
      '$.keys[0].publicKeySpki',
    ],
    [
      'alg that does not fit keySpec',
      edited((doc) => (doc.keys[0] = { ...doc.keys[0], alg: 'RS256' })),
      '$.keys[0].alg',
    ],
    ['active without activatedAt', edited((doc) => delete doc.keys[0]?.activatedAt), '$.keys[0].activatedAt'],
    ['retired without retiredAt', edited((doc) => delete doc.keys[1]?.retiredAt), '$.keys[1].retiredAt'],
    [
      'a revoked key not deleted',
      edited((doc) => (doc.keys[0] = { ...doc.keys[0], revoked: true })),
      '$.keys[0].revoked',
    ],
    [
      'revoked not a boolean',
      edited((doc) => (doc.keys[2] = { ...doc.keys[2], revoked: 'yes' })),
      '$.keys[2].revoked',
    ],
    [
      'an unknown location type',
      edited((doc) => (doc.keys[0] = { ...doc.keys[0], location: { type: 'hsm' } })),
      '$.keys[0].location.type',
    ],
    [
      'a kms location without keyId',
      edited((doc) => (doc.keys[0] = { ...doc.keys[0], location: { type: 'kms' } })),
      '$.keys[0].location.keyId',
    ],
    [
      'a local key outside the state directory',
      edited(
        (doc) => (doc.keys[2] = { ...doc.keys[2], location: { type: 'local', file: '../../etc/passwd' } }),
      ),
      '$.keys[2].location.file',
    ],
    [
      'an absolute local key path',
      edited((doc) => (doc.keys[2] = { ...doc.keys[2], location: { type: 'local', file: '/etc/passwd' } })),
      '$.keys[2].location.file',
    ],
    ['a duplicate kid', edited((doc) => doc.keys.push({ ...doc.keys[0] })), '$.keys[3].kid'],
    [
      'lastPublish kids not kids',
      edited((doc) => (doc.lastPublish = { kids: [42], at: '2026-01-01T00:00:00Z' })),
      '$.lastPublish.kids[0]',
    ],
  ];

  it.each(cases)('rejects %s, naming %s', (_name, text, path) => {
    const error = corruptionOf(text);
    expect(error.code).toBe('KEYSET_CORRUPT');
    expect(error.message).toContain(`at ${path}:`);
    expect(error.detail).toEqual({ path });
    expect(error.fix).toMatch(/restore the previous version of keyset\.json/i);
    expect(error.fix).toMatch(/never delete it/);
  });

  it('rejects a document larger than 1 MiB without parsing it', () => {
    expect(corruptionOf(' '.repeat(1_048_577)).message).toContain('larger than');
  });
});

describe('isIsoTimestamp', () => {
  it('accepts what Date#toISOString writes and rejects near misses', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('1970-01-01'), max: new Date('9999-12-31'), noInvalidDate: true }),
        (date) => isIsoTimestamp(date.toISOString()),
      ),
    );
    for (const bad of [
      '2026-13-01T00:00:00Z',
      '2026-01-01 00:00:00Z',
      '2026-01-01T24:00:00Z',
      '2026-01-01T00:00:00+01:00',
    ]) {
      expect(isIsoTimestamp(bad)).toBe(false);
    }
  });
});

describe('serializeKeyset', () => {
  it('is deterministic whatever the member order of its input', () => {
    const shuffled = JSON.parse(JSON.stringify(valid), (_key, value) =>
      value !== null && typeof value === 'object' && !Array.isArray(value)
        ? Object.fromEntries(Object.entries(value).reverse())
        : value,
    );
    expect(serializeKeyset(shuffled)).toBe(serializeKeyset(valid));
  });

  it('round-trips any valid combination of states, timestamps and publish records', () => {
    const pool = [active, retired, deleted];
    const iso = fc
      .date({ min: new Date('2020-01-01'), max: new Date('2040-01-01'), noInvalidDate: true })
      .map((date) => date.toISOString());
    fc.assert(
      fc.property(
        fc.subarray(pool),
        fc.option(iso, { nil: undefined }),
        iso,
        (keys, publishedAt, updatedAt) => {
          const keyset: Keyset = {
            ...emptyKeyset('c', 'https://i.example', new Date(updatedAt)),
            keys: keys.map((key) => (publishedAt === undefined ? key : { ...key, publishedAt })),
          };
          if (publishedAt !== undefined)
            keyset.lastPublish = { kids: keys.map((key) => key.kid), at: publishedAt };
          expect(parseKeyset(serializeKeyset(keyset))).toEqual(keyset);
        },
      ),
    );
  });
});

describe('emptyKeyset', () => {
  it('has no keys, no publish record, and the given time', () => {
    expect(emptyKeyset('prod', 'https://oidc.example.com', new Date('2026-05-01T10:00:00Z'))).toEqual({
      version: 1,
      cluster: 'prod',
      issuer: 'https://oidc.example.com',
      keys: [],
      updatedAt: '2026-05-01T10:00:00.000Z',
    });
  });
});
