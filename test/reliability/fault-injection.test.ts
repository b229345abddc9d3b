/**
 * Crash and fault injection (issue 7, part 2). The rotate step (runRotation with the AWS adapters:
 * S3 keyset store, S3 publisher, KMS keys or KMS-wrapped keys) runs over a stateful fake account.
 * For every scenario and every AWS call position of its clean run: an error, a timeout before the
 * call took effect, a timeout after it took effect, process death right after the call returned,
 * and a second run interleaved right after the call. After each case a normal run must restore
 * every invariant (test/reliability/invariants.ts) and the run after it must be steady state.
 */
import { describe, expect, it } from 'vitest';
import { KmsKeys } from '#adapters/aws/kms-keys.ts';
import { KmsWrappedKeys } from '#adapters/aws/kms-wrapped-keys.ts';
import { S3KeysetStore } from '#adapters/aws/s3-keyset-store.ts';
import { S3Publisher } from '#adapters/aws/s3-publisher.ts';
import { isIrsaError } from '#core/errors.ts';
import type { Keyset } from '#core/keyset.ts';
import { parseKeyset } from '#core/keyset-parse.ts';
import { activeKey, type RotationRequest } from '#core/planner.ts';
import { DEFAULT_POLICY_INPUT, makePolicy } from '#core/policy.ts';
import { type RotationReport, runRotation } from '#core/rotation-run.ts';
import { FakeAws, type FakeProcess, type FaultKind, ProcessDeath } from '../support/aws-fakes.ts';
import { checkInvariants, type Deployment } from './invariants.ts';

type Mode = 'kms' | 'wrapped';

const policy = makePolicy({ ...DEFAULT_POLICY_INPUT, keySpec: 'ECC_NIST_P256' });
const deployment: Deployment = {
  stateBucket: 'irsa-state',
  publicBucket: 'irsa-public',
  issuer: 'https://oidc.example.com/faults',
  cluster: 'faults',
  policy,
};
const T0 = Date.parse('2026-03-01T00:00:00Z');
const MINUTE = 60_000;
const HOUR = 3_600_000;

interface World {
  aws: FakeAws;
  mode: Mode;
  wrappingKeyId: string;
}

function rotation(
  world: World,
  proc: FakeProcess,
  at: number,
  request?: RotationRequest,
): Promise<RotationReport> {
  const keys =
    world.mode === 'kms'
      ? new KmsKeys({ kms: proc.kms, cluster: deployment.cluster })
      : new KmsWrappedKeys({
          kms: proc.kms,
          s3: proc.s3,
          bucket: deployment.stateBucket,
          cluster: deployment.cluster,
          wrappingKeyId: world.wrappingKeyId,
        });
  return runRotation(
    {
      store: new S3KeysetStore({ s3: proc.s3, bucket: deployment.stateBucket }),
      publisher: new S3Publisher({
        s3: proc.s3,
        bucket: deployment.publicBucket,
        jwksMaxAgeSeconds: policy.jwksMaxAgeSeconds,
      }),
      keys,
      policy,
      cluster: deployment.cluster,
      issuer: deployment.issuer,
      clock: () => new Date(at),
    },
    request,
  );
}

function keysetOf(world: World): Keyset {
  return parseKeyset(world.aws.text(deployment.stateBucket, 'keyset.json') ?? '');
}

/** A starting state and the run under test. */
interface Scenario {
  name: string;
  /** Normal runs that lead to the starting state; returns the time and request of the run under test. */
  prepare(world: World): Promise<{ at: number; request?: RotationRequest }>;
  emergency?: boolean;
  /**
   * The request is not idempotent (rotate-now rotates once per request): a retry after an
   * ambiguous failure, or a second concurrent run, rotates again. The repaired keyset then holds
   * at least the clean run's keys in each state and still exactly one active key.
   */
  repeatable?: boolean;
}

const normal = (world: World, at: number, request?: RotationRequest) =>
  rotation(world, world.aws.process(), at, request);

const SCENARIOS: Scenario[] = [
  { name: 'bootstrap', prepare: async () => ({ at: T0 }) },
  {
    name: 'create-pending',
    prepare: async (world) => {
      await normal(world, T0);
      return { at: T0 + (policy.rotationPeriodSeconds - policy.publishLeadSeconds) * 1000 + HOUR };
    },
  },
  {
    name: 'promote',
    prepare: async (world) => {
      await normal(world, T0);
      const created = T0 + (policy.rotationPeriodSeconds - policy.publishLeadSeconds) * 1000 + HOUR;
      await normal(world, created);
      return { at: created + policy.publishLeadSeconds * 1000 + HOUR };
    },
  },
  {
    name: 'delete+destroy',
    prepare: async (world) => {
      await normal(world, T0);
      const created = T0 + (policy.rotationPeriodSeconds - policy.publishLeadSeconds) * 1000 + HOUR;
      await normal(world, created);
      const promoted = created + policy.publishLeadSeconds * 1000 + HOUR;
      await normal(world, promoted);
      return { at: promoted + policy.retentionSeconds * 1000 + HOUR };
    },
  },
  {
    name: 'revoke (pending key takes over)',
    emergency: true,
    prepare: async (world) => {
      await normal(world, T0);
      const created = T0 + (policy.rotationPeriodSeconds - policy.publishLeadSeconds) * 1000 + HOUR;
      await normal(world, created);
      return { at: created + HOUR, request: { revoke: activeKey(keysetOf(world))?.kid ?? '' } };
    },
  },
  {
    name: 'revoke (new key created)',
    emergency: true,
    prepare: async (world) => {
      await normal(world, T0);
      return { at: T0 + HOUR, request: { revoke: activeKey(keysetOf(world))?.kid ?? '' } };
    },
  },
  {
    name: 'rotate-now',
    emergency: true,
    repeatable: true,
    prepare: async (world) => {
      await normal(world, T0);
      return { at: T0 + HOUR, request: { rotateNow: true } };
    },
  },
];

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

