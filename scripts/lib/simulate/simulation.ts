/**
 * The rotation simulation: years of virtual time in seconds of real time. A virtual clock drives
 * the real rotation runner (planner included) over the real local adapters (keyset.json with
 * compare-and-swap, software keys as 0600 PEM files, the public documents as files), while a
 * cluster issues tokens and verifiers check them with the real verifier through JWKS caches.
 * No sleeps: events are processed in virtual-time order from a queue. See docs/reliability.md
 * for what each figure means.
 */

import { readFile } from 'node:fs/promises';
import { composeLocal } from '#adapters/local/compose-local.ts';
import { isIrsaError } from '#core/errors.ts';
import type { KeyRecord, Keyset } from '#core/keyset.ts';
import { activeKey, plan, type RotationRequest } from '#core/planner.ts';
import { DEFAULT_POLICY_INPUT, makePolicy } from '#core/policy.ts';
import { buildProjectedTokenClaims, encodeJsonSegment, signCompactJwt } from '#core/projected-token.ts';
import { runRotation } from '#core/rotation-run.ts';
import { DEFAULT_AUDIENCE } from '#core/token-claims.ts';
import { verifyTokenWithJwks } from '#core/verify-token.ts';
import { EventQueue } from './event-queue.ts';
import { createRandom } from './prng.ts';
import { type PublishedJwks, RecordingPublisher } from './published.ts';
import type { SimulationOptions, SimulationReport } from './report.ts';

export { type SimulationOptions, type SimulationReport, violations } from './report.ts';

type SimEvent =
  | { kind: 'tick' }
  | { kind: 'issue' }
  | { kind: 'pickup'; node: number; generation: number; kid: string }
  | { kind: 'verify'; token: IssuedToken; verifier: number }
  | { kind: 'revoke' };

interface IssuedToken {
  jwt: string;
  kid: string;
  iat: number;
  exp: number;
}

interface Verifier {
  jwks: unknown;
  expiresAt: number;
}

interface Node {
  kid: string | undefined;
  generation: number;
}

const HOUR = 3_600_000;
const START = Date.parse('2026-01-01T00:00:00Z');
const ISSUER = 'https://oidc.simulation.example/cluster';
const AUDIENCE = DEFAULT_AUDIENCE;
const CLUSTER = 'simulation';

/**
 * Runs the simulation and returns its figures. Throws only on an unexpected failure of the
 * runner or the adapters (an invariant broken by the code under test is counted, not thrown).
 */
