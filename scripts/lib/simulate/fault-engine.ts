/**
 * The crash and fault injection engine (issue 7 part 2, issue 12 item 3), shared by
 * test/reliability/fault-injection.test.ts and `irsa-anywhere simulate --faults`. The rotate step
 * (runRotation with the AWS adapters: S3 keyset store, S3 publisher, KMS keys or KMS-wrapped keys)
 * runs over a stateful fake account. For every scenario and every AWS call position of its clean
 * run: an error, a timeout before the call took effect, a timeout after it took effect, process
 * death right after the call returned, and a second run interleaved right after the call. After
 * each case ONE repair run (scheduled once an intent the faulted run left counts as abandoned)
 * must restore every invariant (invariants.ts), leave no KMS key or wrapped
 * object that the keyset does not reference (the leftovers, target 0), and the run after it must
 * be steady state. persistent-failure.ts measures the keys created while every keyset write
 * fails. It runs on the in-memory AWS adapter (functions/adapters/memory), so the CLI runs it anywhere.
 */

import { FakeAws, type FaultKind, ProcessDeath } from '#adapters/memory/memory-aws.ts';
import { isIrsaError } from '#core/errors.ts';
import type { Keyset } from '#core/keyset.ts';
import type { RotationRequest } from '#core/planner.ts';
import {
  deployment,
  keysetOf,
  MINUTE,
  type Mode,
  normal,
  REPAIR_AFTER,
  rotation,
  SCENARIOS,
  type Scenario,
  STEADY_CALLS,
  type World,
} from './fault-world.ts';
import { checkInvariants } from './invariants.ts';
import { persistentFailure } from './persistent-failure.ts';

const KINDS: FaultKind[] = ['error', 'timeout-before', 'timeout-after', 'death'];

/** Errors a faulted run may end with: the injected ones, or a coded error. */
function expectedFailure(error: unknown): boolean {
  if (error instanceof ProcessDeath) return true;
  if (isIrsaError(error)) return true;
  const name = (error as { name?: unknown }).name;
  return name === 'TimeoutError' || name === 'InternalError';
}

function stateCounts(keyset: Keyset): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const key of keyset.keys) counts[key.state] = (counts[key.state] ?? 0) + 1;
  return counts;
}

/** What one scenario in one mode gave. */
export interface Tally {
  positions: number;
  cases: number;
  violations: string[];
  unexpectedFailures: string[];
  /** KMS keys left enabled but not in the keyset, summed over the cases, after one repair run. */
  orphanKmsKeys: number;
  /** Wrapped-key objects not referenced by the keyset, summed over the cases, after one repair run. */
  orphanWrappedObjects: number;
}

/**
 * The run that repairs: scheduled, or the operator retrying the same request. A revoke retried
 * after the key was already revoked and destroyed answers REVOKE_UNKNOWN_KID; then the
 * scheduled run follows.
 */
async function repair(world: World, at: number, request: RotationRequest | undefined): Promise<void> {
  try {
    await normal(world, at, request);
  } catch (error) {
    if (!(isIrsaError(error, 'REVOKE_UNKNOWN_KID') && request?.revoke !== undefined)) throw error;
    await normal(world, at);
  }
}

async function checkCase(
  world: World,
  scenario: Scenario,
  label: string,
  at: number,
  request: RotationRequest | undefined,
  expected: Record<string, number>,
  tally: Tally,
): Promise<void> {
  tally.cases += 1;
  try {
    await repair(world, at + REPAIR_AFTER, request);
  } catch (error) {
    tally.violations.push(`${label}: the repair run failed: ${String(error)}`);
    return;
  }
  const options = scenario.emergency === true ? { emergency: true } : {};
  const report = checkInvariants(world.aws, deployment, options);
  tally.orphanKmsKeys += report.orphanKmsKeys;
  tally.orphanWrappedObjects += report.orphanWrappedObjects;
  if (report.orphanKmsKeys + report.orphanWrappedObjects > 0)
    tally.violations.push(
      `${label}: left ${report.orphanKmsKeys} KMS key(s) and ${report.orphanWrappedObjects} wrapped object(s) after the repair run`,
    );
  for (const violation of report.violations) tally.violations.push(`${label}: ${violation}`);
  if (report.keyset !== undefined) {
    const counts = stateCounts(report.keyset);
    const same =
      scenario.repeatable === true
        ? counts.active === 1 && Object.entries(expected).every(([state, n]) => (counts[state] ?? 0) >= n)
        : JSON.stringify(counts) === JSON.stringify(expected);
    if (!same) {
      tally.violations.push(
        `${label}: repaired keyset has ${JSON.stringify(counts)}, a clean run ${JSON.stringify(expected)}`,
      );
    }
    if (request?.revoke !== undefined) {
      const jwks = world.aws.text(deployment.publicBucket, 'openid/v1/jwks') ?? '';
      if (jwks.includes(request.revoke))
        tally.violations.push(`${label}: the revoked key is still published`);
    }
  }
  const steady = world.aws.process();
  await rotation(world, steady, at + REPAIR_AFTER + MINUTE);
  if (steady.calls.join() !== STEADY_CALLS)
    tally.violations.push(`${label}: the next run is not steady: ${steady.calls.join(' ')}`);
}

