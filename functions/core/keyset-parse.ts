/**
 * Reading and writing `keyset.json`. The parser validates every field and never guesses: a
 * document it cannot fully account for is `KEYSET_CORRUPT`, with the JSON path of the first bad
 * field, and is never replaced. Decisions:
 * - Unknown members are rejected, not dropped: the keyset is written only by this tool, so an
 *   unknown member is a hand edit, a typo (`retiredat`) or a newer schema, and dropping it on the
 *   next write would lose information silently. A change old readers could misread bumps
 *   `version`; optional members (`revision`, `intent`, the `lastPublish` digests) keep version 1,
 *   so documents written before them still parse.
 * - Each `kid` must equal base64url(SHA-256(publicKeySpki)), so the kids in the keyset, in the
 *   JWKS and in token headers cannot drift apart.
 * - A `local` key location must be a relative path inside the state directory (no `..`), so an
 *   edited keyset cannot make `destroy` delete some other file.
 * - Several `active` keys are accepted: that state is repairable, and the planner retires all but
 *   the newest. Duplicate kids are corrupt.
 */
import { IrsaError } from './errors.ts';
import type {
  KeyIntent,
  KeyLocation,
  KeyRecord,
  KeyState,
  Keyset,
  PublishRecord,
  SigningAlg,
} from './keyset.ts';
import { ALG_FOR_SPEC, KEY_SPECS } from './keyset.ts';
import { isKid, kidFromSpki } from './kid.ts';

/** Largest keyset.json accepted: a real one is a few kilobytes. */
export const MAX_KEYSET_BYTES = 1_048_576;

const RESTORE_FIX =
  'Restore the previous version of keyset.json from the versioned state bucket or your backup; never delete it: that would drop live keys.';

const KEY_STATES: readonly KeyState[] = ['pending', 'active', 'retired', 'deleted'];
const SIGNING_ALGS = Object.values(ALG_FOR_SPEC) as SigningAlg[];
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?Z$/;

type Json = Record<string, unknown>;

function corrupt(path: string, problem: string): IrsaError {
  return new IrsaError('KEYSET_CORRUPT', `keyset.json is corrupt at ${path}: ${problem}.`, RESTORE_FIX, {
    detail: { path },
  });
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  if (typeof value === 'object') return 'an object';
  return String(value);
}

function object(value: unknown, path: string, allowed: readonly string[]): Json {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw corrupt(path, `expected an object, got ${describe(value)}`);
  }
  for (const name of Object.keys(value)) {
    if (!allowed.includes(name))
      throw corrupt(`${path}.${name}`, 'unknown member (the schema does not have it)');
  }
  return value as Json;
}

function string(obj: Json, name: string, path: string): string {
  const value = obj[name];
  if (typeof value !== 'string' || value.length === 0) {
    throw corrupt(`${path}.${name}`, `expected a non-empty string, got ${describe(value)}`);
  }
  return value;
}

function optionalString(obj: Json, name: string, path: string): string | undefined {
  return obj[name] === undefined ? undefined : string(obj, name, path);
}

function oneOf<T extends string>(obj: Json, name: string, path: string, values: readonly T[]): T {
  const value = obj[name];
  if (typeof value !== 'string' || !(values as readonly string[]).includes(value)) {
    throw corrupt(`${path}.${name}`, `expected one of ${values.join(', ')}, got ${describe(value)}`);
  }
  return value as T;
}

/** True when `value` is an ISO 8601 UTC timestamp naming a real instant (no 30 February). */
export function isIsoTimestamp(value: unknown): value is string {
  if (typeof value !== 'string' || !ISO_UTC.test(value)) return false;
  const time = Date.parse(value);
  return Number.isFinite(time) && new Date(time).toISOString().slice(0, 19) === value.slice(0, 19);
}

