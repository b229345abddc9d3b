/**
 * Applying one planned action (the runner, `rotation-run.ts`, writes the result). Key creation is
 * write-ahead: the intent is written (compare-and-swap) before the backend creates anything, and
 * the key is recorded in the write that closes the intent. Publishing is conditional on the
 * documents the run saw before it read the keyset, and stamps them with the keyset revision.
 */
import { createHash } from 'node:crypto';
import { buildPublicDocuments } from './discovery.ts';
import type { KeyIntent, KeyLocation, KeyRecord, KeySpec, KeyState, Keyset } from './keyset.ts';
import { ALG_FOR_SPEC } from './keyset.ts';
import { emptyKeyset, serializeKeyset } from './keyset-parse.ts';
import { kidFromSpki } from './kid.ts';
import { type Action, adoptionState } from './planner.ts';
import type {
  CreatedKey,
  FoundKey,
  KeyBackend,
  KeysetStore,
  LiveDocuments,
  Publisher,
  VersionedKeyset,
} from './ports.ts';

/** What applying steps needs (a subset of `RotationDeps`). */
export interface StepDeps {
  store: KeysetStore;
  keys: KeyBackend;
  publisher: Publisher;
  cluster: string;
  issuer: string;
  clock: () => Date;
}

/** What a run carries between steps. */
export interface RunContext {
  /** The public documents as this run last saw or wrote them. */
  live: LiveDocuments;
  /** Keys this run created, by intent id. */
  created: Map<string, CreatedKey>;
  /** Digests of documents this run published itself (not drift when found live). */
  ownDigests: Set<string>;
}

/** The result of one step: the keyset to write, and against which version. */
export interface Outcome {
  keyset: Keyset;
  /** The version to compare-and-swap against, when the step wrote an intent itself. */
  base?: VersionedKeyset;
  kid?: string;
  published?: boolean;
}

/** SHA-256 of text, standard base64 (the form S3 reports as `ChecksumSHA256`). */
export function sha256Base64(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('base64');
}

/** The keyset as it will be written on top of the revision `base` holds: revision + 1. */
export function nextRevision(keyset: Keyset, base: Keyset | null): Keyset {
  return { ...keyset, revision: (base?.revision ?? 0) + 1 };
}

/** Writes `keyset` over `current` (compare-and-swap); returns what is stored now. */
export async function save(
  store: KeysetStore,
  keyset: Keyset,
  current: VersionedKeyset | null,
): Promise<VersionedKeyset> {
  const next = nextRevision(keyset, current?.keyset ?? null);
  const version = await store.write(next, current?.version ?? null);
  return { keyset: next, version, sha256: sha256Base64(serializeKeyset(next)) };
}

function intentId(revision: number, now: Date): string {
  return `${revision}-${now.toISOString().replace(/[-:.]/g, '')}`;
}

function record(created: CreatedKey | FoundKey, spec: KeySpec, state: KeyState, at: string): KeyRecord {
  const spki = created.publicKeySpki ?? new Uint8Array();
  const key: KeyRecord = {
    kid: kidFromSpki(spki),
    alg: ALG_FOR_SPEC[spec],
    keySpec: spec,
    state,
    publicKeySpki: Buffer.from(spki).toString('base64'),
    location: created.location,
    createdAt: at,
  };
  if (state === 'active') key.activatedAt = at;
  return key;
}

/**
 * Writes an intent, then creates the key (tagged with the intent id) and labels it. Returns the
 * new record (not yet written) and the stored keyset holding the intent.
 */
async function createKey(
  deps: StepDeps,
  context: RunContext,
  current: VersionedKeyset | null,
  spec: KeySpec,
  state: KeyState,
  now: Date,
): Promise<{ key: KeyRecord; base: VersionedKeyset }> {
  const at = now.toISOString();
  const keyset = current?.keyset ?? emptyKeyset(deps.cluster, deps.issuer, now);
  const intent: KeyIntent = { id: intentId((keyset.revision ?? 0) + 1, now), keySpec: spec, createdAt: at };
  const base = await save(deps.store, { ...keyset, intent, updatedAt: at }, current);
  const created = await deps.keys.create(spec, { intent: intent.id });
  context.created.set(intent.id, created);
  const key = record(created, spec, state, at);
  await deps.keys.label?.(created.location, key.kid);
  return { key, base };
}

/** What identifies a key's private half in its backend. */
function locationId(location: KeyLocation): string {
  if (location.type === 'kms') return `kms:${location.keyId}`;
  if (location.type === 'wrapped') return `wrapped:${location.object}`;
  return `local:${location.file}`;
}

