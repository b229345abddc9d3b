/**
 * The rotation runner: read the keyset, plan, apply the first action, write the keyset with
 * compare-and-swap, plan again, until nothing is due. Every step leaves a keyset the next run can
 * continue from, so a crash between any two port calls is repaired by running again. The rules
 * themselves live in `planner.ts`; see docs/rotation.md.
 */
import { IrsaError, isIrsaError } from './errors.ts';
import { validateIssuerUrl } from './issuer.ts';
import type { Keyset } from './keyset.ts';
import { type Action, INTENT_GRACE_SECONDS, plan, type RotationRequest } from './planner.ts';
import type { RotationPolicy } from './policy.ts';
import type { Clock, KeyBackend, KeysetStore, LiveDocuments, Publisher, VersionedKeyset } from './ports.ts';
import { applyStep, type RunContext, save } from './rotation-steps.ts';

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
  /** Called when the run finds something wrong that it repairs or cannot judge (logs, metrics, alarms). */
  onWarning?: (warning: RotationWarning) => void;
}

/**
 * Something a run must report loudly:
 * - `published-document-drift`: a live public document is not the one this keyset last published
 *   (overwritten by someone else, deleted, or replaced by a stale run); the run republishes.
 * - `keyset-unexpected-write`: keyset.json is not the document the rotation functions last wrote
 *   (its digest differs from the journal kept beside the public documents).
 * - `journal-not-recorded`: the journal write failed; the next run may report the keyset as unexpected.
 */
export type RotationWarning =
  | { type: 'published-document-drift'; documents: Array<'jwks' | 'discovery'>; revision?: number }
  | { type: 'keyset-unexpected-write'; found: string; expected: string; updatedAt: string }
  | { type: 'journal-not-recorded'; error: string };

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
  warnings: RotationWarning[];
}

/** Lost compare-and-swap races tolerated in one run before giving up. */
export const MAX_CONFLICTS = 5;

function checkCluster(current: VersionedKeyset | null, cluster: string): void {
  if (current !== null && current.keyset.cluster !== cluster) {
    throw new IrsaError(
      'KEYSET_CLUSTER_MISMATCH',
      `keyset.json belongs to cluster "${current.keyset.cluster}", but this run is configured for "${cluster}".`,
      'Point this deployment at its own state bucket or directory, or configure the cluster name that the keyset records.',
    );
  }
}

/**
 * Which live documents differ from what the keyset says it last published. `unrecorded` when the
 * keyset predates digests (published once more, silently). Documents this run published itself
 * are not drift: it lost a race after publishing, and republishes from the newer keyset anyway.
 */
function driftOf(
  keyset: Keyset | undefined,
  live: LiveDocuments,
  own: ReadonlySet<string>,
): Array<'jwks' | 'discovery'> | 'unrecorded' {
  const last = keyset?.lastPublish;
  if (last === undefined) return [];
  if (last.jwksSha256 === undefined || last.discoverySha256 === undefined) return 'unrecorded';
  const drifted: Array<'jwks' | 'discovery'> = [];
  for (const [name, expected] of [
    ['jwks', last.jwksSha256],
    ['discovery', last.discoverySha256],
  ] as const) {
    const found = live[name]?.sha256;
    if (found !== expected) drifted.push(name);
  }
  const raced = drifted.every((name) => {
    const found = live[name]?.sha256;
    return found !== undefined && own.has(found);
  });
  return raced ? (drifted.length > 0 ? 'unrecorded' : []) : drifted;
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
  if (action.type === 'reconcile') delete next.settleIntent;
  return next;
}

/**
 * Runs rotation to completion: applies due actions one at a time, writing `keyset.json` with
 * compare-and-swap after each. It first inspects the live public documents, then reads the keyset
 * (that order is what makes a conditional publish safe, docs/reliability.md). In the steady state
 * that is all: three reads, no write. Live documents that differ from what the keyset last
 * published are reported (`published-document-drift`) and republished; a keyset whose digest is
 * not the one the functions last wrote is reported (`keyset-unexpected-write`). A lost race
 * (`STATE_CONFLICT`, `PUBLISH_CONFLICT`) re-inspects, re-reads and re-plans, up to
 * {@link MAX_CONFLICTS} times. Throws `KEYSET_CORRUPT` (from the store) without touching anything,
 * `ISSUER_*` for a bad configured issuer (before any port call), `KEYSET_CLUSTER_MISMATCH`,
 * `REVOKE_UNKNOWN_KID`, `INTENT_OPEN`, or the error of a failing port.
 */
