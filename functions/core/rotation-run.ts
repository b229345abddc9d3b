/**
 * The rotation runner: read the keyset, plan, apply the first action, write the keyset with
 * compare-and-swap, plan again, until nothing is due. Every step leaves a keyset the next run can
 * continue from, so a crash between any two port calls is repaired by running again. The rules
 * themselves live in `planner.ts`; see docs/rotation.md.
 */
import { buildPublicDocuments } from './discovery.ts';
import { IrsaError, isIrsaError } from './errors.ts';
import { validateIssuerUrl } from './issuer.ts';
import type { KeyRecord, KeySpec, KeyState, Keyset } from './keyset.ts';
import { ALG_FOR_SPEC } from './keyset.ts';
import { emptyKeyset } from './keyset-parse.ts';
import { kidFromSpki } from './kid.ts';
import { type Action, plan, type RotationRequest } from './planner.ts';
import type { RotationPolicy } from './policy.ts';
import type { Clock, KeyBackend, KeysetStore, Publisher, VersionedKeyset } from './ports.ts';

/** What a rotation run needs: the three ports, the policy, and who it runs for. */
export interface RotationDeps {
  store: KeysetStore;
  keys: KeyBackend;
  publisher: Publisher;
  policy: RotationPolicy;
  /** The cluster this stack serves; a keyset of another cluster is refused. */
  cluster: string;
  /** The configured issuer; the keyset follows it (`set-issuer`). */
  issuer: string;
  clock: Clock;
  /** Called after each step is written (for logs and metrics). */
  onStep?: (step: RotationStep) => void;
}

/** One applied action; `kid` is the key it concerned (for bootstrap and create-pending: the new key). */
export interface RotationStep {
  action: Action;
  kid?: string;
}

/** What a run did. `wrote` and `published` are false in the steady state. */
export interface RotationReport {
  steps: RotationStep[];
  keyset: Keyset;
  wrote: boolean;
  published: boolean;
}

/** Lost compare-and-swap races tolerated in one run before giving up. */
export const MAX_CONFLICTS = 5;

interface Outcome {
  keyset: Keyset;
  kid?: string;
  /** A key this step created; destroyed again if the write loses a race, so it is not orphaned. */
  created?: KeyRecord;
  published?: boolean;
}

function checkCluster(current: VersionedKeyset | null, cluster: string): void {
  if (current !== null && current.keyset.cluster !== cluster) {
    throw new IrsaError(
      'KEYSET_CLUSTER_MISMATCH',
      `keyset.json belongs to cluster "${current.keyset.cluster}", but this run is configured for "${cluster}".`,
      'Point this deployment at its own state bucket or directory, or configure the cluster name that the keyset records.',
    );
  }
}

async function createKey(
  deps: RotationDeps,
  spec: KeySpec,
  state: KeyState,
  now: string,
): Promise<KeyRecord> {
  const created = await deps.keys.create(spec);
  const kid = kidFromSpki(created.publicKeySpki);
  await deps.keys.label?.(created.location, kid);
  const record: KeyRecord = {
    kid,
    alg: ALG_FOR_SPEC[spec],
    keySpec: spec,
    state,
    publicKeySpki: Buffer.from(created.publicKeySpki).toString('base64'),
    location: created.location,
    createdAt: now,
  };
  if (state === 'active') record.activatedAt = now;
  return record;
}

function withKeys(keyset: Keyset, now: string, update: (key: KeyRecord) => KeyRecord): Keyset {
  return { ...keyset, keys: keyset.keys.map((key) => update({ ...key })), updatedAt: now };
}

function activate(keyset: Keyset, kid: string, retire: readonly string[], now: string): Keyset {
  return withKeys(keyset, now, (key) => {
    if (key.kid === kid) return { ...key, state: 'active', activatedAt: now };
    if (retire.includes(key.kid) && key.state === 'active')
      return { ...key, state: 'retired', retiredAt: now };
    return key;
  });
}

function findKey(keyset: Keyset, kid: string): KeyRecord {
  const key = keyset.keys.find((candidate) => candidate.kid === kid);
  if (key === undefined) throw new Error(`planner named kid ${kid}, which is not in the keyset`);
  return key;
}

async function publish(deps: RotationDeps, keyset: Keyset): Promise<Outcome> {
  const documents = buildPublicDocuments(keyset.issuer, keyset.keys);
  await deps.publisher.publish(documents);
  // Stamp after the publish returned: a key counts as published from then, never earlier.
  const at = deps.clock().toISOString();
  const kids = (JSON.parse(documents.jwks) as { keys: Array<{ kid: string }> }).keys.map((key) => key.kid);
  const next = withKeys(keyset, at, (key) => {
    if (kids.includes(key.kid) && key.publishedAt === undefined) key.publishedAt = at;
    if (key.state === 'deleted' && !kids.includes(key.kid) && key.unpublishedAt === undefined) {
      key.unpublishedAt = at;
    }
    return key;
  });
  return { keyset: { ...next, lastPublish: { kids, at, issuer: keyset.issuer } }, published: true };
}

