/**
 * Issue 13: bad input exits 2 on every command, not 1. Before the error-code registry, a prefix
 * regex in cli-support.ts decided, and these four exited 1.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startLocalIssuer } from '#scripts/lib/local-issuer.ts';
import { runCli } from '../support/run-cli.ts';

const TRUST = [
  'trust-policy',
  '--issuer',
  'https://oidc.example.com/prod',
  '--namespace',
  'default',
  '--service-account',
  'app',
];

describe('exit code 2 for bad input', () => {
  it.each([
    ['trust-policy --account-id 1234', [...TRUST, '--account-id', '1234'], 'TRUST_ACCOUNT_ID_INVALID'],
    [
      'trust-policy --partition nowhere',
      [...TRUST, '--account-id', '123456789012', '--partition', 'nowhere'],
      'TRUST_PARTITION_INVALID',
    ],
    [
      'verify --token /nonexistent',
      ['verify', '--issuer', 'https://oidc.example.com', '--token', '/nonexistent'],
      'INPUT_MISSING',
    ],
  ])('%s', async (_title, args, code) => {
    const result = await runCli(...args);
    expect(result.stderr).toMatch(new RegExp(`^error ${code}: `));
    expect(result.code).toBe(2);
  });

  it('token mint --namespace Bad_NS', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'irsa-exit-'));
    await (await startLocalIssuer({ dir, host: '127.0.0.1', port: 0 })).close();
    const result = await runCli(
      'token',
      'mint',
      '--dir',
      dir,
      '--namespace',
      'Bad_NS',
      '--service-account',
      'app',
    );
    expect(result.stderr).toMatch(/^error NAMESPACE_INVALID: /);
    expect(result.code).toBe(2);
  });
});
