/**
 * The rotation planner: given the keyset, the policy, the time and an operator request, what is
 * due now. Pure. The runner (`rotation-run.ts`) applies the FIRST action, writes the keyset
 * (compare-and-swap), and plans again until nothing is due; later actions in a list are what is
 * due on the current state, listed in the order they would be applied. Rules: docs/rotation.md.
 */
import { IrsaError } from './errors.ts';
import { MAX_KEYS_PER_TYPE } from './jwks.ts';
import type { KeyRecord, KeySpec, Keyset } from './keyset.ts';
import { PUBLISHED_STATES } from './keyset.ts';
import type { RotationPolicy } from './policy.ts';

/** What the operator (or the runner) asks of one run, besides the schedule. */
export interface RotationRequest {
  /** Emergency rotation: a new key signs at once; the old one stays published as retired. */
  rotateNow?: boolean;
  /** Revoke this kid: out of the JWKS at once, then destroyed. Tokens it signed stop verifying. */
  revoke?: string;
  /** The configured issuer; when it differs from `keyset.issuer` the plan starts with `set-issuer`. */
  issuer?: string;
  /** Publish even though `lastPublish` says the documents are current (drift, or a lost race). */
  republish?: boolean;
  /** Reconcile this open intent now, whatever its age: the run itself created its key. */
  settleIntent?: string;
}

/**
 * An open intent younger than this may belong to a run still in flight (the rotate function's
 * timeout is 120 s, the bootstrap function's 300 s), so it is left alone; an older one was
 * abandoned and is reconciled. Also covers the eventual consistency of `tag:GetResources`.
 */
export const INTENT_GRACE_SECONDS = 900;

/** One step of a run. `reason` is a sentence for logs and `--dry-run`. */
export type Action =
  /** Create a key and make it active at once (no key signs yet, or none is left). */
  | { type: 'bootstrap'; keySpec: KeySpec; reason: string }
  /** Create a key in state `pending`: published, not signing yet. */
  | { type: 'create-pending'; keySpec: KeySpec; reason: string }
  /** Publish the JWKS and discovery document for `kids` (pending + active + retired). */
  | { type: 'publish'; kids: string[]; reason: string }
  /** Pending → active; `retire` (the previous active keys) → retired, in the same write. */
  | { type: 'promote'; kid: string; retire: string[]; mode: 'scheduled' | 'repair'; reason: string }
  /** Active → retired: repairs a keyset with more than one active key (keeps the newest). */
  | { type: 'retire'; kid: string; reason: string }
  /** Retired → deleted: retention is over, the key leaves the next JWKS. */
  | { type: 'delete'; kid: string; reason: string }
  /** Destroy the private key (a JWKS without it is published) and drop its record. */
  | { type: 'destroy'; kid: string; reason: string }
  /** Emergency: the published pending key `kid` becomes active now, ignoring the publish lead. */
  | { type: 'rotate-now'; kid: string; retire: string[]; reason: string }
  /**
   * Revoke `kid` (→ deleted, revoked). When it is the only active key, the same write makes
   * `promote` active, or a new key of `create` spec.
   */
  | { type: 'revoke'; kid: string; promote?: string; create?: KeySpec; reason: string }
  /** The configured issuer changed: record it, which makes the next publish due. */
  | { type: 'set-issuer'; issuer: string; previous: string; reason: string }
  /** Close the open intent: adopt the key its create left (see {@link adoptionState}) or destroy it. */
  | { type: 'reconcile'; intent: string; reason: string };

/** Actions that create a key, which wait while an intent is open. */
function createsKey(action: Action): boolean {
  return (
    action.type === 'bootstrap' ||
    action.type === 'create-pending' ||
    (action.type === 'revoke' && action.create !== undefined)
  );
}

/**
 * The state a key found for an abandoned intent is adopted in: `active` when no key is active or
 * pending (nothing signs), `pending` when a key is active and none is pending, otherwise none (the
 * key is destroyed).
 */
