/**
 * The world of the fault injection suite (fault-engine.ts): one in-memory AWS account
 * (functions/adapters/memory), the deployment under test, the rotate step as the Lambda runs it
 * (runRotation over the real S3 and KMS adapters), and the scenarios: every kind of step the
 * rotate function takes, each prepared by normal runs.
 */
import { KmsKeys } from '#adapters/aws/kms-keys.ts';
import { KmsWrappedKeys } from '#adapters/aws/kms-wrapped-keys.ts';
import { S3KeysetStore } from '#adapters/aws/s3-keyset-store.ts';
import { S3Publisher } from '#adapters/aws/s3-publisher.ts';
import type { FakeAws, FakeProcess } from '#adapters/memory/memory-aws.ts';
import type { Keyset } from '#core/keyset.ts';
import { parseKeyset } from '#core/keyset-parse.ts';
import { activeKey, INTENT_GRACE_SECONDS, type RotationRequest } from '#core/planner.ts';
import { DEFAULT_POLICY_INPUT, makePolicy } from '#core/policy.ts';
import { type RotationReport, runRotation } from '#core/rotation-run.ts';
import type { Deployment } from './invariants.ts';

export const policy = makePolicy({ ...DEFAULT_POLICY_INPUT, keySpec: 'ECC_NIST_P256' });
export const deployment: Deployment = {
  stateBucket: 'irsa-state',
  publicBucket: 'irsa-public',
  issuer: 'https://oidc.example.com/faults',
  cluster: 'faults',
  policy,
};
export const T0 = Date.parse('2026-03-01T00:00:00Z');
export const MINUTE = 60_000;
export const HOUR = 3_600_000;
/** When the repair run comes: once an intent left by the faulted run counts as abandoned. */
export const REPAIR_AFTER = INTENT_GRACE_SECONDS * 1000 + MINUTE;
/** What a run with nothing to do calls: the two live documents, then the keyset. */
export const STEADY_CALLS = 's3:HeadObject,s3:HeadObject,s3:GetObject';

/** Which backend the keys live in. */
export type Mode = 'kms' | 'wrapped';

/** One fake account and how its keys are kept. */
export interface World {
  aws: FakeAws;
  mode: Mode;
  wrappingKeyId: string;
}

export function rotation(
  world: World,
  proc: FakeProcess,
  at: number,
  request?: RotationRequest,
): Promise<RotationReport> {
  const keys =
    world.mode === 'kms'
      ? new KmsKeys({
          kms: proc.kms,
          kmsCreate: proc.kmsCreate,
          tagging: proc.tagging,
          cluster: deployment.cluster,
        })
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

export function keysetOf(world: World): Keyset {
  return parseKeyset(world.aws.text(deployment.stateBucket, 'keyset.json') ?? '');
}

/** A starting state and the run under test. */
export interface Scenario {
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

export const normal = (world: World, at: number, request?: RotationRequest) =>
  rotation(world, world.aws.process(), at, request);

/** The scenarios of the suite: every kind of step the rotate function takes. */
export const SCENARIOS: Scenario[] = [
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