/** Runs every fault at every call position of `scenario` in `mode`, with one repair run each. */
export async function exercise(mode: Mode, scenario: Scenario): Promise<Tally> {
  const aws = new FakeAws();
  const world: World = { aws, mode, wrappingKeyId: aws.createWrappingKey() };
  const { at, request } = await scenario.prepare(world);
  const start = aws.snapshot();
  const clean = aws.process();
  await rotation(world, clean, at, request);
  const expected = stateCounts(keysetOf(world));
  const positions = clean.calls.length;
  const tally: Tally = {
    positions: 0,
    cases: 0,
    violations: [],
    unexpectedFailures: [],
    orphanKmsKeys: 0,
    orphanWrappedObjects: 0,
  };
  for (let position = 0; position < positions; position++) {
    const call = clean.calls[position];
    for (const kind of KINDS) {
      aws.restore(start);
      const faulted = aws.process();
      faulted.arm(position, kind);
      const label = `${mode} ${scenario.name} ${kind} at call ${position} (${call})`;
      try {
        await rotation(world, faulted, at, request);
      } catch (error) {
        if (!expectedFailure(error)) tally.unexpectedFailures.push(`${label}: ${String(error)}`);
      }
      tally.positions += 1;
      await checkCase(world, scenario, label, at, request, expected, tally);
    }
    // Two runs at once: A stalls right after this call, B runs to the end, then A goes on.
    aws.restore(start);
    const a = aws.process();
    let release = (): void => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const reached = a.pauseAfter(position, gate);
    const runA = rotation(world, a, at, request).then(
      () => undefined,
      (error: unknown) => error,
    );
    await Promise.race([reached, runA]);
    let errorB: unknown;
    await normal(world, at + 30_000, request).catch((error: unknown) => {
      errorB = error;
    });
    release();
    const errorA = await runA;
    const label = `${mode} ${scenario.name} interleaved after call ${position} (${call})`;
    for (const error of [errorA, errorB]) {
      if (error !== undefined && !isIrsaError(error))
        tally.unexpectedFailures.push(`${label}: ${String(error)}`);
    }
    tally.positions += 1;
    await checkCase(world, scenario, label, at, request, expected, tally);
  }
  return tally;
}

/** What `simulate --faults` reports. */
export interface FaultSuiteReport {
  cases: number;
  violations: number;
  leftoverKeys: number;
  leftoverObjects: number;
  /** KMS keys created over 48 hourly runs while every keyset write fails (worst of the variants). */
  persistentFailureKeysCreated: number;
  /** The first violations, as sentences. */
  examples: string[];
}

/** Runs the whole suite (both modes, every scenario) and the persistent-failure runs. */
export async function runFaultSuite(): Promise<FaultSuiteReport> {
  const report: FaultSuiteReport = {
    cases: 0,
    violations: 0,
    leftoverKeys: 0,
    leftoverObjects: 0,
    persistentFailureKeysCreated: 0,
    examples: [],
  };
  for (const mode of ['kms', 'wrapped'] as const) {
    for (const scenario of SCENARIOS) {
      const tally = await exercise(mode, scenario);
      const problems = [...tally.violations, ...tally.unexpectedFailures];
      report.cases += tally.cases;
      report.violations += problems.length;
      report.leftoverKeys += tally.orphanKmsKeys;
      report.leftoverObjects += tally.orphanWrappedObjects;
      report.examples.push(...problems.slice(0, Math.max(0, 10 - report.examples.length)));
    }
  }
  for (const from of ['first-write', 'after-intent'] as const) {
    const run = await persistentFailure({ hours: 48, from });
    report.persistentFailureKeysCreated = Math.max(report.persistentFailureKeysCreated, run.keysCreated);
    if (run.leftoverAfterRecovery > 0) {
      report.violations += 1;
      report.examples.push(
        `persistent failure (${from}): ${run.leftoverAfterRecovery} key(s) left after recovery`,
      );
    }
  }
  return report;
}
