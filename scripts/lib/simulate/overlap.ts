/**
 * `simulate --overlap`: overlapping rotation runs on a virtual clock. The real runner (planner
 * included) runs over the real local adapters (keyset.json with compare-and-swap, conditional
 * publishing of the public documents, software keys), but every port call first waits a random
 * virtual delay, so runs interleave at every step: hourly runs (some duplicated, as EventBridge
 * delivers at least once), slow runs with delays of minutes per step, runs that die part way, and
 * an operator's `rotate --revoke <active kid>` or `rotate --now` at random times in between.
 * Cooperative scheduling keeps it deterministic per seed: exactly one run executes at a time,
 * until its next port call parks it; the earliest wake-up in virtual time goes next.
 *
 * It counts what must never happen (docs/reliability.md):
 * - `staleRevokedPublished`: a publish that makes a revoked key public again after a JWKS without
 *   it had been public;
 * - `pendingDropped`: a publish that leaves out a key that was public before and that the newest
 *   keyset holds as pending or active.
 */
import { readFile } from 'node:fs/promises';
import { composeLocal } from '#adapters/local/compose-local.ts';
import { isIrsaError } from '#core/errors.ts';
import type { Keyset } from '#core/keyset.ts';
import type { RotationRequest } from '#core/planner.ts';
import { DEFAULT_POLICY_INPUT, makePolicy } from '#core/policy.ts';
import type { PublicDocuments } from '#core/ports.ts';
import { runRotation } from '#core/rotation-run.ts';
import { createRandom } from './prng.ts';
import { delayed, RunDeath, type RunShape, Scheduler, START } from './scheduler.ts';

/** Options of {@link runOverlap}. */
export interface OverlapOptions {
  /** A fresh directory for the local state. */
  dir: string;
  seed: number;
  /** Virtual days to simulate (default 30). */
  days?: number;
  /** Test control: publish without the If-Match condition (the code before issue 11). */
  unconditionalPublish?: boolean;
}

/** What {@link runOverlap} counted. */
export interface OverlapReport {
  seed: number;
  days: number;
  runs: number;
  /** Runs that started while another was still going. */
  overlappingRuns: number;
  slowRuns: number;
  diedRuns: number;
  revokes: number;
  rotateNows: number;
  publishes: number;
  /** Publishes refused because another run had published since (PUBLISH_CONFLICT). */
  publishConflicts: number;
  staleRevokedPublished: number;
  pendingDropped: number;
  /** The public JWKS at the end equals the newest keyset's pending, active and retired keys. */
  finalConsistent: boolean;
  examples: string[];
}

/** The counters of an overlap run: one list for a run's report and for the sum over seeds. */
export const OVERLAP_COUNTERS = [
  'runs',
  'overlappingRuns',
  'slowRuns',
  'diedRuns',
  'revokes',
  'rotateNows',
  'publishes',
  'publishConflicts',
  'staleRevokedPublished',
  'pendingDropped',
] as const satisfies readonly (keyof OverlapReport)[];

/** Every counter at zero. */
export function zeroCounters(): Record<(typeof OVERLAP_COUNTERS)[number], number> {
  return Object.fromEntries(OVERLAP_COUNTERS.map((name) => [name, 0])) as Record<
    (typeof OVERLAP_COUNTERS)[number],
    number
  >;
}

const HOUR = 3_600_000;
const ISSUER = 'https://oidc.simulation.example/overlap';

