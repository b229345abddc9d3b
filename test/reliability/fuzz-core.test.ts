/**
 * Fuzzing of the core's inputs (issue 7, part 3): tokens for verify (random strings, mutations of
 * a valid token, and random claims and headers correctly signed so every claim check is reached),
 * JWKS documents, keyset.json documents (random JSON, mutations of a valid one; accepted ones
 * are then planned and published), and the Lambda environment (config.ts). Property: no crash,
 * no hang, every rejection an IrsaError with a code.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '#core/config.ts';
import { buildPublicDocuments } from '#core/discovery.ts';
import type { Keyset } from '#core/keyset.ts';
import { parseKeyset, serializeKeyset } from '#core/keyset-parse.ts';
import { activeKey, nextTransition, plan } from '#core/planner.ts';
import { DEFAULT_POLICY_INPUT, makePolicy } from '#core/policy.ts';
import { encodeJsonSegment, signCompactJwt } from '#core/projected-token.ts';
import { runRotation } from '#core/rotation-run.ts';
import { verifyTokenWithJwks } from '#core/verify-token.ts';
import { MemoryKeyBackend, MemoryKeysetStore, MemoryPublisher } from '../support/memory-adapters.ts';
import { runCli } from '../support/run-cli.ts';
import { caseCounts, count, expectCodedOutcome, mutated } from './fuzz-support.ts';

const ISSUER = 'https://oidc.example.com/fuzz';
const policy = makePolicy({ ...DEFAULT_POLICY_INPUT, keySpec: 'ECC_NIST_P256' });
const T0 = Date.parse('2026-05-01T00:00:00Z');
const NOW = new Date(T0 + 3 * 86_400_000);
const RUNS = Number(process.env.FUZZ_RUNS ?? 1000);

let keyset: Keyset;
let keysetText: string;
let jwks: unknown;
let validToken: string;
let sign: (header: Record<string, unknown>, claims: unknown) => Promise<string>;

beforeAll(async () => {
  const store = new MemoryKeysetStore();
  const keys = new MemoryKeyBackend();
  const publisher = new MemoryPublisher();
  const deps = { store, keys, publisher, policy, cluster: 'fuzz', issuer: ISSUER };
  // Active, pending and retired keys: a keyset with every state the planner handles.
  for (const at of [T0, T0 + 6 * 86_400_000 + 3_600_000, T0 + 7 * 86_400_000 + 7_200_000]) {
    await runRotation({ ...deps, clock: () => new Date(at) });
  }
  const report = await runRotation(
    { ...deps, clock: () => new Date(T0 + 7 * 86_400_000 + 7_300_000) },
    { rotateNow: true },
  );
  keyset = report.keyset;
  keysetText = serializeKeyset(keyset);
  jwks = JSON.parse(buildPublicDocuments(ISSUER, keyset.keys).jwks);
  const active = activeKey(keyset);
  if (active === undefined) throw new Error('no active key');
  const now = Math.floor(NOW.getTime() / 1000);
  sign = async (header, claims) => {
    const h = encodeJsonSegment(header);
    const c = encodeJsonSegment(claims);
    const signature = await keys.sign(active, new TextEncoder().encode(`${h}.${c}`));
    return `${h}.${c}.${Buffer.from(signature).toString('base64url')}`;
  };
  validToken = await signCompactJwt(
    { alg: active.alg, kid: active.kid },
    encodeJsonSegment({
      iss: ISSUER,
      sub: 'system:serviceaccount:team:app',
      aud: ['sts.amazonaws.com'],
      iat: now,
      nbf: now,
      exp: now + 3600,
    }),
    (input) => keys.sign(active, input),
  );
});

afterAll(() => {
  console.info(`fuzz case counts: ${JSON.stringify(Object.fromEntries(caseCounts))}`);
});

const verify = (token: string, document: unknown = jwks) =>
  verifyTokenWithJwks(token, { issuer: ISSUER, audiences: ['sts.amazonaws.com'], now: NOW, jwks: document });

describe('fuzz: tokens for verify', () => {
  it('the valid token verifies (the fuzzers start from a real one)', async () => {
    await expect(verify(validToken)).resolves.toMatchObject({ namespace: 'team', serviceAccount: 'app' });
  });

  it('random strings', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.string({ maxLength: 300 }), fc.stringMatching(/^[A-Za-z0-9_.-]{0,400}$/)),
        async (token) => {
          expect(await expectCodedOutcome('token-random', () => verify(token))).not.toBe('ok');
        },
      ),
      { numRuns: RUNS, endOnFailure: true },
    );
  });

  it('mutations of a valid token', async () => {
    await fc.assert(
      fc.asyncProperty(mutated(validToken), async (token) => {
        const outcome = await expectCodedOutcome('token-mutated', () => verify(token));
        // A mutation may leave a valid token (e.g. an edit that re-encodes to the same bytes).
        if (outcome === 'ok') expect(token.split('.')[2]).toBe(validToken.split('.')[2]);
      }),
      { numRuns: RUNS, endOnFailure: true },
    );
  });

  it('random headers and claims, correctly signed (every claim check is reached)', async () => {
    const now = Math.floor(NOW.getTime() / 1000);
    const active = activeKey(keyset);
    const claim = fc.oneof(
      fc.jsonValue(),
      fc.integer({ min: now - 200_000, max: now + 200_000 }),
      fc.constant(ISSUER),
      fc.constant('sts.amazonaws.com'),
    );
    const claims = fc.oneof(
      fc.jsonValue(),
      fc.record(
        {
          iss: claim,
          sub: fc.oneof(claim, fc.constant('system:serviceaccount:a:b')),
          aud: fc.oneof(claim, fc.array(claim)),
          exp: claim,
          iat: claim,
          nbf: claim,
        },
        { requiredKeys: [] },
      ),
    );
    const header = fc.oneof(
      fc.jsonValue(),
      fc.record(
        {
          alg: fc.oneof(fc.constantFrom('ES256', 'RS256', 'none', 'HS256', 'ES384'), fc.jsonValue()),
          kid: fc.oneof(fc.constant(active?.kid), fc.jsonValue()),
          typ: fc.jsonValue(),
        },
        { requiredKeys: [] },
      ),
    );
    await fc.assert(
      fc.asyncProperty(header, claims, async (h, c) => {
        const token = await sign(h as Record<string, unknown>, c);
        await expectCodedOutcome('token-signed-random-claims', () => verify(token));
      }),
      { numRuns: RUNS, endOnFailure: true },
    );
  });

  it('random JWKS documents', async () => {
    const jwk = fc.record(
      {
        kty: fc.oneof(fc.constantFrom('RSA', 'EC', 'oct'), fc.jsonValue()),
        kid: fc.oneof(fc.constant(activeKey(keyset)?.kid), fc.jsonValue()),
        alg: fc.jsonValue(),
        crv: fc.oneof(fc.constant('P-256'), fc.jsonValue()),
        x: fc.jsonValue(),
        y: fc.jsonValue(),
        n: fc.jsonValue(),
        e: fc.jsonValue(),
        use: fc.jsonValue(),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.jsonValue(), fc.record({ keys: fc.array(jwk, { maxLength: 4 }) })),
        async (document) => {
          expect(await expectCodedOutcome('jwks-random', () => verify(validToken, document))).not.toBe('ok');
        },
      ),
      { numRuns: RUNS, endOnFailure: true },
    );
  });
});

describe('fuzz: irsa-anywhere verify (the command, token from a file)', () => {
  it('random and mutated token files end in one coded error line, never UNEXPECTED', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'irsa-fuzz-verify-'));
    try {
      const file = join(dir, 'token');
      const content = fc.oneof(
        mutated(validToken),
        fc.string({ maxLength: 200 }),
        fc.uint8Array({ maxLength: 200 }),
      );
      await fc.assert(
        fc.asyncProperty(content, async (bytes) => {
          count('verify-command');
          await writeFile(file, bytes);
          // A loopback issuer with nothing listening: tokens that pass the offline checks fail to fetch.
          const result = await runCli('verify', '--issuer', 'http://127.0.0.1:9/fuzz', '--token', file);
          expect(result.code).not.toBe(0);
          expect(result.stderr).toMatch(/^error [A-Z][A-Z0-9_]+: /);
          expect(result.stderr).not.toMatch(/^error UNEXPECTED/);
        }),
        { numRuns: Math.min(RUNS, 300), endOnFailure: true },
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** A parsed keyset must round-trip, plan, and publish (or refuse with a code). */
function exerciseKeyset(text: string): void {
  const parsed = parseKeyset(text);
  expect(parseKeyset(serializeKeyset(parsed))).toEqual(parsed);
  plan(parsed, policy, NOW);
  plan(parsed, policy, NOW, { rotateNow: true });
  nextTransition(parsed, policy, NOW);
  buildPublicDocuments(parsed.issuer, parsed.keys);
}

