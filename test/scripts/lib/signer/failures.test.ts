/**
 * The signer against keysets and backends that misbehave: every lifecycle state, a key whose kid
 * does not match, legacy keys, a signing backend that is down, slow or throttled, and a keyset
 * source that goes away or changes. Real gRPC over a real socket; fakes injected at the ports.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { localPaths } from '#adapters/local/fs-store.ts';
import { LocalKeys } from '#adapters/local/software-keys.ts';
import type { Keyset } from '#core/keyset.ts';
import { connectSigner } from '#scripts/lib/signer/client.ts';
import { resolveSettings } from '#scripts/lib/signer/config.ts';
import { parseExtraKeys } from '#scripts/lib/signer/extra-keys.ts';
import { memoryLog } from '#scripts/lib/signer/log.ts';
import { type Signer, startSigner } from '#scripts/lib/signer/run.ts';
import { createLocalKey, writeLocalKeyset } from '#scripts/lib/signer/temp-signer.ts';
import { claimsSegment, FakeSource, grpcCode, SwitchableSigner, verifiesWith } from './helpers.ts';

const DEADLINE_EXCEEDED = 4;
const UNAVAILABLE = 14;
const fixture = (name: string) => new URL(`../../../fixtures/keys/${name}`, import.meta.url);

let dir: string;
let keyset: Keyset;
let keys: LocalKeys;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'irsa-signer-failures-'));
  keyset = await writeLocalKeyset(join(dir, 'issuer'), [
    { spec: 'RSA_2048', state: 'retired' },
    { spec: 'RSA_2048', state: 'active' },
    { spec: 'ECC_NIST_P256', state: 'pending' },
    { spec: 'RSA_2048', state: 'deleted' },
  ]);
  keys = new LocalKeys(localPaths(join(dir, 'issuer')).state);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let running: Signer | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

async function start(
  source: FakeSource,
  backend: SwitchableSigner,
  options: { signTimeoutMs?: number; extra?: boolean; log?: ReturnType<typeof memoryLog> } = {},
) {
  const extraKeys = options.extra
    ? parseExtraKeys(await readFile(fixture('ec-p256.pub.pem'), 'utf8'), 'ec-p256.pub.pem')
    : [];
  running = await startSigner({
    socket: join(dir, `run-${Math.random().toString(36).slice(2)}`, 's.sock'),
    backend: { source, signer: backend, describe: 'fake' },
    settings: resolveSettings({ signTimeoutMs: options.signTimeoutMs ?? 2_000, refreshHintSeconds: 30 }),
    extraKeys,
    log: options.log ?? memoryLog(),
    refresh: false,
  });
  return connectSigner(`unix://${(running.address as { path: string }).path}`, 'v1');
}

describe('FetchKeys', () => {
  it('lists pending, active and retired keys, never deleted ones, and legacy keys excluded from discovery', async () => {
    const client = await start(new FakeSource(keyset), new SwitchableSigner(keys), { extra: true });
    try {
      const fetched = await client.fetchKeys();
      const expected = keyset.keys.filter((k) => k.state !== 'deleted').map((k) => k.kid);
      expect(fetched.keys.filter((k) => !k.exclude_from_oidc_discovery).map((k) => k.key_id)).toEqual(
        expected,
      );
      const legacy = fetched.keys.filter((k) => k.exclude_from_oidc_discovery);
      expect(legacy).toHaveLength(1);
      expect(legacy[0]?.key_id).toBe(
        parseExtraKeys(await readFile(fixture('ec-p256.pub.pem'), 'utf8'), 'x')[0]?.kid,
      );
      expect(fetched.refresh_hint_seconds).toBe(30);
    } finally {
      client.close();
    }
  });

  it('skips and logs a key whose kid does not match its public key, and never signs with it', async () => {
    const tampered = structuredClone(keyset);
    const active = tampered.keys.find((k) => k.state === 'active');
    if (active === undefined) throw new Error('fixture has no active key');
    active.kid = 'not-the-kid-of-this-key';
    const log = memoryLog();
    const client = await start(new FakeSource(tampered), new SwitchableSigner(keys), { log });
    try {
      const fetched = await client.fetchKeys();
      expect(fetched.keys.map((k) => k.key_id)).not.toContain('not-the-kid-of-this-key');
      expect(fetched.keys).toHaveLength(2);
      expect(log.events.some((e) => e.fields.code === 'SIGNER_KID_MISMATCH')).toBe(true);
      expect(await grpcCode(client.sign(claimsSegment()))).toBe(UNAVAILABLE);
    } finally {
      client.close();
    }
  });
});

describe('Sign', () => {
  const active = () => keyset.keys.find((k) => k.state === 'active');

  it('signs with the active key only', async () => {
    const client = await start(new FakeSource(keyset), new SwitchableSigner(keys));
    try {
      const claims = claimsSegment();
      const { header, signature } = await client.sign(claims);
      const key = active();
      expect(JSON.parse(Buffer.from(header, 'base64url').toString()).kid).toBe(key?.kid);
      const spki = Buffer.from(key?.publicKeySpki ?? '', 'base64');
      expect(verifiesWith(`${header}.${claims}.${signature}`, spki, 'RS256')).toBe(true);
    } finally {
      client.close();
    }
  });

  it('returns UNAVAILABLE when the keyset has no active key', async () => {
    const noActive = structuredClone(keyset);
    noActive.keys = noActive.keys.filter((k) => k.state !== 'active');
    const log = memoryLog();
    const client = await start(new FakeSource(noActive), new SwitchableSigner(keys), { log });
    try {
      expect(await grpcCode(client.sign(claimsSegment()))).toBe(UNAVAILABLE);
      expect(log.events.filter((e) => e.fields.code === 'SIGNER_NO_ACTIVE_KEY').map((e) => e.msg)).toEqual([
        'keyset has no usable active key; Sign fails until the rotation makes one active',
        'Sign failed',
      ]);
    } finally {
      client.close();
    }
  });

  it('returns UNAVAILABLE when the signing backend is down, and logs it', async () => {
    const backend = new SwitchableSigner(keys);
    backend.mode = 'down';
    const log = memoryLog();
    const client = await start(new FakeSource(keyset), backend, { log });
    try {
      expect(await grpcCode(client.sign(claimsSegment()))).toBe(UNAVAILABLE);
      expect(backend.calls).toBe(1);
      const event = log.events.find((e) => e.msg === 'Sign failed');
      expect(event?.level).toBe('error');
      expect(event?.fields.code).toBe('SIGNING_FAILED');
      expect(event?.fields.grpcStatus).toBe(UNAVAILABLE);
      backend.mode = 'ok';
      expect((await client.sign(claimsSegment())).signature.length).toBeGreaterThan(0);
    } finally {
      client.close();
    }
  });

  it('returns DEADLINE_EXCEEDED when the backend does not answer in time', async () => {
    const backend = new SwitchableSigner(keys);
    backend.mode = 'hang';
    const client = await start(new FakeSource(keyset), backend, { signTimeoutMs: 200 });
    try {
      const started = Date.now();
      expect(await grpcCode(client.sign(claimsSegment()))).toBe(DEADLINE_EXCEEDED);
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      client.close();
    }
  });

  it('retries a throttled backend and succeeds', async () => {
    const backend = new SwitchableSigner(keys);
    backend.mode = { throttleTimes: 2 };
    const log = memoryLog();
    const client = await start(new FakeSource(keyset), backend, { log });
    try {
      await client.sign(claimsSegment());
      expect(backend.calls).toBe(3);
      expect(log.events.filter((e) => e.fields.code === 'SIGNING_THROTTLED')).toHaveLength(2);
    } finally {
      client.close();
    }
  });

  it('gives up on a backend that stays throttled after a bounded number of attempts', async () => {
    const backend = new SwitchableSigner(keys);
    backend.mode = { throttleTimes: 1_000 };
    const client = await start(new FakeSource(keyset), backend);
    try {
      expect(await grpcCode(client.sign(claimsSegment()))).toBe(UNAVAILABLE);
      expect(backend.calls).toBe(resolveSettings().signAttempts);
    } finally {
      client.close();
    }
  });

  it('refuses a backend whose signature does not match the keyset key', async () => {
    const wrong = structuredClone(keyset);
    const a = wrong.keys.find((k) => k.state === 'active');
    const r = wrong.keys.find((k) => k.state === 'retired');
    if (a === undefined || r === undefined) throw new Error('fixture');
    a.location = r.location; // keyset says key A, but the backend holds key R's private half
    const client = await start(new FakeSource(wrong), new SwitchableSigner(keys));
    try {
      expect(await grpcCode(client.sign(claimsSegment()))).toBe(UNAVAILABLE);
    } finally {
      client.close();
    }
  });
});

describe('keyset refresh', () => {
  it('keeps serving the last good keyset when the source is down', async () => {
    const source = new FakeSource(keyset);
    const log = memoryLog();
    const client = await start(source, new SwitchableSigner(keys), { log });
    try {
      const before = await client.fetchKeys();
      source.next = Object.assign(new Error('getaddrinfo EAI_AGAIN s3'), { name: 'Error' });
      await running?.cache.refresh();
      expect(source.reads).toBe(2);
      const after = await client.fetchKeys();
      expect(after).toEqual(before);
      expect((await client.sign(claimsSegment())).header).toBeTruthy();
      expect(log.events.some((e) => e.msg.startsWith('keyset refresh failed') && e.level === 'warn')).toBe(
        true,
      );
      source.next = null; // the object vanished: also keep the last good keyset
      await running?.cache.refresh();
      expect(await client.fetchKeys()).toEqual(before);
    } finally {
      client.close();
    }
  });

  it('signs with the new active key after a rotation is read', async () => {
    const source = new FakeSource(keyset);
    const client = await start(source, new SwitchableSigner(keys));
    try {
      const rotated = structuredClone(keyset);
      const oldActive = rotated.keys.find((k) => k.state === 'active');
      const pending = rotated.keys.find((k) => k.state === 'pending');
      if (oldActive === undefined || pending === undefined) throw new Error('fixture');
      oldActive.state = 'retired';
      pending.state = 'active';
      source.next = rotated;
      await running?.cache.refresh();
      const claims = claimsSegment();
      const { header, signature } = await client.sign(claims);
      const decoded = JSON.parse(Buffer.from(header, 'base64url').toString());
      expect(decoded).toEqual({ alg: 'ES256', kid: pending.kid, typ: 'JWT' });
      expect(Buffer.from(signature, 'base64url')).toHaveLength(64);
      const fetched = await client.fetchKeys();
      expect(fetched.keys.map((k) => k.key_id)).toContain(pending.kid);
    } finally {
      client.close();
    }
  });

  it('does not start when the first read fails or finds no keyset', async () => {
    await expect(start(new FakeSource(new Error('down')), new SwitchableSigner(keys))).rejects.toThrow(
      'down',
    );
    await expect(start(new FakeSource(null), new SwitchableSigner(keys))).rejects.toMatchObject({
      code: 'SIGNER_KEYSET_MISSING',
    });
  });
});

describe('a fresh key', () => {
  it('is served as soon as it is in the keyset', async () => {
    const withNew = structuredClone(keyset);
    withNew.keys.push(await createLocalKey(keys, 'ECC_NIST_P256', 'pending', new Date()));
    const client = await start(new FakeSource(withNew), new SwitchableSigner(keys));
    try {
      expect((await client.fetchKeys()).keys.map((k) => k.key_id)).toContain(withNew.keys.at(-1)?.kid);
    } finally {
      client.close();
    }
  });
});