export function adoptionState(keyset: Keyset): 'active' | 'pending' | undefined {
  const pending = keyset.keys.some((key) => key.state === 'pending');
  if (pending) return undefined;
  return keyset.keys.some((key) => key.state === 'active') ? 'pending' : 'active';
}

const ms = (seconds: number): number => seconds * 1000;
const time = (iso: string | undefined): number => (iso === undefined ? Number.NaN : Date.parse(iso));
const short = (kid: string): string => kid.slice(0, 8);

/** Active keys, newest activation first. More than one only in a keyset that needs repair. */
export function activeKeys(keyset: Keyset | null): KeyRecord[] {
  return (keyset?.keys ?? [])
    .filter((key) => key.state === 'active')
    .sort(
      (a, b) =>
        time(b.activatedAt) - time(a.activatedAt) ||
        time(b.createdAt) - time(a.createdAt) ||
        (a.kid < b.kid ? -1 : 1),
    );
}

/** The key that signs: the active key (the newest, if a keyset needing repair has several). */
export function activeKey(keyset: Keyset | null): KeyRecord | undefined {
  return activeKeys(keyset)[0];
}

/** Pending keys, first published first (unpublished ones last, oldest first). */
function pendingKeys(keyset: Keyset): KeyRecord[] {
  const order = (key: KeyRecord): number => time(key.publishedAt ?? '9999-12-31T23:59:59Z');
  return keyset.keys
    .filter((key) => key.state === 'pending')
    .sort((a, b) => order(a) - order(b) || time(a.createdAt) - time(b.createdAt));
}

function isPublished(keyset: Keyset, key: KeyRecord): boolean {
  return key.publishedAt !== undefined && (keyset.lastPublish?.kids.includes(key.kid) ?? false);
}

/** Kids that belong in the JWKS: pending, active and retired keys. */
export function desiredKids(keyset: Keyset): string[] {
  return keyset.keys.filter((key) => PUBLISHED_STATES.has(key.state)).map((key) => key.kid);
}

function publishReason(keyset: Keyset, republish: boolean): string | undefined {
  const last = keyset.lastPublish;
  if (last === undefined) return 'nothing has been published yet';
  const desired = desiredKids(keyset);
  const added = desired.filter((kid) => !last.kids.includes(kid));
  const removed = last.kids.filter((kid) => !desired.includes(kid));
  if (added.length > 0) return `the JWKS lacks ${added.map(short).join(', ')}`;
  if (removed.length > 0) return `the JWKS still holds ${removed.map(short).join(', ')}`;
  if (last.issuer !== keyset.issuer) return `the documents were published for another issuer`;
  if (keyset.keys.some((key) => PUBLISHED_STATES.has(key.state) && key.publishedAt === undefined)) {
    return 'a key has no recorded publish time';
  }
  if (keyset.keys.some((key) => key.state === 'deleted' && key.unpublishedAt === undefined)) {
    return 'a deleted key has no recorded unpublish time';
  }
  return republish ? 'the last publish may have been overwritten by a concurrent run' : undefined;
}

function typeOf(spec: KeySpec): string {
  return spec.startsWith('RSA') ? 'RSA' : 'EC';
}

function unknownKid(kid: string): IrsaError {
  return new IrsaError(
    'REVOKE_UNKNOWN_KID',
    `No key with kid ${kid} is in the keyset (a key already revoked and destroyed is no longer listed).`,
    'Run `irsa-anywhere status` to list the kids and pass one of them to --revoke.',
    { detail: { kid } },
  );
}

