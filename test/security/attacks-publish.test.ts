/**
 * Attacks on publishing (issue 11, items 4 and 5), run over the stateful fake AWS account with the
 * real adapters (S3 keyset store, S3 publisher, KMS keys) and the real runner:
 * (a) a bucket writer replaces the JWKS with its own key and copies the `sha256` user metadata the
 *     old publisher trusted: later runs must detect the drift and repair it;
 * (b) a slow run that read the keyset before `rotate --revoke K` publishes after the revoke and
 *     dies: K must never be live again;
 * (c) the same race with an old keyset dropping a pending key.
 * Each attack first succeeded on the code before the fix (see docs/reliability.md).
 */
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KmsKeys } from '#adapters/aws/kms-keys.ts';
import { S3KeysetStore } from '#adapters/aws/s3-keyset-store.ts';
import { S3Publisher } from '#adapters/aws/s3-publisher.ts';
import { publicJwkFromSpki } from '#core/jwk.ts';
import type { Keyset } from '#core/keyset.ts';
import { parseKeyset } from '#core/keyset-parse.ts';
import { kidFromSpki } from '#core/kid.ts';
import { activeKey, type RotationRequest } from '#core/planner.ts';
import { DEFAULT_POLICY_INPUT, makePolicy } from '#core/policy.ts';
import { type RotationReport, runRotation } from '#core/rotation-run.ts';
import { checkInvariants, type Deployment } from '#scripts/lib/simulate/invariants.ts';
import { FakeAws, type FakeProcess, ProcessDeath } from '../support/aws-fakes.ts';

const policy = makePolicy({ ...DEFAULT_POLICY_INPUT, keySpec: 'ECC_NIST_P256' });
const deployment: Deployment = {
  stateBucket: 'irsa-state',
  publicBucket: 'irsa-public',
  issuer: 'https://oidc.example.com/attacks',
  cluster: 'attacks',
  policy,
};
const JWKS = 'openid/v1/jwks';
const T0 = Date.parse('2026-03-01T00:00:00Z');
const MINUTE = 60_000;
const HOUR = 3_600_000;
const CREATE_DUE = T0 + (policy.rotationPeriodSeconds - policy.publishLeadSeconds) * 1000 + HOUR;

/** A publisher hook: runs around the real S3 publisher's publish. */
type PublishWrap = (publish: () => Promise<unknown>) => Promise<unknown>;

function rotation(
  proc: FakeProcess,
  at: number,
  request?: RotationRequest,
  wrap?: PublishWrap,
): Promise<RotationReport> {
  const options = {
    s3: proc.s3,
    bucket: deployment.publicBucket,
    jwksMaxAgeSeconds: policy.jwksMaxAgeSeconds,
  };
  const publisher =
    wrap === undefined
      ? new S3Publisher(options)
      : new (class extends S3Publisher {
          override publish(...args: Parameters<S3Publisher['publish']>): ReturnType<S3Publisher['publish']> {
            return wrap(() => super.publish(...args)) as ReturnType<S3Publisher['publish']>;
          }
        })(options);
  return runRotation(
    {
      store: new S3KeysetStore({ s3: proc.s3, bucket: deployment.stateBucket }),
      publisher,
      keys: new KmsKeys({ kms: proc.kms, cluster: deployment.cluster }),
      policy,
      cluster: deployment.cluster,
      issuer: deployment.issuer,
      clock: () => new Date(at),
    },
    request,
  );
}

const run = (aws: FakeAws, at: number, request?: RotationRequest) => rotation(aws.process(), at, request);

function keysetOf(aws: FakeAws): Keyset {
  return parseKeyset(aws.text(deployment.stateBucket, 'keyset.json') ?? '');
}

function liveKids(aws: FakeAws): string[] {
  const jwks = JSON.parse(aws.text(deployment.publicBucket, JWKS) ?? '{"keys":[]}') as {
    keys: Array<{ kid: string }>;
  };
  return jwks.keys.map((key) => key.kid);
}

/** A publish that fails before anything is written (leaves the keyset ahead of the documents). */
const failingPublish: PublishWrap = async () => {
  throw new Error('injected publish failure');
};

