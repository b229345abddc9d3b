/**
 * Keys created while every keyset write fails (issue 12 item 3): the fault suite's worst case for
 * leaks, on the same fake account and scenarios as fault-engine.ts.
 */
import { awsError, FakeAws } from '#adapters/memory/memory-aws.ts';
import { deployment, HOUR, normal, policy, rotation, T0, type World } from './fault-world.ts';
import { checkInvariants } from './invariants.ts';

/** What {@link persistentFailure} measured. */
export interface PersistentFailureReport {
  keysCreated: number;
  /** Enabled KMS keys the keyset does not reference, after the failure cleared and one run. */
  leftoverAfterRecovery: number;
}

/**
 * `hours` hourly runs (kms mode) while every keyset.json write is refused (a bucket policy, SCP
 * or Object Lock change), starting when a new pending key is due; `from: 'after-intent'` lets the
 * first intent write through (the worst case: the failure begins between intent and record).
 * Then the failure clears and one more run (after the intent grace) must leave nothing behind.
 */
export async function persistentFailure(options: {
  hours: number;
  from: 'first-write' | 'after-intent';
}): Promise<PersistentFailureReport> {
  const aws = new FakeAws();
  const world: World = { aws, mode: 'kms', wrappingKeyId: '' };
  await normal(world, T0);
  const start = T0 + (policy.rotationPeriodSeconds - policy.publishLeadSeconds) * 1000 + HOUR;
  const before = aws.state.keys.size;
  let allowed = options.from === 'after-intent' ? 1 : 0;
  for (let hour = 0; hour < options.hours; hour += 1) {
    const proc = aws.process();
    proc.beforePut = (bucket, key) => {
      if (bucket !== deployment.stateBucket || key !== 'keyset.json') return;
      if (allowed > 0) {
        allowed -= 1;
        return;
      }
      throw awsError('AccessDenied', 403, 'injected: keyset writes are refused');
    };
    await rotation(world, proc, start + hour * HOUR).catch(() => undefined);
  }
  const keysCreated = aws.state.keys.size - before;
  await normal(world, start + options.hours * HOUR);
  return { keysCreated, leftoverAfterRecovery: checkInvariants(aws, deployment).orphanKmsKeys };
}