function revokeAction(keyset: Keyset, policy: RotationPolicy, kid: string): Action | undefined {
  const target = keyset.keys.find((key) => key.kid === kid);
  if (target === undefined) throw unknownKid(kid);
  if (target.state === 'deleted' && target.revoked === true) return undefined;
  const reason = `operator revoked ${short(kid)}`;
  if (target.state !== 'active' || activeKeys(keyset).length > 1) return { type: 'revoke', kid, reason };
  const pending = pendingKeys(keyset)[0];
  if (pending !== undefined) {
    return {
      type: 'revoke',
      kid,
      promote: pending.kid,
      reason: `${reason}; ${short(pending.kid)} signs now`,
    };
  }
  return { type: 'revoke', kid, create: policy.keySpec, reason: `${reason}; a new key signs now` };
}

/**
 * What is due for `keyset` at `now` under `policy`, in the order to apply it. `keyset` is null when
 * no keyset exists yet. Throws `REVOKE_UNKNOWN_KID` when `request.revoke` names no key.
 * While an intent is open nothing that creates a key is due; an intent older than
 * {@link INTENT_GRACE_SECONDS} (or the one `request.settleIntent` names) is reconciled first.
 */
export function plan(
  keyset: Keyset | null,
  policy: RotationPolicy,
  now: Date,
  request: RotationRequest = {},
): Action[] {
  const actions = planKeys(keyset, policy, now, request);
  const intent = keyset?.intent;
  if (intent === undefined) return actions;
  // Nothing signs until the intent's key is recorded: no JWKS can be published without it.
  const activates = (action: Action): boolean =>
    action.type === 'promote' || (action.type === 'revoke' && action.promote !== undefined);
  const unsigned = activeKey(keyset) === undefined && !actions.some(activates);
  const waiting = actions.filter((action) => !createsKey(action) && !(unsigned && action.type === 'publish'));
  const abandoned = time(intent.createdAt) + ms(INTENT_GRACE_SECONDS) <= now.getTime();
  if (!abandoned && request.settleIntent !== intent.id) return waiting;
  return [
    {
      type: 'reconcile',
      intent: intent.id,
      reason:
        request.settleIntent === intent.id
          ? `record the key created for intent ${intent.id}`
          : `intent ${intent.id} was abandoned: adopt or destroy what its create left`,
    },
    ...waiting,
  ];
}