export async function runRotation(
  deps: RotationDeps,
  request: RotationRequest = {},
): Promise<RotationReport> {
  // Loopback http is for local mode; the Lambda's configuration has already refused it for AWS.
  validateIssuerUrl(deps.issuer, { allowLoopbackHttp: true });
  const warnings: RotationWarning[] = [];
  const warn = (warning: RotationWarning): void => {
    warnings.push(warning);
    deps.onWarning?.(warning);
  };
  let pending: RotationRequest = { ...request, issuer: deps.issuer };
  const context: RunContext = {
    live: { jwks: null, discovery: null },
    created: new Map(),
    ownDigests: new Set(),
  };
  let journalStale = false;
  const observe = async (): Promise<VersionedKeyset | null> => {
    context.live = await deps.publisher.inspect();
    const read = await deps.store.read();
    checkCluster(read, deps.cluster);
    const drift = driftOf(read?.keyset, context.live, context.ownDigests);
    if (drift === 'unrecorded' || drift.length > 0) pending = { ...pending, republish: true };
    if (drift !== 'unrecorded' && drift.length > 0) {
      const revision = read?.keyset.lastPublish?.revision;
      warn({
        type: 'published-document-drift',
        documents: drift,
        ...(revision === undefined ? {} : { revision }),
      });
    }
    const journal = context.live.keysetJournal;
    const settled =
      Date.parse(read?.keyset.updatedAt ?? '') + INTENT_GRACE_SECONDS * 1000 <= deps.clock().getTime();
    if (
      read?.sha256 !== undefined &&
      journal !== undefined &&
      read.sha256 !== journal &&
      settled &&
      !journalStale
    ) {
      journalStale = true;
      warn({
        type: 'keyset-unexpected-write',
        found: read.sha256,
        expected: journal,
        updatedAt: read.keyset.updatedAt,
      });
    }
    return read;
  };
  let current = await observe();
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
    const intent = current?.keyset.intent;
    if (intent !== undefined && context.created.has(intent.id))
      pending = { ...pending, settleIntent: intent.id };
    const now = deps.clock();
    const action = plan(current?.keyset ?? null, deps.policy, now, pending)[0];
    if (action === undefined) {
      if (current === null) throw new Error('planner returned nothing for a missing keyset');
      if (
        current.keyset.intent !== undefined &&
        (pending.revoke !== undefined || pending.rotateNow === true)
      ) {
        throw new IrsaError(
          'INTENT_OPEN',
          `Another run is creating a key (intent ${current.keyset.intent.id}, opened ${current.keyset.intent.createdAt}); this request needs a new key and waits for it.`,
          `Run the same request again in ${Math.ceil(INTENT_GRACE_SECONDS / 60)} minutes; by then the other run has finished or its intent is reconciled.`,
          { detail: { intent: current.keyset.intent.id } },
        );
      }
      if (
        (wrote || journalStale) &&
        deps.publisher.recordKeysetJournal !== undefined &&
        current.sha256 !== undefined
      ) {
        try {
          await deps.publisher.recordKeysetJournal(current.sha256, context.live);
        } catch (error) {
          warn({
            type: 'journal-not-recorded',
            error: error instanceof Error ? error.message : String(error),
          });
        }
      }
      return { steps, keyset: current.keyset, wrote, published, warnings };
    }
    if (steps.length >= maxSteps) {
      throw new IrsaError(
        'ROTATION_NOT_CONVERGING',
        `Rotation applied ${steps.length} steps and still has work (next: ${action.type}); stopping.`,
        'Report this with keyset.json attached; the keyset is consistent and the next run continues from it.',
        { detail: { next: action.type } },
      );
    }
    try {
      const outcome = await applyStep(deps, context, current, action, now);
      if (outcome.base !== undefined) wrote = true;
      if (outcome.published === true) published = true;
      current = await save(deps.store, outcome.keyset, outcome.base ?? current);
      wrote = true;
      const step: RotationStep = outcome.kid === undefined ? { action } : { action, kid: outcome.kid };
      steps.push(step);
      deps.onStep?.(step);
      pending = afterStep(pending, action);
    } catch (error) {
      if (!isIrsaError(error, 'STATE_CONFLICT') && !isIrsaError(error, 'PUBLISH_CONFLICT')) throw error;
      conflicts += 1;
      if (conflicts > MAX_CONFLICTS) {
        throw new IrsaError(
          'STATE_CONFLICT',
          `keyset.json or the public documents kept changing under this run (${conflicts} lost races).`,
          'Another rotation is running; the next scheduled run continues from the newest state.',
          { cause: error },
        );
      }
      current = await observe();
    }
  }
}
