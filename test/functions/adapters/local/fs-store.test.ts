import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { atomicWriteFile } from '#adapters/local/atomic-file.ts';
import { LocalKeysetStore, LocalPublisher, localPaths } from '#adapters/local/fs-store.ts';
import { emptyKeyset } from '#core/keyset-parse.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'irsa-fs-'));
});

describe('LocalKeysetStore', () => {
  it('reads nothing from an empty directory', async () => {
    expect(await new LocalKeysetStore(localPaths(dir).state).read()).toBeNull();
  });

  it('creates, reads back and compare-and-swaps keyset.json', async () => {
    const store = new LocalKeysetStore(localPaths(dir).state);
    const keyset = emptyKeyset('local', 'http://127.0.0.1:8900', new Date('2026-01-01T00:00:00Z'));
    const v1 = await store.write(keyset, null);
    const read = await store.read();
    expect(read?.version).toBe(v1);
    expect(read?.keyset).toEqual(keyset);
    const v2 = await store.write({ ...keyset, updatedAt: '2026-01-02T00:00:00.000Z' }, v1);
    expect(v2).not.toBe(v1);
    // A writer holding the old version loses, and the newer document stays.
    await expect(store.write(keyset, v1)).rejects.toMatchObject({ code: 'STATE_CONFLICT' });
    await expect(store.write(keyset, null)).rejects.toMatchObject({ code: 'STATE_CONFLICT' });
    expect((await store.read())?.version).toBe(v2);
  });

  it('keeps keyset.json private (0600 in a 0700 directory)', async () => {
    const store = new LocalKeysetStore(localPaths(dir).state);
    await store.write(emptyKeyset('local', 'http://127.0.0.1:8900', new Date(0)), null);
    expect((await stat(localPaths(dir).keyset)).mode & 0o777).toBe(0o600);
    expect((await stat(localPaths(dir).state)).mode & 0o777).toBe(0o700);
  });

  it('reports a corrupt keyset.json and leaves it as it was', async () => {
    const store = new LocalKeysetStore(localPaths(dir).state);
    await atomicWriteFile(localPaths(dir).keyset, '{"version": 1, "keys": "oops"', { mode: 0o600 });
    await expect(store.read()).rejects.toMatchObject({ code: 'KEYSET_CORRUPT' });
    expect(await readFile(localPaths(dir).keyset, 'utf8')).toBe('{"version": 1, "keys": "oops"');
  });

  it('lets exactly one of two concurrent writers with the same version win', async () => {
    const store = new LocalKeysetStore(localPaths(dir).state);
    const keyset = emptyKeyset('local', 'http://127.0.0.1:8900', new Date(0));
    const v1 = await store.write(keyset, null);
    const results = await Promise.allSettled([
      store.write({ ...keyset, updatedAt: '2026-01-02T00:00:00.000Z' }, v1),
      store.write({ ...keyset, updatedAt: '2026-01-03T00:00:00.000Z' }, v1),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  });
});

describe('LocalPublisher', () => {
  it('writes the JWKS and discovery document, then skips unchanged bytes', async () => {
    const publisher = new LocalPublisher(dir);
    const seen = await publisher.inspect();
    expect(seen).toEqual({ jwks: null, discovery: null });
    const first = await publisher.publish({ discovery: '{"d":1}', jwks: '{"keys":[]}' }, seen);
    expect(first.changed).toBe(true);
    expect(await readFile(localPaths(dir).jwks, 'utf8')).toBe('{"keys":[]}');
    expect(await readFile(localPaths(dir).discovery, 'utf8')).toBe('{"d":1}');
    expect(await publisher.inspect()).toEqual(first.live);
    const again = await publisher.publish({ discovery: '{"d":1}', jwks: '{"keys":[]}' }, first.live);
    expect(again.changed).toBe(false);
  });

  it('refuses (PUBLISH_CONFLICT) to overwrite documents changed since they were seen', async () => {
    const publisher = new LocalPublisher(dir);
    const seen = await publisher.inspect();
    await publisher.publish({ discovery: '{"d":2}', jwks: '{"keys":[2]}' });
    await expect(
      publisher.publish({ discovery: '{"d":1}', jwks: '{"keys":[1]}' }, seen),
    ).rejects.toMatchObject({ code: 'PUBLISH_CONFLICT' });
    expect(await readFile(localPaths(dir).jwks, 'utf8')).toBe('{"keys":[2]}');
  });
});

describe('atomicWriteFile', () => {
  it('replaces a file whole and sets the exact mode', async () => {
    const path = join(dir, 'a', 'file');
    await atomicWriteFile(path, 'one', { mode: 0o600 });
    await writeFile(join(dir, 'unrelated'), 'x');
    await atomicWriteFile(path, 'two', { mode: 0o600 });
    expect(await readFile(path, 'utf8')).toBe('two');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });
});