describe('fuzz: keyset.json documents', () => {
  it('the valid keyset round-trips', () => {
    expect(() => exerciseKeyset(keysetText)).not.toThrow();
  });

  it('random JSON and random text', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.json(), fc.string({ maxLength: 200 })), async (text) => {
        await expectCodedOutcome('keyset-random', () => exerciseKeyset(text));
      }),
      { numRuns: RUNS, endOnFailure: true },
    );
  });

  it('text mutations of a valid keyset', async () => {
    await fc.assert(
      fc.asyncProperty(mutated(keysetText), async (text) => {
        await expectCodedOutcome('keyset-text-mutated', () => exerciseKeyset(text));
      }),
      { numRuns: RUNS, endOnFailure: true },
    );
  });

  it('structural mutations: a field of the keyset or of a key replaced by any JSON value, or removed', async () => {
    const valid = JSON.parse(keysetText) as Record<string, unknown> & {
      keys: Array<Record<string, unknown>>;
    };
    const topFields = Object.keys(valid);
    const keyFields = [...new Set(valid.keys.flatMap((key) => Object.keys(key)))];
    const replacement = fc.oneof(
      fc.jsonValue(),
      fc.constant(undefined),
      fc.constantFrom('', '2026-13-01T00:00:00Z', 'active', 'deleted', -1, 1e308, '\u0000'),
    );
    const edit = fc.oneof(
      fc.tuple(fc.constantFrom(...topFields), replacement).map(([field, value]) => (doc: typeof valid) => {
        (doc as Record<string, unknown>)[field] = value;
      }),
      fc
        .tuple(fc.nat({ max: valid.keys.length - 1 }), fc.constantFrom(...keyFields), replacement)
        .map(([index, field, value]) => (doc: typeof valid) => {
          const key = Array.isArray(doc.keys) ? doc.keys[index] : undefined;
          if (key !== null && typeof key === 'object') key[field] = value;
        }),
      fc
        .tuple(fc.nat({ max: valid.keys.length - 1 }), fc.nat({ max: valid.keys.length - 1 }))
        .map(([a, b]) => (doc: typeof valid) => {
          if (!Array.isArray(doc.keys)) return;
          const key = doc.keys[a];
          if (key !== undefined) doc.keys.push(structuredClone(key));
          const other = doc.keys[b];
          if (other !== null && typeof other === 'object' && key !== null && typeof key === 'object')
            other.state = key.state;
        }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(edit, { minLength: 1, maxLength: 3 }), async (edits) => {
        const doc = structuredClone(valid);
        for (const apply of edits) apply(doc);
        const started = performance.now();
        await expectCodedOutcome('keyset-structure-mutated', () => exerciseKeyset(JSON.stringify(doc)));
        const took = performance.now() - started;
        if (took > 1000) throw new Error(`slow case: ${took} ms`);
      }),
      { numRuns: RUNS, endOnFailure: true },
    );
  });
});