/** Runs the overlap simulation for one seed. */
export async function runOverlap(options: OverlapOptions): Promise<OverlapReport> {
  const random = createRandom(options.seed);
  const days = options.days ?? 30;
  // A short rotation so a month sees several full cycles.
  const policy = makePolicy({
    ...DEFAULT_POLICY_INPUT,
    keySpec: 'ECC_NIST_P256',
    rotationPeriodDays: 1,
    publishLeadHours: 2,
    maxTokenLifetimeSeconds: 3600,
  });
  const local = composeLocal(options.dir);
  const sched = new Scheduler();
  const report: OverlapReport = {
    seed: options.seed,
    days,
    ...zeroCounters(),
    finalConsistent: false,
    examples: [],
  };
  const example = (text: string): void => {
    if (report.examples.length < 10) report.examples.push(text);
  };
  const iso = (ms: number): string => new Date(ms).toISOString();
  /** Revoked kids, and whether a JWKS without them has been public since. */
  const revoked = new Map<string, boolean>();
  /** Kids that have been public at least once. */
  const everPublic = new Set<string>();

  const newest = async (): Promise<Keyset | null> => (await local.store.read())?.keyset ?? null;

  const onPublish = (documents: PublicDocuments): void => {
    report.publishes += 1;
    const kids = (JSON.parse(documents.jwks) as { keys: Array<{ kid: string }> }).keys.map((key) => key.kid);
    // What became public: judged against the newest keyset (read synchronously below, in check).
    pendingChecks.push(kids);
  };
  const pendingChecks: string[][] = [];
  const check = async (): Promise<void> => {
    const keyset = await newest();
    for (const kids of pendingChecks.splice(0)) {
      for (const [kid, unpublished] of revoked) {
        if (kids.includes(kid) && unpublished) {
          report.staleRevokedPublished += 1;
          example(`revoked ${kid.slice(0, 8)} public again at ${iso(sched.now)}`);
        }
        if (!kids.includes(kid)) revoked.set(kid, true);
      }
      for (const key of keyset?.keys ?? []) {
        if (
          (key.state === 'pending' || key.state === 'active') &&
          everPublic.has(key.kid) &&
          !kids.includes(key.kid)
        ) {
          report.pendingDropped += 1;
          example(`${key.state} ${key.kid.slice(0, 8)} dropped from the JWKS at ${iso(sched.now)}`);
        }
      }
      for (const kid of kids) everPublic.add(kid);
    }
  };

  const run = async (request: RotationRequest, shape: RunShape): Promise<void> => {
    report.runs += 1;
    if (sched.active > 1) report.overlappingRuns += 1;
    const conflict = (): void => {
      report.publishConflicts += 1;
    };
    const ports = delayed(
      local,
      sched,
      random,
      shape,
      onPublish,
      conflict,
      options.unconditionalPublish === true,
    );
    try {
      const result = await runRotation(
        { ...ports, policy, cluster: 'overlap', issuer: ISSUER, clock: () => new Date(sched.now) },
        request,
      );
      for (const step of result.steps) if (step.action.type === 'revoke') revoked.set(step.action.kid, false);
    } catch (error) {
      if (error instanceof RunDeath) report.diedRuns += 1;
      else if (!isIrsaError(error)) throw error;
      // Coded failures (lost races, a revoke already done by another run, INTENT_OPEN) are expected.
    } finally {
      await check();
    }
  };

  const end = START + days * 24 * HOUR;
  const shape = (): RunShape => {
    const slow = random.chance(0.15);
    if (slow) report.slowRuns += 1;
    return {
      maxDelayMs: slow ? random.between(60_000, 20 * 60_000) : 2_000,
      dieAtCall: random.chance(0.1) ? 1 + random.int(12) : undefined,
    };
  };
  const schedule = (at: number, event: () => Promise<void>): void => {
    sched.queue.push(at, () => sched.start(event));
  };
  const operator = (at: number): void => {
    if (random.chance(0.7)) {
      schedule(at, async () => {
        const active = (await newest())?.keys.find((key) => key.state === 'active');
        if (active === undefined) return;
        report.revokes += 1;
        await run({ revoke: active.kid }, { maxDelayMs: 2_000, dieAtCall: undefined });
      });
    } else {
      schedule(at, async () => {
        report.rotateNows += 1;
        await run({ rotateNow: true }, { maxDelayMs: 2_000, dieAtCall: undefined });
      });
    }
  };
  for (let at = START; at < end; at += HOUR) {
    const jitter = random.between(0, 60_000);
    schedule(at + jitter, () => run({}, shape()));
    // EventBridge delivers at least once: sometimes the same event twice.
    if (random.chance(0.1)) schedule(at + jitter + random.between(0, 5_000), () => run({}, shape()));
    if (at > START && random.chance(0.03)) operator(at + random.between(0, HOUR));
    // The race of issue 11: a run dies part way (leaving work, e.g. a publish), a slow run picks it
    // up, and an operator revokes or rotates while the slow run is between reading and publishing.
    if (at > START && random.chance(0.15)) {
      const t = at + random.between(5 * 60_000, 50 * 60_000);
      schedule(t, () => run({}, { maxDelayMs: 2_000, dieAtCall: 1 + random.int(10) }));
      schedule(t + 1_000, () => {
        report.slowRuns += 1;
        return run({}, { maxDelayMs: random.between(60_000, 10 * 60_000), dieAtCall: undefined });
      });
      operator(t + random.between(10_000, 15 * 60_000));
    }
  }
  await sched.drain(end + 24 * HOUR);
  // A last quiet run (after any intent grace): the JWKS then matches the newest keyset.
  sched.now = end + 2 * 24 * HOUR;
  await runRotation({
    ...local,
    policy,
    cluster: 'overlap',
    issuer: ISSUER,
    clock: () => new Date(sched.now),
  });
  const keyset = await newest();
  const live = await local.publisher.inspect();
  const desired = new Set(
    (keyset?.keys ?? []).filter((key) => key.state !== 'deleted').map((key) => key.kid),
  );
  const jwks = JSON.parse(await readFile(local.paths.jwks, 'utf8')) as { keys: Array<{ kid: string }> };
  const published = new Set(jwks.keys.map((key) => key.kid));
  report.finalConsistent =
    live.jwks !== null && desired.size === published.size && [...desired].every((kid) => published.has(kid));
  return report;
}

/** The figures that must be zero. */
export function overlapViolations(report: OverlapReport): Record<string, number> {
  return {
    staleRevokedPublished: report.staleRevokedPublished,
    pendingDropped: report.pendingDropped,
    finalInconsistent: report.finalConsistent ? 0 : 1,
  };
}