function timestamp(obj: Json, name: string, path: string): string {
  const value = obj[name];
  if (!isIsoTimestamp(value)) {
    throw corrupt(`${path}.${name}`, `expected an ISO 8601 UTC timestamp, got ${describe(value)}`);
  }
  return value;
}

function optionalTimestamp(obj: Json, name: string, path: string): string | undefined {
  return obj[name] === undefined ? undefined : timestamp(obj, name, path);
}

function kid(value: unknown, path: string): string {
  if (typeof value !== 'string' || !isKid(value)) {
    throw corrupt(path, `expected a kid (43 base64url characters), got ${describe(value)}`);
  }
  return value;
}

function parseLocation(value: unknown, path: string): KeyLocation {
  const type = object(value, path, ['type', 'keyId', 'keyArn', 'object', 'wrappingKeyId', 'file']).type;
  if (type === 'kms') {
    const obj = object(value, path, ['type', 'keyId', 'keyArn']);
    const keyArn = optionalString(obj, 'keyArn', path);
    const keyId = string(obj, 'keyId', path);
    return keyArn === undefined ? { type, keyId } : { type, keyId, keyArn };
  }
  if (type === 'wrapped') {
    const obj = object(value, path, ['type', 'object', 'wrappingKeyId']);
    return { type, object: string(obj, 'object', path), wrappingKeyId: string(obj, 'wrappingKeyId', path) };
  }
  if (type === 'local') {
    const obj = object(value, path, ['type', 'file']);
    const file = string(obj, 'file', path);
    if (
      file.startsWith('/') ||
      file.includes('\\') ||
      file.split('/').some((part) => part === '..' || part === '')
    ) {
      throw corrupt(
        `${path}.file`,
        `expected a relative path inside the state directory, got ${describe(file)}`,
      );
    }
    return { type, file };
  }
  throw corrupt(`${path}.type`, `expected one of kms, wrapped, local, got ${describe(type)}`);
}

const KEY_MEMBERS = [
  'kid',
  'alg',
  'keySpec',
  'state',
  'publicKeySpki',
  'location',
  'createdAt',
  'publishedAt',
  'activatedAt',
  'retiredAt',
  'deletedAt',
  'unpublishedAt',
  'revoked',
] as const;

/** The timestamp each state must carry: it is what the planner measures that state's age from. */
const REQUIRED_FOR_STATE: Readonly<Record<KeyState, 'activatedAt' | 'retiredAt' | 'deletedAt' | undefined>> =
  {
    pending: undefined,
    active: 'activatedAt',
    retired: 'retiredAt',
    deleted: 'deletedAt',
  };

function parseKey(value: unknown, path: string): KeyRecord {
  const obj = object(value, path, KEY_MEMBERS);
  const id = kid(obj.kid, `${path}.kid`);
  const keySpec = oneOf(obj, 'keySpec', path, KEY_SPECS);
  const alg = oneOf(obj, 'alg', path, SIGNING_ALGS);
  if (alg !== ALG_FOR_SPEC[keySpec]) {
    throw corrupt(
      `${path}.alg`,
      `${alg} does not go with keySpec ${keySpec} (expected ${ALG_FOR_SPEC[keySpec]})`,
    );
  }
  const state = oneOf(obj, 'state', path, KEY_STATES);
  const spki = string(obj, 'publicKeySpki', path);
  if (!BASE64.test(spki)) throw corrupt(`${path}.publicKeySpki`, 'expected standard base64 (DER SPKI)');
  if (kidFromSpki(Buffer.from(spki, 'base64')) !== id) {
    throw corrupt(`${path}.kid`, `${id} is not base64url(SHA-256(publicKeySpki))`);
  }
  const record: KeyRecord = {
    kid: id,
    alg,
    keySpec,
    state,
    publicKeySpki: spki,
    location: parseLocation(obj.location, `${path}.location`),
    createdAt: timestamp(obj, 'createdAt', path),
  };
  for (const name of ['publishedAt', 'activatedAt', 'retiredAt', 'deletedAt', 'unpublishedAt'] as const) {
    const at = optionalTimestamp(obj, name, path);
    if (at !== undefined) record[name] = at;
  }
  const required = REQUIRED_FOR_STATE[state];
  if (required !== undefined && record[required] === undefined) {
    throw corrupt(`${path}.${required}`, `a key in state ${state} must have ${required}`);
  }
  if (obj.revoked !== undefined) {
    if (typeof obj.revoked !== 'boolean') {
      throw corrupt(`${path}.revoked`, `expected true or false, got ${describe(obj.revoked)}`);
    }
    if (obj.revoked && state !== 'deleted') {
      throw corrupt(`${path}.revoked`, `a revoked key must be in state deleted, not ${state}`);
    }
    record.revoked = obj.revoked;
  }
  return record;
}