interface Tally {
  positions: number;
  cases: number;
  violations: string[];
  unexpectedFailures: string[];
  orphanKmsKeys: number;
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
    await repair(world, at + MINUTE, request);
  } catch (error) {
    tally.violations.push(`${label}: the repair run failed: ${String(error)}`);
    return;
  }
  const options = scenario.emergency === true ? { emergency: true } : {};
  const report = checkInvariants(world.aws, deployment, options);
  tally.orphanKmsKeys += report.orphanKmsKeys;
  tally.orphanWrappedObjects += report.orphanWrappedObjects;
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
  await rotation(world, steady, at + 2 * MINUTE);
  if (steady.calls.join() !== 's3:GetObject')
    tally.violations.push(`${label}: the next run is not steady: ${steady.calls.join(' ')}`);
}

async function exercise(mode: Mode, scenario: Scenario): Promise<Tally> {
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

describe('crash and fault injection at every AWS call position', () => {
  const totals = { positions: 0, cases: 0, violations: 0, orphanKmsKeys: 0, orphanWrappedObjects: 0 };
  for (const mode of ['kms', 'wrapped'] as const) {
    for (const scenario of SCENARIOS) {
      it(`${mode}: ${scenario.name} recovers from every fault`, { timeout: 300_000 }, async () => {
        const tally = await exercise(mode, scenario);
        totals.positions += tally.positions;
        totals.cases += tally.cases;
        totals.violations += tally.violations.length;
        totals.orphanKmsKeys += tally.orphanKmsKeys;
        totals.orphanWrappedObjects += tally.orphanWrappedObjects;
        console.info(
          `faults ${mode} ${scenario.name}: ${tally.positions} cases (${tally.positions / 5} call positions x 4 faults + interleave), violations ${tally.violations.length}, unexpected failures ${tally.unexpectedFailures.length}, orphan KMS keys ${tally.orphanKmsKeys}, orphan wrapped objects ${tally.orphanWrappedObjects}`,
        );
        expect(tally.positions).toBeGreaterThan(0);
        expect(tally.unexpectedFailures).toEqual([]);
        expect(tally.violations).toEqual([]);
      });
    }
  }
  it('totals', () => {
    console.info(`faults total: ${JSON.stringify(totals)}`);
    expect(totals.violations).toBe(0);
  });
});

describe('the checker and the fakes can fail (controls)', () => {
  it('a JWKS published without the active key is reported', async () => {
    const aws = new FakeAws();
    const world: World = { aws, mode: 'kms', wrappingKeyId: '' };
    await normal(world, T0);
    expect(checkInvariants(aws, deployment).violations).toEqual([]);
    const id = `${deployment.publicBucket}/openid/v1/jwks`;
    const object = aws.state.objects.get(id);
    if (object === undefined) throw new Error('no jwks');
    object.body = new TextEncoder().encode('{"keys":[]}');
    expect(checkInvariants(aws, deployment).violations).toContain('the published JWKS is empty');
  });

  it('a KMS key destroyed while its key is still published is reported', async () => {
    const aws = new FakeAws();
    const world: World = { aws, mode: 'kms', wrappingKeyId: '' };
    await normal(world, T0);
    for (const key of aws.state.keys.values()) key.state = 'PendingDeletion';
    expect(checkInvariants(aws, deployment).violations.join()).toMatch(/KMS key of .* is PendingDeletion/);
  });

  it('a stale If-Match is refused by the fake S3', async () => {
    const aws = new FakeAws();
    const world: World = { aws, mode: 'kms', wrappingKeyId: '' };
    await normal(world, T0);
    const store = new S3KeysetStore({ s3: aws.process().s3, bucket: deployment.stateBucket });
    const read = await store.read();
    if (read === null) throw new Error('no keyset');
    await store.write({ ...read.keyset, updatedAt: new Date(T0 + 1).toISOString() }, read.version);
    await expect(store.write(read.keyset, read.version)).rejects.toMatchObject({ code: 'STATE_CONFLICT' });
  });
});