function withoutIntent(keyset: Keyset): Keyset {
  const { intent: _closed, ...rest } = keyset;
  return rest;
}

/**
 * Closes the open intent: the key this run created for it, or the keys the backend finds for it,
 * are adopted (one, in the state {@link adoptionState} gives) or destroyed (the rest). Destroying
 * comes before the write: an unrecorded key is never in use, and if the write fails the intent
 * stays open and the next run looks again.
 */
async function reconcile(deps: StepDeps, context: RunContext, keyset: Keyset, id: string, at: string) {
  const own = context.created.get(id);
  const referenced = new Set(keyset.keys.map((key) => locationId(key.location)));
  const found: FoundKey[] =
    own === undefined
      ? await (deps.keys.findIntentKeys?.(id) ?? Promise.resolve([]))
      : [{ ...own, kid: kidFromSpki(own.publicKeySpki) }];
  const candidates = found.filter((key) => !referenced.has(locationId(key.location)));
  const state = adoptionState(keyset);
  const spec = keyset.intent?.keySpec;
  const adopt = candidates.find((key) => key.publicKeySpki !== undefined && state !== undefined);
  for (const key of candidates) if (key !== adopt) await deps.keys.destroy(key);
  const closed = { ...withoutIntent(keyset), updatedAt: at };
  if (adopt === undefined || state === undefined || spec === undefined) return { keyset: closed };
  const key = record(adopt, spec, state, at);
  await deps.keys.label?.(adopt.location, key.kid);
  return { keyset: { ...closed, keys: [...closed.keys, key] }, kid: key.kid };
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

/**
 * Publishes the documents of `keyset`, stamped with its revision, conditionally on what the run
 * last saw live; records `lastPublish` with the digests. Throws `PUBLISH_CONFLICT` when another
 * run published in between.
 */
async function publish(deps: StepDeps, context: RunContext, keyset: Keyset): Promise<Outcome> {
  const revision = keyset.revision ?? 0;
  const documents = buildPublicDocuments(keyset.issuer, keyset.keys, revision);
  const result = await deps.publisher.publish(documents, context.live);
  context.live = result.live;
  const jwksSha256 = sha256Base64(documents.jwks);
  const discoverySha256 = sha256Base64(documents.discovery);
  context.ownDigests.add(jwksSha256).add(discoverySha256);
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
  const lastPublish = { kids, at, issuer: keyset.issuer, revision, jwksSha256, discoverySha256 };
  return { keyset: { ...next, lastPublish }, published: true };
}

/** Applies `action` to `current` (null: no keyset yet) and returns what to write. */
export async function applyStep(
  deps: StepDeps,
  context: RunContext,
  current: VersionedKeyset | null,
  action: Action,
  now: Date,
): Promise<Outcome> {
  const at = now.toISOString();
  if (action.type === 'bootstrap') {
    const { key, base } = await createKey(deps, context, current, action.keySpec, 'active', now);
    const keyset = withoutIntent(base.keyset);
    return { keyset: { ...keyset, keys: [...keyset.keys, key], updatedAt: at }, base, kid: key.kid };
  }
  if (current === null) throw new Error(`planner asked for ${action.type} without a keyset`);
  const keyset = current.keyset;
  switch (action.type) {
    case 'create-pending': {
      const { key, base } = await createKey(deps, context, current, action.keySpec, 'pending', now);
      const next = withoutIntent(base.keyset);
      return { keyset: { ...next, keys: [...next.keys, key], updatedAt: at }, base, kid: key.kid };
    }
    case 'reconcile':
      return reconcile(deps, context, keyset, action.intent, at);
    case 'publish':
      return publish(deps, context, keyset);
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
      const revoke = (base: Keyset): Keyset =>
        withKeys(base, at, (key) =>
          key.kid === action.kid
            ? { ...key, state: 'deleted', deletedAt: key.deletedAt ?? at, revoked: true }
            : key,
        );
      if (action.promote !== undefined)
        return { keyset: activate(revoke(keyset), action.promote, [], at), kid: action.kid };
      if (action.create !== undefined) {
        const { key, base } = await createKey(deps, context, current, action.create, 'active', now);
        const revoked = revoke(withoutIntent(base.keyset));
        return { keyset: { ...revoked, keys: [...revoked.keys, key] }, base, kid: action.kid };
      }
      return { keyset: revoke(keyset), kid: action.kid };
    }
    case 'set-issuer':
      return { keyset: { ...keyset, issuer: action.issuer, updatedAt: at } };
  }
}
