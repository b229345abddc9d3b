/**
 * Issue 13: the core's purity rule is enforced by tools. Biome (biome.json) bans forbidden imports,
 * `test/` imports and the `process` global in functions/core; this test bans reading the clock
 * (`Date.now()`, `new Date()` without an argument), which Biome cannot express: the clock is a
 * parameter of the core.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const CORE = join(import.meta.dirname, '../../../functions/core');

/** The source without comments, so a doc comment may name what it avoids. */
function code(file: string): string {
  return readFileSync(join(CORE, file), 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

describe('functions/core reads no clock', () => {
  it('no Date.now() and no argument-less new Date()', () => {
    const offenders: string[] = [];
    for (const file of readdirSync(CORE).filter((name) => name.endsWith('.ts'))) {
      const text = code(file);
      if (/\bDate\.now\s*\(/.test(text)) offenders.push(`${file}: Date.now()`);
      if (/\bnew Date\s*\(\s*\)/.test(text)) offenders.push(`${file}: new Date()`);
      if (/\bperformance\.now\s*\(/.test(text)) offenders.push(`${file}: performance.now()`);
    }
    expect(offenders).toEqual([]);
  });
});