function revisionNumber(obj: Json, name: string, path: string): number | undefined {
  const value = obj[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw corrupt(`${path}.${name}`, `expected a whole number >= 0, got ${describe(value)}`);
  }
  return value;
}

function sha256Member(obj: Json, name: string, path: string): string | undefined {
  const value = optionalString(obj, name, path);
  if (value !== undefined && !/^[A-Za-z0-9+/]{43}=$/.test(value)) {
    throw corrupt(`${path}.${name}`, `expected a base64 SHA-256 digest, got ${describe(value)}`);
  }
  return value;
}

const INTENT_ID = /^[0-9]{1,16}-[0-9]{8}T[0-9]{6}(?:[0-9]{3})?Z$/;

function parseIntent(value: unknown, path: string): KeyIntent {
  const obj = object(value, path, ['id', 'keySpec', 'createdAt']);
  const id = string(obj, 'id', path);
  if (!INTENT_ID.test(id)) throw corrupt(`${path}.id`, `expected <revision>-<UTC time>, got ${describe(id)}`);
  return {
    id,
    keySpec: oneOf(obj, 'keySpec', path, KEY_SPECS),
    createdAt: timestamp(obj, 'createdAt', path),
  };
}

function parsePublish(value: unknown, path: string): PublishRecord {
  const obj = object(value, path, ['kids', 'at', 'issuer', 'revision', 'jwksSha256', 'discoverySha256']);
  if (!Array.isArray(obj.kids)) throw corrupt(`${path}.kids`, `expected an array, got ${describe(obj.kids)}`);
  const record: PublishRecord = {
    kids: obj.kids.map((item, index) => kid(item, `${path}.kids[${index}]`)),
    at: timestamp(obj, 'at', path),
  };
  const issuer = optionalString(obj, 'issuer', path);
  if (issuer !== undefined) record.issuer = issuer;
  const revision = revisionNumber(obj, 'revision', path);
  if (revision !== undefined) record.revision = revision;
  for (const name of ['jwksSha256', 'discoverySha256'] as const) {
    const digest = sha256Member(obj, name, path);
    if (digest !== undefined) record[name] = digest;
  }
  return record;
}

/**
 * Parses and validates `keyset.json`. Returns a fresh copy holding only known members. Throws
 * `KEYSET_CORRUPT` naming the JSON path of the first bad field (e.g. `$.keys[1].state`) and how to
 * recover; it never repairs or guesses.
 */