/**
 * A slow run: its publish waits for `gate` (it read the keyset long before), then goes through and
 * the process dies (Lambda timeout) before it can record anything. `reached` resolves when the
 * publish starts waiting.
 */
/** Codes of the slow runs' publishes that were refused. */
const refused: string[] = [];

function slowDyingPublish(proc: FakeProcess): { wrap: PublishWrap; reached: Promise<void>; release(): void } {
  let release = (): void => undefined;
  let reached = (): void => undefined;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const started = new Promise<void>((resolve) => {
    reached = resolve;
  });
  refused.length = 0;
  const wrap: PublishWrap = async (publish) => {
    reached();
    await gate;
    // On the fixed code the stale publish is refused (PUBLISH_CONFLICT) and the run re-reads.
    const result = await publish().catch((error: unknown) => {
      refused.push(String((error as { code?: unknown }).code ?? error));
      throw error;
    });
    proc.dead = true;
    throw new ProcessDeath(-1);
    // biome-ignore lint/correctness/noUnreachable: documents that a dying run never returns
    return result;
  };
  return { wrap, reached: started, release: () => release() };
}

/** Runs the slow run `slow` until it is about to publish, then `between`, then lets it publish and die. */
async function race(
  slow: (wrap: PublishWrap) => Promise<unknown>,
  proc: FakeProcess,
  between: () => Promise<unknown>,
) {
  const gate = slowDyingPublish(proc);
  const outcome = slow(gate.wrap).then(
    () => undefined,
    (error: unknown) => error,
  );
  await Promise.race([gate.reached, outcome]);
  await between();
  gate.release();
  return outcome;
}

describe('attack (a): a forged JWKS with copied sha256 metadata', () => {
  it('is detected and repaired by the next run, and by later publishes', async () => {
    const aws = new FakeAws();
    await run(aws, T0);
    const legit = aws.object(deployment.publicBucket, JWKS);
    if (legit === undefined) throw new Error('no JWKS');
    const legitText = new TextDecoder().decode(legit.body);
    const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const spki = new Uint8Array(attacker.publicKey.export({ type: 'spki', format: 'der' }));
    const attackerKid = kidFromSpki(spki);
    const jwk = publicJwkFromSpki(spki, 'ES256');
    const forged = JSON.stringify({ keys: [...(JSON.parse(legitText) as { keys: unknown[] }).keys, jwk] });
    // The attacker writes through S3 like anyone with s3:PutObject, copying every header the
    // publisher could compare (user metadata, Cache-Control) and asking S3 for a SHA-256 checksum.
    aws.putObject(deployment.publicBucket, JWKS, forged, {
      metadata: { ...legit.metadata },
      cacheControl: legit.cacheControl,
      contentType: legit.contentType,
      checksumSha256: true,
    });
    expect(liveKids(aws)).toContain(attackerKid);

    const repair = await run(aws, T0 + HOUR);
    console.info(`attack (a) steady run: attacker key live = ${liveKids(aws).includes(attackerKid)}`);
    expect(repair.warnings).toContainEqual(
      expect.objectContaining({ type: 'published-document-drift', documents: ['jwks'] }),
    );
    expect(liveKids(aws)).not.toContain(attackerKid);
    expect(aws.text(deployment.publicBucket, JWKS)).not.toBe(forged);

    // And a run that publishes for a reason of its own (a new pending key) repairs it too.
    aws.putObject(deployment.publicBucket, JWKS, forged, {
      metadata: { ...legit.metadata },
      cacheControl: legit.cacheControl,
      contentType: legit.contentType,
      checksumSha256: true,
    });
    await run(aws, CREATE_DUE);
    console.info(`attack (a) publishing run: attacker key live = ${liveKids(aws).includes(attackerKid)}`);
    expect(liveKids(aws)).not.toContain(attackerKid);
    expect(checkInvariants(aws, deployment).violations).toEqual([]);
  });
});