describe('fuzz: the Lambda environment (config.ts)', () => {
  const base: Record<string, string> = {
    CLUSTER_NAME: 'prod',
    ISSUER_URL: 'https://oidc.example.com/prod',
    STATE_BUCKET: 'irsa-state-prod',
    PUBLIC_BUCKET: 'irsa-public-prod',
    KEY_MODE: 'kms',
    KEY_SPEC: 'RSA_2048',
    WRAPPING_KEY_ID: 'alias/irsa',
    ROTATION_PERIOD_DAYS: '7',
    PUBLISH_LEAD_HOURS: '24',
    MAX_TOKEN_LIFETIME_SECONDS: '86400',
    JWKS_MAX_AGE_SECONDS: '300',
    NODE_SYNC_LAG_SECONDS: '900',
    KEY_DELETION_WINDOW_DAYS: '7',
  };

  it('the base environment parses', () => {
    expect(parseConfig(base).cluster).toBe('prod');
  });

  it('any variable set to any string, or unset', async () => {
    const value = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.constantFrom(
        '',
        ' ',
        '0',
        '-1',
        '1e3',
        'NaN',
        'Infinity',
        '0x10',
        '7.5',
        '99999999999999999999',
        'file',
        'ECC_NIST_P256',
        'http://oidc.example.com',
        'https://oidc.example.com/',
        'https://127.0.0.1/x',
      ),
      fc.constant(undefined),
    );
    const overrides = fc.dictionary(fc.constantFrom(...Object.keys(base)), value, { maxKeys: 5 });
    await fc.assert(
      fc.asyncProperty(overrides, async (changes) => {
        const outcome = await expectCodedOutcome('config-env', () => parseConfig({ ...base, ...changes }));
        if (outcome !== 'ok') expect(outcome).toBe('CONFIG_INVALID');
      }),
      { numRuns: RUNS * 2, endOnFailure: true },
    );
  });
});