export function parseKeyset(text: string): Keyset {
  if (typeof text !== 'string') throw corrupt('$', 'expected JSON text');
  if (text.length > MAX_KEYSET_BYTES) throw corrupt('$', `larger than ${MAX_KEYSET_BYTES} bytes`);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (cause) {
    throw corrupt('$', `not valid JSON (${cause instanceof Error ? cause.message : String(cause)})`);
  }
  const root = object(data, '$', [
    'version',
    'cluster',
    'issuer',
    'keys',
    'lastPublish',
    'revision',
    'intent',
    'updatedAt',
  ]);
  if (root.version !== 1) throw corrupt('$.version', `expected 1, got ${describe(root.version)}`);
  if (!Array.isArray(root.keys)) throw corrupt('$.keys', `expected an array, got ${describe(root.keys)}`);
  const keys = root.keys.map((item, index) => parseKey(item, `$.keys[${index}]`));
  const seen = new Set<string>();
  keys.forEach((key, index) => {
    if (seen.has(key.kid)) throw corrupt(`$.keys[${index}].kid`, `duplicate kid ${key.kid}`);
    seen.add(key.kid);
  });
  const keyset: Keyset = {
    version: 1,
    cluster: string(root, 'cluster', '$'),
    issuer: string(root, 'issuer', '$'),
    keys,
    updatedAt: timestamp(root, 'updatedAt', '$'),
  };
  if (root.lastPublish !== undefined) keyset.lastPublish = parsePublish(root.lastPublish, '$.lastPublish');
  const revision = revisionNumber(root, 'revision', '$');
  if (revision !== undefined) keyset.revision = revision;
  if (root.intent !== undefined) keyset.intent = parseIntent(root.intent, '$.intent');
  return keyset;
}

function canonicalLocation(location: KeyLocation): KeyLocation {
  switch (location.type) {
    case 'kms':
      return location.keyArn === undefined
        ? { type: 'kms', keyId: location.keyId }
        : { type: 'kms', keyId: location.keyId, keyArn: location.keyArn };
    case 'wrapped':
      return { type: 'wrapped', object: location.object, wrappingKeyId: location.wrappingKeyId };
    case 'local':
      return { type: 'local', file: location.file };
  }
}

function canonicalKey(key: KeyRecord): KeyRecord {
  const out: KeyRecord = {
    kid: key.kid,
    alg: key.alg,
    keySpec: key.keySpec,
    state: key.state,
    publicKeySpki: key.publicKeySpki,
    location: canonicalLocation(key.location),
    createdAt: key.createdAt,
  };
  for (const name of ['publishedAt', 'activatedAt', 'retiredAt', 'deletedAt', 'unpublishedAt'] as const) {
    const at = key[name];
    if (at !== undefined) out[name] = at;
  }
  if (key.revoked !== undefined) out.revoked = key.revoked;
  return out;
}

/**
 * Serialises a keyset deterministically (fixed member order, two-space indent, trailing newline),
 * so equal keysets give equal bytes. `parseKeyset(serializeKeyset(k))` deep-equals `k` for any
 * valid `k`.
 */
export function serializeKeyset(keyset: Keyset): string {
  const published = keyset.lastPublish;
  const lastPublish: PublishRecord | undefined =
    published === undefined
      ? undefined
      : {
          kids: [...published.kids],
          at: published.at,
          ...(published.issuer === undefined ? {} : { issuer: published.issuer }),
          ...(published.revision === undefined ? {} : { revision: published.revision }),
          ...(published.jwksSha256 === undefined ? {} : { jwksSha256: published.jwksSha256 }),
          ...(published.discoverySha256 === undefined ? {} : { discoverySha256: published.discoverySha256 }),
        };
  const intent = keyset.intent;
  const out: Keyset = {
    version: 1,
    cluster: keyset.cluster,
    issuer: keyset.issuer,
    keys: keyset.keys.map(canonicalKey),
    ...(lastPublish === undefined ? {} : { lastPublish }),
    ...(keyset.revision === undefined ? {} : { revision: keyset.revision }),
    ...(intent === undefined
      ? {}
      : { intent: { id: intent.id, keySpec: intent.keySpec, createdAt: intent.createdAt } }),
    updatedAt: keyset.updatedAt,
  };
  return `${JSON.stringify(out, null, 2)}\n`;
}

/** A keyset with no keys yet, for a cluster's first run. */
export function emptyKeyset(cluster: string, issuer: string, now: Date): Keyset {
  return { version: 1, cluster, issuer, keys: [], updatedAt: now.toISOString() };
}
