/**
 * The error-code registry, docs/errors.md and the throw sites agree: every registered code is
 * documented with its exit class, nothing undocumented is registered, and every `new IrsaError(`
 * in functions/ and scripts/ names a registered code as a literal (none is built at run time).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, isErrorCode } from '#core/error-codes.ts';
import { errorClassOf, IrsaError } from '#core/errors.ts';

const ROOT = join(import.meta.dirname, '../../..');

function documented(): Map<string, number> {
  const rows = new Map<string, number>();
  const text = readFileSync(join(ROOT, 'docs/errors.md'), 'utf8');
  for (const match of text.matchAll(/^\| `([A-Z0-9_]+)` \| ([12]) \| (.+) \| (.+) \|$/gm)) {
    const [, code, exit, meaning, fix] = match;
    expect(meaning?.trim(), `${code} meaning`).not.toBe('');
    expect(fix?.trim(), `${code} fix`).not.toBe('');
    expect(rows.has(code as string), `${code} listed twice`).toBe(false);
    rows.set(code as string, Number(exit));
  }
  return rows;
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

describe('error-code registry', () => {
  it('docs/errors.md lists exactly the registered codes, each with its exit class, meaning and fix', () => {
    const rows = documented();
    expect([...rows.keys()].sort()).toEqual(Object.keys(ERROR_CODES).sort());
    for (const [code, exit] of rows) {
      expect(exit, code).toBe(ERROR_CODES[code as keyof typeof ERROR_CODES].exit);
    }
  });

  it('every IrsaError in functions/ and scripts/ is built with a literal registered code', () => {
    const unregistered: string[] = [];
    for (const file of [...sources(join(ROOT, 'functions')), ...sources(join(ROOT, 'scripts'))]) {
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(/new IrsaError\(\s*([^,]+),/g)) {
        const arg = (match[1] ?? '').trim();
        if (arg.includes('`')) unregistered.push(`${file}: code built at run time: ${arg}`);
        for (const literal of arg.matchAll(/'([A-Z0-9]+(?:_[A-Z0-9]+)+)'/g)) {
          if (!isErrorCode(literal[1] ?? '')) unregistered.push(`${file}: ${literal[1]}`);
        }
      }
      // Codes handed to small local helpers (`fail('ISSUER_PORT', ...)`) are checked by the type.
    }
    expect(unregistered).toEqual([]);
  });

  it('bad input exits 2, a failed operation 1, an unexpected error 1 (gRPC INTERNAL)', () => {
    expect(errorClassOf(new IrsaError('TRUST_ACCOUNT_ID_INVALID', 'm', 'f')).exit).toBe(2);
    expect(errorClassOf(new IrsaError('STATE_CONFLICT', 'm', 'f')).exit).toBe(1);
    expect(errorClassOf(new Error('boom'))).toEqual({ exit: 1, grpc: 'INTERNAL' });
  });
});