export async function runSimulation(options: SimulationOptions): Promise<SimulationReport> {
  const started = performance.now();
  const random = createRandom(options.seed);
  const years = options.years ?? 5;
  const policy = makePolicy({ ...DEFAULT_POLICY_INPUT, keySpec: 'ECC_NIST_P256', ...options.policy });
  const end = START + Math.round(years * 365.25 * 24) * HOUR;
  const missedRunRate = options.missedRunRate ?? 0.1;
  const outageRate = options.outageRate ?? 1 / 2000;
  const tokenIntervalMs = (options.tokenIntervalSeconds ?? 14_400) * 1000;
  const nodes: Node[] = Array.from({ length: options.nodes ?? 3 }, () => ({ kid: undefined, generation: 0 }));
  const verifiers: Verifier[] = Array.from({ length: options.verifiers ?? 4 }, () => ({
    jwks: null,
    expiresAt: 0,
  }));
  const maxAgeMs = policy.jwksMaxAgeSeconds * 1000;
  const cacheMaxAgeMs = (options.verifierCacheMaxAgeSeconds ?? policy.jwksMaxAgeSeconds) * 1000;
  const lagMs = (options.nodeSyncLagSeconds ?? policy.nodeSyncLagSeconds) * 1000;

  let now = START;
  const local = composeLocal(options.dir);
  const publisher = new RecordingPublisher(
    local.publisher,
    () => readFile(local.paths.jwks, 'utf8'),
    () => now,
  );
  const records = new Map<string, KeyRecord>();
  const revokedAt = new Map<string, number>();
  const emergencyActivatedAt = new Map<string, number>();
  const signedOnce = new Set<string>();
  const report: SimulationReport = {
    seed: options.seed,
    years,
    policy,
    scheduledRuns: 0,
    missedRuns: 0,
    rotationRuns: 0,
    steadyStateRunsSkipped: 0,
    steps: {},
    keysCreated: 0,
    publishes: 0,
    documentsCheckedForPrivateMembers: 0,
    tokensIssued: 0,
    verifications: 0,
    accepted: 0,
    rejectedValid: 0,
    rejectedRevoked: 0,
    rejectedEmergencyKey: 0,
    acceptedRevoked: 0,
    acceptedRevokedWithinCacheBound: 0,
    signFailures: 0,
    signedBeforePublishLead: 0,
    signFailuresRevokedKey: 0,
    publishInvariantViolations: 0,
    maxKeysPublished: 0,
    maxActiveKeyAgeHours: 0,
    examples: [],
    wallClockMs: 0,
  };
  const example = (text: string): void => {
    if (report.examples.length < 10) report.examples.push(text);
  };
  const iso = (ms: number): string => new Date(ms).toISOString();
  let keyset: Keyset | undefined;
  let generation = 0;
  let activeKid: string | undefined;
  let outageUntil = 0;
  const queue = new EventQueue<SimEvent>();

  const rotate = async (request?: RotationRequest): Promise<void> => {
    const published = publisher.history.length;
    const result = await runRotation(
      {
        store: local.store,
        keys: local.keys,
        publisher,
        policy,
        cluster: CLUSTER,
        issuer: ISSUER,
        clock: () => new Date(now),
      },
      request,
    );
    report.rotationRuns += 1;
    keyset = result.keyset;
    for (const key of keyset.keys) records.set(key.kid, key);
    for (const step of result.steps) {
      report.steps[step.action.type] = (report.steps[step.action.type] ?? 0) + 1;
      if (step.action.type === 'bootstrap' || step.action.type === 'create-pending') report.keysCreated += 1;
      // A bootstrap key signs at once by design: no token exists yet that it could break.
      if (step.action.type === 'bootstrap' && step.kid !== undefined) emergencyActivatedAt.set(step.kid, now);
      if (step.action.type === 'revoke') {
        revokedAt.set(step.action.kid, now);
        const replacement = activeKey(keyset)?.kid;
        if (step.action.create !== undefined) report.keysCreated += 1;
        if (
          replacement !== undefined &&
          (step.action.create !== undefined || step.action.promote !== undefined)
        ) {
          emergencyActivatedAt.set(replacement, now);
        }
        report.revoked = {
          kid: step.action.kid,
          at: iso(now),
          replacedBy: step.action.promote !== undefined ? 'promoted-pending' : 'new-key',
        };
      }
    }
    for (const entry of publisher.history.slice(published)) checkPublish(entry);
    const active = activeKey(keyset);
    if (active !== undefined && active.kid !== activeKid) {
      activeKid = active.kid;
      generation += 1;
      for (const [node] of nodes.entries()) {
        queue.push(now + random.between(0, lagMs), { kind: 'pickup', node, generation, kid: active.kid });
      }
    }
  };

  const checkPublish = (entry: PublishedJwks): void => {
    report.maxKeysPublished = Math.max(report.maxKeysPublished, entry.kids.length);
    const active = keyset === undefined ? undefined : activeKey(keyset);
    if (entry.kids.length === 0 || (active !== undefined && !entry.kids.includes(active.kid))) {
      report.publishInvariantViolations += 1;
      example(`publish at ${iso(entry.at)} holds [${entry.kids.join(', ')}] without the active key`);
    }
  };

  const trackActiveAge = (): void => {
    const activatedAt = keyset === undefined ? undefined : activeKey(keyset)?.activatedAt;
    if (activatedAt === undefined) return;
    report.maxActiveKeyAgeHours = Math.max(
      report.maxActiveKeyAgeHours,
      (now - Date.parse(activatedAt)) / HOUR,
    );
  };

  const issue = async (
    node: Node,
    lifetimeSeconds: number,
    extraChecks: readonly number[] = [],
  ): Promise<void> => {
    const kid = node.kid;
    const record = kid === undefined ? undefined : records.get(kid);
    if (kid === undefined || record === undefined) return;
    const claims = buildProjectedTokenClaims({
      issuer: ISSUER,
      audiences: [AUDIENCE],
      namespace: 'workloads',
      serviceAccount: `app-${random.int(50)}`,
      serviceAccountUid: random.uuid(),
      now: new Date(now),
      ttlSeconds: lifetimeSeconds,
      jti: random.uuid(),
    });
    let jwt: string;
    try {
      jwt = await signCompactJwt({ alg: record.alg, kid }, encodeJsonSegment(claims), (input) =>
        local.signer.sign(record, input),
      );
    } catch (error) {
      if (revokedAt.has(kid)) {
        report.signFailuresRevokedKey += 1;
        return;
      }
      report.signFailures += 1;
      example(`node could not sign with ${kid} at ${iso(now)}: ${String(error)}`);
      return;
    }
    if (!signedOnce.has(kid)) {
      signedOnce.add(kid);
      const firstPublished = publisher.firstPublished.get(kid);
      const lead = policy.publishLeadSeconds * 1000;
      if (!emergencyActivatedAt.has(kid) && (firstPublished === undefined || now - firstPublished < lead)) {
        report.signedBeforePublishLead += 1;
        example(
          `${kid} signed at ${iso(now)}, published ${firstPublished === undefined ? 'never' : iso(firstPublished)}`,
        );
      }
    }
    report.tokensIssued += 1;
    const iat = now / 1000;
    const exp = Math.floor(iat) + lifetimeSeconds;
    const token: IssuedToken = { jwt, kid, iat, exp };
    const lifeMs = (exp - iat) * 1000;
    const soon = Math.min(600_000, lifeMs);
    // Right after issue (a new key must already be in every cache), just before expiry (an old
    // key must still be published), and sometimes anywhere in between.
    const times = [now + random.between(0, soon), exp * 1000 - random.between(1, soon), ...extraChecks];
    if (random.chance(0.5)) times.push(now + random.between(0, lifeMs));
    for (const at of times) queue.push(at, { kind: 'verify', token, verifier: random.int(verifiers.length) });
  };

  const lifetime = (): number => {
    const max = policy.maxTokenLifetimeSeconds;
    return random.chance(0.3) ? max : Math.round(random.between(600, max));
  };

  // Verifications are independent once the verifier's cache is chosen (in virtual-time order,
  // below), so they run concurrently in batches: the crypto runs on the thread pool meanwhile.
  const inFlight: Array<Promise<void>> = [];
  const verify = async (token: IssuedToken, verifier: Verifier): Promise<void> => {
    if (now >= token.exp * 1000) return;
    if (now >= verifier.expiresAt) {
      verifier.jwks = publisher.current()?.jwks ?? null;
      verifier.expiresAt = now + random.between(1, cacheMaxAgeMs);
    }
    report.verifications += 1;
    inFlight.push(
      check(token, verifier.jwks, now, revokedAt.get(token.kid), emergencyActivatedAt.get(token.kid)),
    );
    if (inFlight.length >= 64) await Promise.all(inFlight.splice(0));
  };

  const check = async (
    token: IssuedToken,
    jwks: unknown,
    at: number,
    revoked: number | undefined,
    emergency: number | undefined,
  ): Promise<void> => {
    try {
      await verifyTokenWithJwks(token.jwt, {
        issuer: ISSUER,
        audiences: [AUDIENCE],
        now: new Date(at),
        jwks,
      });
    } catch (error) {
      const code = isIrsaError(error) ? error.code : 'UNEXPECTED';
      if (revoked !== undefined && revoked <= at) {
        report.rejectedRevoked += 1;
        return;
      }
      if (emergency !== undefined && at < emergency + maxAgeMs && code === 'TOKEN_KID_UNKNOWN') {
        report.rejectedEmergencyKey += 1;
        return;
      }
      report.rejectedValid += 1;
      example(
        `rejected valid token kid ${token.kid} iat ${iso(token.iat * 1000)} exp ${iso(token.exp * 1000)} at ${iso(at)}: ${code}`,
      );
      return;
    }
    report.accepted += 1;
    if (revoked !== undefined && at > revoked) {
      if (at > revoked + maxAgeMs) {
        report.acceptedRevoked += 1;
        example(`accepted token of revoked kid ${token.kid} at ${iso(at)}, revoked ${iso(revoked)}`);
      } else {
        report.acceptedRevokedWithinCacheBound += 1;
      }
    }
  };

  queue.push(START, { kind: 'tick' });
  queue.push(START + random.between(0, tokenIntervalMs), { kind: 'issue' });
  if (options.revoke === true)
    queue.push(START + (end - START) * random.between(0.3, 0.7), { kind: 'revoke' });

  for (let item = queue.pop(); item !== undefined; item = queue.pop()) {
    if (item.at > end) break;
    now = item.at;
    const event = item.event;
    switch (event.kind) {
      case 'tick': {
        report.scheduledRuns += 1;
        const first = keyset === undefined;
        if (!first && now >= outageUntil && random.chance(outageRate))
          outageUntil = now + random.between(1, 48) * HOUR;
        if (first || (now >= outageUntil && !random.chance(missedRunRate))) {
          if (
            options.fullRuns === true ||
            keyset === undefined ||
            plan(keyset, policy, new Date(now)).length > 0
          ) {
            await rotate();
          } else {
            report.steadyStateRunsSkipped += 1;
          }
        } else {
          report.missedRuns += 1;
        }
        trackActiveAge();
        const nextHour = START + (Math.floor((now - START) / HOUR) + 1) * HOUR;
        queue.push(nextHour + random.between(0, 60_000), { kind: 'tick' });
        break;
      }
      case 'issue': {
        await issue(nodes[random.int(nodes.length)] as Node, lifetime());
        queue.push(now + random.between(0, 2 * tokenIntervalMs), { kind: 'issue' });
        break;
      }
      case 'pickup': {
        const node = nodes[event.node] as Node;
        if (event.generation <= node.generation) break;
        // The worst cases: the last token signed with the old key (longest lifetime), and the
        // first one signed with the new key.
        await issue(node, policy.maxTokenLifetimeSeconds);
        node.kid = event.kid;
        node.generation = event.generation;
        await issue(node, lifetime());
        break;
      }
      case 'verify':
        await verify(event.token, verifiers[event.verifier] as Verifier);
        break;
      case 'revoke': {
        const target = keyset === undefined ? undefined : activeKey(keyset);
        if (target === undefined) break;
        // Every verifier has just fetched the JWKS (the worst case for revocation), and tokens the
        // revoked key signed just before are checked inside and beyond the cache bound.
        for (const verifier of verifiers) {
          verifier.jwks = publisher.current()?.jwks ?? null;
          verifier.expiresAt = now + random.between(1, cacheMaxAgeMs);
        }
        for (const node of nodes) {
          const checks = [now + random.between(1, maxAgeMs), now + maxAgeMs + random.between(1, HOUR)];
          await issue(node, policy.maxTokenLifetimeSeconds, checks);
        }
        await rotate({ revoke: target.kid });
        break;
      }
    }
  }
  await Promise.all(inFlight.splice(0));
  report.publishes = publisher.history.length;
  report.documentsCheckedForPrivateMembers = publisher.documentsChecked;
  report.wallClockMs = Math.round(performance.now() - started);
  return report;
}
