/**
 * Issue 13's output contract: with --json, a failing command prints `{"ok": false, "code",
 * "message", "fix"}` on stdout and exits with the same code as without it; `--version` and `-V`
 * print the package version.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/run-cli.ts';

const VERSION = (
  JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8')) as { version: string }
).version;

describe('--json on failure', () => {
  it.each([
    ['status', ['status', '--dir', '/nonexistent-irsa'], 'LOCAL_DIR_MISSING', 1],
    ['rotate', ['rotate', '--dir', '/nonexistent-irsa', '--now', '--revoke', 'x'], 'USAGE_CONFLICT', 2],
    [
      'verify',
      ['verify', '--issuer', 'https://oidc.example.com', '--token', '/nonexistent'],
      'INPUT_MISSING',
      2,
    ],
    ['simulate', ['simulate', '--days', 'many'], 'FLAG_INVALID', 2],
    [
      'apiserver rollback',
      ['apiserver', 'rollback', '--file', '/nonexistent/kube-apiserver.yaml'],
      undefined,
      1,
    ],
  ])('%s', async (_name, args, code, exit) => {
    const plain = await runCli(...args);
    const json = await runCli(...args, '--json');
    expect(json.code).toBe(plain.code);
    expect(json.code).toBe(exit);
    const printed = JSON.parse(json.stdout) as Record<string, unknown>;
    expect(printed).toMatchObject({ ok: false });
    expect(Object.keys(printed)).toEqual(expect.arrayContaining(['code', 'message', 'fix']));
    if (code !== undefined) expect(printed.code).toBe(code);
    expect(plain.stdout).toBe('');
  });

  it('a usage error commander catches (missing required option) is JSON too, exit 2', async () => {
    const result = await runCli('verify', '--token', '-', '--json');
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: false, code: 'FLAG_MISSING' });
  });
});

describe('--version', () => {
  it.each([['--version'], ['-V']])('%s prints the package version', async (flag) => {
    const result = await runCli(flag);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(VERSION);
  });
});