function planKeys(
  keyset: Keyset | null,
  policy: RotationPolicy,
  now: Date,
  request: RotationRequest,
): Action[] {
  if (keyset === null) {
    if (request.revoke !== undefined) throw unknownKid(request.revoke);
    return [{ type: 'bootstrap', keySpec: policy.keySpec, reason: 'no keyset yet: create the first key' }];
  }
  const at = now.getTime();
  const actions: Action[] = [];
  if (request.revoke !== undefined) {
    const revoke = revokeAction(keyset, policy, request.revoke);
    if (revoke !== undefined) actions.push(revoke);
  }
  if (request.issuer !== undefined && request.issuer !== keyset.issuer) {
    actions.push({
      type: 'set-issuer',
      issuer: request.issuer,
      previous: keyset.issuer,
      reason: `the issuer changed from ${keyset.issuer} to ${request.issuer}`,
    });
  }
  const actives = activeKeys(keyset);
  const pendings = pendingKeys(keyset);
  const active = actives[0];
  for (const older of actives.slice(1)) {
    actions.push({
      type: 'retire',
      kid: older.kid,
      reason: `more than one active key: retire ${short(older.kid)}`,
    });
  }
  const firstPending = pendings[0];
  if (active === undefined) {
    if (firstPending !== undefined) {
      actions.push({
        type: 'promote',
        kid: firstPending.kid,
        retire: [],
        mode: 'repair',
        reason: `no active key: ${short(firstPending.kid)} signs at once`,
      });
    } else {
      actions.push({
        type: 'bootstrap',
        keySpec: policy.keySpec,
        reason: 'no active or pending key: create one',
      });
    }
  }
  const published = pendings.find((key) => isPublished(keyset, key));
  if (request.rotateNow === true && active !== undefined) {
    if (published !== undefined) {
      actions.push({
        type: 'rotate-now',
        kid: published.kid,
        retire: actives.map((key) => key.kid),
        reason: `emergency rotation: published pending key ${short(published.kid)} signs now`,
      });
    } else if (firstPending === undefined) {
      actions.push({
        type: 'create-pending',
        keySpec: policy.keySpec,
        reason: 'emergency rotation: create a key',
      });
    }
  }
  for (const key of keyset.keys) {
    if (key.state === 'retired' && time(key.retiredAt) + ms(policy.retentionSeconds) <= at) {
      actions.push({ type: 'delete', kid: key.kid, reason: `retention of ${short(key.kid)} is over` });
    }
  }
  if (
    active !== undefined &&
    published !== undefined &&
    time(published.publishedAt) + ms(policy.publishLeadSeconds) <= at
  ) {
    actions.push({
      type: 'promote',
      kid: published.kid,
      retire: actives.map((key) => key.kid),
      mode: 'scheduled',
      reason: `${short(published.kid)} has been published for the publish lead`,
    });
  }
  const publishedOfType = keyset.keys.filter(
    (key) => PUBLISHED_STATES.has(key.state) && typeOf(key.keySpec) === typeOf(policy.keySpec),
  ).length;
  if (
    active !== undefined &&
    firstPending === undefined &&
    request.rotateNow !== true &&
    time(active.activatedAt) + ms(policy.rotationPeriodSeconds - policy.publishLeadSeconds) <= at &&
    publishedOfType < MAX_KEYS_PER_TYPE
  ) {
    actions.push({
      type: 'create-pending',
      keySpec: policy.keySpec,
      reason: `active key ${short(active.kid)} is due for rotation`,
    });
  }
  const publish = publishReason(keyset, request.republish === true);
  if (publish !== undefined) actions.push({ type: 'publish', kids: desiredKids(keyset), reason: publish });
  for (const key of keyset.keys) {
    if (
      key.state === 'deleted' &&
      key.unpublishedAt !== undefined &&
      !keyset.lastPublish?.kids.includes(key.kid)
    ) {
      actions.push({ type: 'destroy', kid: key.kid, reason: `${short(key.kid)} is no longer published` });
    }
  }
  return actions;
}

/**
 * When the next scheduled change falls due, for `status`: `now` when something is due already,
 * otherwise the earliest of promotion, creation of the next pending key, and end of retention.
 * Null only when nothing will ever be due (cannot happen for a keyset with an active key).
 */
export function nextTransition(
  keyset: Keyset | null,
  policy: RotationPolicy,
  now: Date,
): { at: Date; description: string } | null {
  const due = plan(keyset, policy, now)[0];
  if (due !== undefined) return { at: now, description: due.reason };
  if (keyset === null) return null;
  const candidates: Array<{ at: number; description: string }> = [];
  const active = activeKey(keyset);
  const pending = pendingKeys(keyset).find((key) => isPublished(keyset, key));
  if (pending !== undefined) {
    candidates.push({
      at: time(pending.publishedAt) + ms(policy.publishLeadSeconds),
      description: `promote pending key ${short(pending.kid)}`,
    });
  } else if (active !== undefined && pendingKeys(keyset).length === 0) {
    candidates.push({
      at: time(active.activatedAt) + ms(policy.rotationPeriodSeconds - policy.publishLeadSeconds),
      description: `create the next key (active key ${short(active.kid)} nears the rotation period)`,
    });
  }
  for (const key of keyset.keys) {
    if (key.state === 'retired') {
      candidates.push({
        at: time(key.retiredAt) + ms(policy.retentionSeconds),
        description: `unpublish retired key ${short(key.kid)} (retention over)`,
      });
    }
  }
  const first = candidates.sort((a, b) => a.at - b.at)[0];
  return first === undefined ? null : { at: new Date(first.at), description: first.description };
}
