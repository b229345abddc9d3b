/**
 * Issue 14 item 5: stdout on a full disk (`> /dev/full`) and a closed pipe. Before the fix the CLI
 * crashed with "Unhandled 'error' event" and a stack trace. Runs the real `bin` in a child process,
 * because the failure is in the process's own streams.
 */
import { spawn } from 'node:child_process';
import { existsSync, openSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startLocalIssuer } from '#scripts/lib/local-issuer.ts';
import { outputErrorHandler } from '#scripts/lib/output-errors.ts';

const bin = resolve(import.meta.dirname, '../../../scripts/bin.mjs');

function run(args: string[], stdout: number | 'pipe', stderr: number | 'pipe' = 'pipe') {
  return new Promise<{ code: number | null; stderr: string }>((done) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', stdout, stderr] });
    let err = '';
    child.stderr?.on('data', (chunk) => {
      err += chunk;
    });
    child.on('close', (code) => done({ code, stderr: err }));
  });
}

const full = existsSync('/dev/full');
if (!full) console.warn('SKIPPED: /dev/full is missing on this machine; the full-disk tests cannot run.');

describe.skipIf(!full)('5. a full disk on stdout', () => {
  it.each([
    ['webhook manifests', ['webhook', 'manifests']],
    ['status --json', ['status', '--json']],
  ])('%s: one coded line, exit 1, no stack trace', async (_name, args) => {
    const dir = join(await mkdtemp(join(tmpdir(), 'irsa-full-')), 'd');
    await (await startLocalIssuer({ dir, host: '127.0.0.1', port: 0 })).close();
    const result = await run(
      [...args, ...(args[0] === 'status' ? ['--dir', dir] : [])],
      openSync('/dev/full', 'w'),
    );
    expect(result.stderr).not.toMatch(/Unhandled|at .*\.ts:\d+/);
    expect(result.stderr.trim()).toMatch(
      /^error OUTPUT_WRITE_FAILED: Cannot write to stdout \(ENOSPC\).* — .+$/,
    );
    expect(result.code).toBe(1);
  });

  it('stderr on a full disk: exit 1, no crash', async () => {
    const result = await run(['status', '--dir', '/nonexistent-irsa'], 'pipe', openSync('/dev/full', 'w'));
    expect(result.code).toBe(1);
  });
});

describe('5. a closed pipe', () => {
  it('EPIPE ends the process quietly with 0; other errors on stderr exit 1 without a report', () => {
    const calls: string[] = [];
    const how = {
      exit: (code: number) => calls.push(`exit ${code}`),
      report: (line: string) => calls.push(line),
    };
    outputErrorHandler('stdout', how)(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    outputErrorHandler('stderr', how)(Object.assign(new Error('nospc'), { code: 'ENOSPC' }));
    expect(calls).toEqual(['exit 0', 'exit 1']);
  });
});
