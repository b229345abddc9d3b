/**
 * `planner`: the time to plan a rotation run and build the JWKS for a keyset of 100 keys (the
 * most a JWKS may hold per key type; real keysets hold 2–3). Pure core code, no I/O.
 */
import { generateKeyPairSync } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { buildJwks } from '#core/jwks.ts';
import { ALG_FOR_SPEC, type KeyRecord, type KeySpec, type KeyState, type Keyset } from '#core/keyset.ts';
import { kidFromSpki } from '#core/kid.ts';
import { plan } from '#core/planner.ts';
import { DEFAULT_POLICY_INPUT, makePolicy } from '#core/policy.ts';
import { median, round } from './stats.ts';

/** Keys in the benchmark keyset. */
export const PLANNER_KEYS = 100;
/** RSA keys among them (the rest are P-256, which are much quicker to generate). */
const RSA_KEYS = 4;

function record(spec: KeySpec, state: KeyState, at: Date): KeyRecord {
  const pair =
    spec === 'RSA_2048'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = new Uint8Array(pair.publicKey.export({ format: 'der', type: 'spki' }));
  const iso = at.toISOString();
  const kid = kidFromSpki(spki);
  return {
    kid,
    alg: ALG_FOR_SPEC[spec],
    keySpec: spec,
    state,
    publicKeySpki: Buffer.from(spki).toString('base64'),
    location: { type: 'kms', keyId: `bench-${kid.slice(0, 8)}` },
    createdAt: iso,
    publishedAt: iso,
    ...(state === 'pending' ? {} : { activatedAt: iso }),
    ...(state === 'retired' ? { retiredAt: iso } : {}),
  };
}

/**
 * A keyset of {@link PLANNER_KEYS} published keys: one active, one pending, the rest retired
 * in the last 17 hours (still within the default retention), all in the last publish: a run with
 * nothing to do, which still plans over every key and builds the whole JWKS.
 */
export function plannerKeyset(now: Date): Keyset {
  const tenMinutes = 600_000;
  const keys: KeyRecord[] = [];
  for (let i = 0; i < PLANNER_KEYS; i += 1) {
    const state: KeyState = i === 0 ? 'active' : i === 1 ? 'pending' : 'retired';
    keys.push(
      record(
        i < RSA_KEYS ? 'RSA_2048' : 'ECC_NIST_P256',
        state,
        new Date(now.getTime() - (i + 1) * tenMinutes),
      ),
    );
  }
  return {
    version: 1,
    cluster: 'bench',
    issuer: 'https://oidc.example.com/bench',
    keys,
    lastPublish: {
      kids: keys.map((key) => key.kid),
      at: now.toISOString(),
      issuer: 'https://oidc.example.com/bench',
    },
    updatedAt: now.toISOString(),
  };
}

/**
 * Median over `rounds` of the time of one plan + JWKS build, each round timing a small batch of
 * calls and dividing.
 */
export async function benchPlanner(options: { rounds: number; batch?: number }): Promise<{ ms: number }> {
  const now = new Date();
  const keyset = plannerKeyset(now);
  const policy = makePolicy(DEFAULT_POLICY_INPUT);
  const batch = options.batch ?? 5;
  const once = () => {
    plan(keyset, policy, now);
    buildJwks(keyset.keys);
  };
  for (let i = 0; i < batch; i += 1) once(); // warm-up
  const perCall: number[] = [];
  for (let r = 0; r < options.rounds; r += 1) {
    const t0 = performance.now();
    for (let i = 0; i < batch; i += 1) once();
    perCall.push((performance.now() - t0) / batch);
    // Let other work (and the timer) run between rounds.
    await new Promise((resolve) => setImmediate(resolve));
  }
  return { ms: round(median(perCall), 3) };
}
