/**
 * Production code (functions/, scripts/) never reaches into test/: not by an import Biome's
 * noRestrictedImports sees, and not by a path built at run time, which it cannot see (the fault
 * engine used to be loaded as ['..', '..', '..', 'test', 'reliability', 'fault-engine.ts']).
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

async function sources(root: string): Promise<string[]> {
  const files = await readdir(root, { recursive: true });
  return files.filter((file) => file.endsWith('.ts')).map((file) => path.join(root, file));
}

describe('boundaries', () => {
  it('no file under functions/ or scripts/ loads anything from test/', async () => {
    const offenders: string[] = [];
    for (const file of [...(await sources('functions')), ...(await sources('scripts'))]) {
      const text = await readFile(file, 'utf8');
      const imports = /(?:from|import\()\s*['"][^'"]*(?:^|\/)test\//m.test(text);
      const computed = /['"]test['"]\s*,\s*['"](?:reliability|support|fixtures|scripts|functions)['"]/.test(
        text,
      );
      if (imports || computed) offenders.push(file);
    }
    expect(offenders).toEqual([]);
  });
});