describe('attack (d): keyset.json written by someone other than the rotation functions', () => {
  it('is reported loudly by the next run (and only once)', async () => {
    const aws = new FakeAws();
    await run(aws, T0);
    const text = aws.text(deployment.stateBucket, 'keyset.json') ?? '';
    // A hand edit with a plausible content: same keys, a new ETag with no run behind it.
    const edited = `${JSON.stringify({ ...JSON.parse(text), updatedAt: new Date(T0 + MINUTE).toISOString() }, null, 2)}\n`;
    aws.putObject(deployment.stateBucket, 'keyset.json', edited, { checksumSha256: true });
    const first = await run(aws, T0 + HOUR);
    expect(first.warnings).toContainEqual(expect.objectContaining({ type: 'keyset-unexpected-write' }));
    const second = await run(aws, T0 + 2 * HOUR);
    expect(second.warnings).toEqual([]);
    // A keyset the functions wrote themselves is never reported.
    const clean = new FakeAws();
    for (const hour of [0, 1, 2]) expect((await run(clean, T0 + hour * HOUR)).warnings).toEqual([]);
  });
});

describe('attack (b): a slow run publishes after rotate --revoke', () => {
  it('never makes the revoked key live again', async () => {
    const aws = new FakeAws();
    await run(aws, T0);
    const revoked = activeKey(keysetOf(aws))?.kid ?? '';
    // A pending key is created but its publish failed: the next run has a publish to do.
    await rotation(aws.process(), CREATE_DUE, undefined, failingPublish).catch(() => undefined);
    const slow = aws.process();
    const outcome = await race(
      (wrap) => rotation(slow, CREATE_DUE + MINUTE, undefined, wrap),
      slow,
      () => run(aws, CREATE_DUE + 2 * MINUTE, { revoke: revoked }),
    );
    // Either the stale publish went through and the run died, or it was refused and the run went on.
    expect(outcome === undefined || outcome instanceof ProcessDeath).toBe(true);
    console.info(
      `attack (b): slow run ${outcome === undefined ? `re-read after ${refused.join(',')}` : 'published and died'}`,
    );
    const after = [];
    for (let hour = 1; hour <= 3; hour += 1) {
      await run(aws, CREATE_DUE + hour * HOUR);
      after.push(liveKids(aws).includes(revoked));
    }
    console.info(
      `attack (b): revoked key live after the slow publish and 3 hourly runs = ${after.join(',')}`,
    );
    expect(after).toEqual([false, false, false]);
    expect(checkInvariants(aws, deployment, { emergency: true }).violations).toEqual([]);
  });
});

describe('attack (c): a slow run with an old keyset drops a pending key', () => {
  it('never leaves a pending key out of the JWKS', async () => {
    const aws = new FakeAws();
    await run(aws, T0);
    await run(aws, CREATE_DUE);
    const promoteAt = CREATE_DUE + policy.publishLeadSeconds * 1000 + HOUR;
    await run(aws, promoteAt);
    // Retention of the old key is over; its delete is written, but the publish fails.
    const deleteAt = promoteAt + policy.retentionSeconds * 1000 + HOUR;
    await rotation(aws.process(), deleteAt, undefined, failingPublish).catch(() => undefined);
    // The slow run read that keyset (it has a JWKS to publish: one without the deleted key) and
    // stalls; meanwhile a later scheduled run creates the next pending key and publishes it.
    const nextDue = promoteAt + (policy.rotationPeriodSeconds - policy.publishLeadSeconds) * 1000 + HOUR;
    const slow = aws.process();
    const outcome = await race(
      (wrap) => rotation(slow, deleteAt + MINUTE, undefined, wrap),
      slow,
      () => run(aws, nextDue),
    );
    expect(outcome === undefined || outcome instanceof ProcessDeath).toBe(true);
    console.info(
      `attack (c): slow run ${outcome === undefined ? `re-read after ${refused.join(',')}` : 'published and died'}`,
    );
    const pending = keysetOf(aws).keys.find((key) => key.state === 'pending')?.kid ?? 'none';
    const after = [];
    for (let hour = 1; hour <= 3; hour += 1) {
      await run(aws, nextDue + hour * HOUR);
      after.push(liveKids(aws).includes(pending));
    }
    console.info(
      `attack (c): pending key live after the slow publish and 3 hourly runs = ${after.join(',')}`,
    );
    expect(after).toEqual([true, true, true]);
    expect(checkInvariants(aws, deployment).violations).toEqual([]);
  });
});