async function apply(deps: RotationDeps, keyset: Keyset | null, action: Action, now: Date): Promise<Outcome> {
  const at = now.toISOString();
  if (action.type === 'bootstrap') {
    const created = await createKey(deps, action.keySpec, 'active', at);
    const base = keyset ?? emptyKeyset(deps.cluster, deps.issuer, now);
    return { keyset: { ...base, keys: [...base.keys, created], updatedAt: at }, kid: created.kid, created };
  }
  if (keyset === null) throw new Error(`planner asked for ${action.type} without a keyset`);
  switch (action.type) {
    case 'create-pending': {
      const created = await createKey(deps, action.keySpec, 'pending', at);
      return {
        keyset: { ...keyset, keys: [...keyset.keys, created], updatedAt: at },
        kid: created.kid,
        created,
      };
    }
    case 'publish':
      return publish(deps, keyset);
    case 'promote':
    case 'rotate-now':
      return { keyset: activate(keyset, action.kid, action.retire, at), kid: action.kid };
    case 'retire':
      return {
        keyset: withKeys(keyset, at, (key) =>
          key.kid === action.kid ? { ...key, state: 'retired', retiredAt: at } : key,
        ),
        kid: action.kid,
      };
    case 'delete':
      return {
        keyset: withKeys(keyset, at, (key) =>
          key.kid === action.kid ? { ...key, state: 'deleted', deletedAt: at } : key,
        ),
        kid: action.kid,
      };
    case 'destroy': {
      await deps.keys.destroy(findKey(keyset, action.kid));
      return {
        keyset: { ...keyset, keys: keyset.keys.filter((key) => key.kid !== action.kid), updatedAt: at },
        kid: action.kid,
      };
    }
    case 'revoke': {
      const revoked = withKeys(keyset, at, (key) =>
        key.kid === action.kid
          ? { ...key, state: 'deleted', deletedAt: key.deletedAt ?? at, revoked: true }
          : key,
      );
      if (action.promote !== undefined)
        return { keyset: activate(revoked, action.promote, [], at), kid: action.kid };
      if (action.create !== undefined) {
        const created = await createKey(deps, action.create, 'active', at);
        return { keyset: { ...revoked, keys: [...revoked.keys, created] }, kid: action.kid, created };
      }
      return { keyset: revoked, kid: action.kid };
    }
    case 'set-issuer':
      return { keyset: { ...keyset, issuer: action.issuer, updatedAt: at } };
  }
}

/** The request after `action` was written: one-shot asks are dropped once they are satisfied. */
function afterStep(request: RotationRequest, action: Action): RotationRequest {
  const next = { ...request };
  if (action.type === 'bootstrap' || action.type === 'rotate-now') delete next.rotateNow;
  if (action.type === 'revoke') {
    delete next.revoke;
    if (action.promote !== undefined || action.create !== undefined) delete next.rotateNow;
  }
  if (action.type === 'publish') delete next.republish;
  return next;
}

/**
 * Runs rotation to completion: applies due actions one at a time, writing `keyset.json` with
 * compare-and-swap after each. In the steady state it makes exactly one `store.read()` and nothing
 * else. A lost race (`STATE_CONFLICT`) re-reads and re-plans, up to {@link MAX_CONFLICTS} times; a
 * lost race right after a publish forces a fresh publish, since the other run may have published
 * newer documents that ours overwrote. Throws `KEYSET_CORRUPT` (from the store) without touching
 * anything, `ISSUER_*` for a bad configured issuer (before any port call), `KEYSET_CLUSTER_MISMATCH`,
 * `REVOKE_UNKNOWN_KID`, or the error of a failing port.
 */
export async function runRotation(
  deps: RotationDeps,
  request: RotationRequest = {},
): Promise<RotationReport> {
  // Loopback http is for local mode; the Lambda's configuration has already refused it for AWS.
  validateIssuerUrl(deps.issuer, { allowLoopbackHttp: true });
  let pending: RotationRequest = { ...request, issuer: deps.issuer };
  let current = await deps.store.read();
  checkCluster(current, deps.cluster);
  const maxSteps = 20 + 3 * (current?.keyset.keys.length ?? 0);
  const steps: RotationStep[] = [];
  let wrote = false;
  let published = false;
  let conflicts = 0;
  let revokeSeen = false;
  for (;;) {
    // A kid to revoke that was here and is gone was destroyed by a concurrent run: revoke is done.
    const revoke = pending.revoke;
    if (revoke !== undefined) {
      const present = current?.keyset.keys.some((key) => key.kid === revoke) ?? false;
      if (present) revokeSeen = true;
      else if (revokeSeen) pending = afterStep(pending, { type: 'revoke', kid: revoke, reason: '' });
    }
    const now = deps.clock();
    const action = plan(current?.keyset ?? null, deps.policy, now, pending)[0];
    if (action === undefined) {
      if (current === null) throw new Error('planner returned nothing for a missing keyset');
      return { steps, keyset: current.keyset, wrote, published };
    }
    if (steps.length >= maxSteps) {
      throw new IrsaError(
        'ROTATION_NOT_CONVERGING',
        `Rotation applied ${steps.length} steps and still has work (next: ${action.type}); stopping.`,
        'Report this with keyset.json attached; the keyset is consistent and the next run continues from it.',
        { detail: { next: action.type } },
      );
    }
    const outcome = await apply(deps, current?.keyset ?? null, action, now);
    if (outcome.published === true) published = true;
    try {
      const version = await deps.store.write(outcome.keyset, current?.version ?? null);
      current = { keyset: outcome.keyset, version };
    } catch (error) {
      if (!isIrsaError(error, 'STATE_CONFLICT')) throw error;
      if (outcome.created !== undefined) await deps.keys.destroy(outcome.created);
      if (action.type === 'publish') pending = { ...pending, republish: true };
      conflicts += 1;
      if (conflicts > MAX_CONFLICTS) {
        throw new IrsaError(
          'STATE_CONFLICT',
          `keyset.json kept changing under this run (${conflicts} lost races).`,
          'Make sure only one rotation runs at a time (reserved concurrency 1), then run again.',
          { cause: error },
        );
      }
      current = await deps.store.read();
      checkCluster(current, deps.cluster);
      continue;
    }
    wrote = true;
    const step: RotationStep = outcome.kid === undefined ? { action } : { action, kid: outcome.kid };
    steps.push(step);
    deps.onStep?.(step);
    pending = afterStep(pending, action);
  }
}
