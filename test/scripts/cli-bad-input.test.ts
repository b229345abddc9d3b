/**
 * Issue 2's bad-input list, as a user meets it on the command line: one line naming the problem and
 * the fix, a non-zero exit, and nothing overwritten.
 */

import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { base64url } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localPaths } from '#adapters/local/fs-store.ts';
import { type RunningLocalIssuer, startLocalIssuer } from '#scripts/lib/local-issuer.ts';
import { runCli } from '../support/run-cli.ts';

let dir: string;
let issuer: RunningLocalIssuer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'irsa-bad-'));
  issuer = await startLocalIssuer({ dir, host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await issuer?.close();
});

/** Expects one `error CODE: ...` line on stderr and a non-zero exit. */
function expectOneLineError(result: { code: number; stderr: string }, code: string): void {
  expect(result.code).not.toBe(0);
  const lines = result.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^error ${code}: .+ — .+`));
}

async function verifyText(token: string) {
  const file = join(dir, `t-${Math.random()}.jwt`);
  await writeFile(file, token);
  return runCli('verify', '--issuer', issuer.issuer, '--token', file);
}

const segment = (value: unknown) => base64url.encode(JSON.stringify(value));

describe('bad input on the command line', () => {
  it('a corrupt keyset.json: every command refuses it and leaves it byte-identical', async () => {
    const other = await mkdtemp(join(tmpdir(), 'irsa-corrupt-'));
    const running = await startLocalIssuer({ dir: other, host: '127.0.0.1', port: 0 });
    await running.close();
    const corrupt = '{"version":1,"cluster":"local","keys":[{"kid":"hand-edited"}]}';
    await writeFile(localPaths(other).keyset, corrupt);
    for (const args of [
      ['rotate', '--dir', other],
      ['status', '--dir', other],
      ['token', 'mint', '--dir', other, '--namespace', 'a', '--service-account', 'b'],
    ]) {
      expectOneLineError(await runCli(...args), 'KEYSET_CORRUPT');
    }
    expect(await readFile(localPaths(other).keyset, 'utf8')).toBe(corrupt);
  });

  it('a missing directory', async () => {
    const missing = join(dir, 'does-not-exist');
    expectOneLineError(await runCli('status', '--dir', missing), 'LOCAL_DIR_MISSING');
    expectOneLineError(await runCli('rotate', '--dir', missing), 'LOCAL_DIR_MISSING');
    expectOneLineError(
      await runCli('token', 'mint', '--dir', missing, '--namespace', 'a', '--service-account', 'b'),
      'LOCAL_DIR_MISSING',
    );
  });

  it('a port in use: nothing is written', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    const fresh = join(await mkdtemp(join(tmpdir(), 'irsa-port-')), 'state-dir');
    const result = await runCli('local', '--dir', fresh, '--port', String(port));
    await new Promise<void>((resolve) => blocker.close(() => resolve()));
    expectOneLineError(result, 'LOCAL_PORT_IN_USE');
    await expect(readFile(localPaths(fresh).keyset)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it.each([
    ['not three segments', 'abc.def', 'TOKEN_MALFORMED'],
    ['bad base64', 'e30.@@@.e30', 'TOKEN_MALFORMED'],
    ['alg none', `${segment({ alg: 'none', kid: 'x' })}.${segment({ sub: 'x' })}.`, 'TOKEN_ALG_NOT_ALLOWED'],
    [
      'missing kid',
      `${segment({ alg: 'RS256' })}.${segment({ sub: 'x' })}.${base64url.encode('sig')}`,
      'TOKEN_KID_MISSING',
    ],
    ['huge input', `${'a'.repeat(20_001)}.b.c`, 'TOKEN_TOO_LONG'],
  ])('a malformed token (%s)', async (_name, token, code) => {
    expectOneLineError(await verifyText(token), code);
  });

  it('unknown flags and an http issuer outside loopback', async () => {
    const unknown = await runCli('status', '--dir', dir, '--bogus');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown option '--bogus'/);
    const http = await runCli(
      'trust-policy',
      '--issuer',
      'http://oidc.example.com',
      '--account-id',
      '111122223333',
      '--namespace',
      'a',
      '--service-account',
      'b',
    );
    expect(http.code).toBe(2);
    expect(http.stderr).toMatch(/^error ISSUER_/);
  });
});
