/**
 * Crash and fault injection (issue 7 part 2, issue 12 item 3): the engine in ./fault-engine.ts
 * runs every fault at every AWS call position of every scenario, then ONE repair run. Every
 * invariant must hold after it, nothing may be left behind (0 KMS keys, 0 wrapped objects the
 * keyset does not reference), and the run after must be steady state. `irsa-anywhere simulate
 * --faults --json` prints the same figures.
 */
import { describe, expect, it } from 'vitest';
import { S3KeysetStore } from '#adapters/aws/s3-keyset-store.ts';
import { exercise } from '#scripts/lib/simulate/fault-engine.ts';
import { deployment, normal, SCENARIOS, T0, type World } from '#scripts/lib/simulate/fault-world.ts';
import { checkInvariants } from '#scripts/lib/simulate/invariants.ts';
import { persistentFailure } from '#scripts/lib/simulate/persistent-failure.ts';
import { FakeAws } from '../support/aws-fakes.ts';

describe('crash and fault injection at every AWS call position', () => {
  const totals = { positions: 0, cases: 0, violations: 0, orphanKmsKeys: 0, orphanWrappedObjects: 0 };
  for (const mode of ['kms', 'wrapped'] as const) {
    for (const scenario of SCENARIOS) {
      it(`${mode}: ${scenario.name} recovers from every fault in one run, leaving nothing behind`, {
        timeout: 300_000,
      }, async () => {
        const tally = await exercise(mode, scenario);
        totals.positions += tally.positions;
        totals.cases += tally.cases;
        totals.violations += tally.violations.length;
        totals.orphanKmsKeys += tally.orphanKmsKeys;
        totals.orphanWrappedObjects += tally.orphanWrappedObjects;
        console.info(
          `faults ${mode} ${scenario.name}: ${tally.positions} cases (${tally.positions / 5} call positions x 4 faults + interleave), violations ${tally.violations.length}, unexpected failures ${tally.unexpectedFailures.length}, leftover KMS keys ${tally.orphanKmsKeys}, leftover wrapped objects ${tally.orphanWrappedObjects}`,
        );
        expect(tally.positions).toBeGreaterThan(0);
        expect(tally.unexpectedFailures).toEqual([]);
        expect(tally.violations).toEqual([]);
        expect(tally.orphanKmsKeys).toBe(0);
        expect(tally.orphanWrappedObjects).toBe(0);
      });
    }
  }
  it('totals', () => {
    console.info(`faults total: ${JSON.stringify(totals)}`);
    expect(totals.violations).toBe(0);
  });
});

describe('persistent keyset write failure (48 hourly runs)', () => {
  it('creates no key when every keyset write fails, and leaves nothing once it clears', {
    timeout: 120_000,
  }, async () => {
    const run = await persistentFailure({ hours: 48, from: 'first-write' });
    console.info(`persistent failure from the first write: ${JSON.stringify(run)}`);
    expect(run).toEqual({ keysCreated: 0, leftoverAfterRecovery: 0 });
  });

  it('creates at most one key when the failure starts right after an intent write; adopts it once it clears', {
    timeout: 120_000,
  }, async () => {
    const run = await persistentFailure({ hours: 48, from: 'after-intent' });
    console.info(`persistent failure after an intent write: ${JSON.stringify(run)}`);
    expect(run.keysCreated).toBeLessThanOrEqual(1);
    expect(run.leftoverAfterRecovery).toBe(0);
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

  it('an unrecorded KMS key is counted as a leftover', async () => {
    const aws = new FakeAws();
    const world: World = { aws, mode: 'kms', wrappingKeyId: '' };
    await normal(world, T0);
    const [id, key] = [...aws.state.keys.entries()][0] ?? [];
    if (id === undefined || key === undefined) throw new Error('no key');
    aws.state.keys.set('stray', { ...key, tags: {} });
    expect(checkInvariants(aws, deployment).orphanKmsKeys).toBe(1);
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
