/**
 * One `status --json` shape for local and stack mode, and one way to write an age. Before, the
 * local JSON had `next` and the stack JSON `nextTransition`, the stack wrote a revoked key's state
 * as "active (revoked)", and ages were "3d 4h" locally but "3d4h" for a stack.
 */

import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { composeLocal } from '#adapters/local/compose-local.ts';
import { DEFAULT_POLICY_INPUT, makePolicy } from '#core/policy.ts';
import { formatAge, keysetStatus } from '#scripts/lib/key-status.ts';
import { startLocalIssuer } from '#scripts/lib/local-issuer.ts';
import { assembleStatus, formatStatus } from '#scripts/lib/stack/status.ts';
import { runCli } from '../../support/run-cli.ts';
import { keysetFixture } from './stack/fixtures.ts';

const policy = makePolicy(DEFAULT_POLICY_INPUT);

describe('formatAge', () => {
  it.each([
    [0, '0s'],
    [59, '59s'],
    [60, '1m'],
    [3_600 + 120, '1h 2m'],
    [3 * 86_400 + 4 * 3_600 + 59, '3d 4h'],
    [-5, '0s'],
  ])('%i s is "%s"', (seconds, text) => {
    expect(formatAge(seconds)).toBe(text);
  });

  it('is what status --stack prints ("3d 4h", not "3d4h")', () => {
    const now = new Date('2026-01-06T12:00:00Z');
    const report = assembleStatus({
      keyset: keysetFixture(),
      policy,
      now,
      jwksUrl: 'https://x/jwks',
      published: {},
    });
    expect(formatStatus(report)).toMatch(/age 5d 12h/);
  });
});

describe('status --json', () => {
  it('local and stack mode print the same fields; each adds only its own', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'irsa-status-')), 'issuer');
    const running = await startLocalIssuer({ dir, host: '127.0.0.1', port: 0 });
    await running.close();
    const result = await runCli('status', '--dir', dir, '--json');
    expect(result.code, result.stderr).toBe(0);
    const local = JSON.parse(result.stdout) as Record<string, unknown>;

    const current = await composeLocal(dir).store.read();
    if (current === null) throw new Error('no keyset');
    const now = new Date();
    const stack = assembleStatus({
      keyset: current.keyset,
      policy,
      now,
      jwksUrl: 'https://x/jwks',
      published: {},
      stack: 'irsa-anywhere-x',
    }) as unknown as Record<string, unknown>;
    const common = Object.keys(keysetStatus(current.keyset, policy, now)).sort();
    expect(common).toEqual(['at', 'cluster', 'issuer', 'keys', 'lastPublish', 'nextTransition']);
    expect(Object.keys(local).sort()).toEqual([...common, 'problems'].sort());
    expect(Object.keys(stack).sort()).toEqual([...common, 'published', 'stack'].sort());
    const keyFields = (report: Record<string, unknown>) =>
      Object.keys((report.keys as Array<Record<string, unknown>>)[0] ?? {}).sort();
    expect(keyFields(local)).toEqual(keyFields(stack));
  });

  it('a revoked key is its state plus revoked: true, in both modes', () => {
    const keyset = keysetFixture();
    const first = keyset.keys[0];
    if (first === undefined) throw new Error('fixture has no key');
    first.revoked = true;
    const now = new Date('2026-01-06T12:00:00Z');
    const report = assembleStatus({ keyset, policy, now, jwksUrl: 'https://x/jwks', published: {} });
    expect(report.keys[0]).toMatchObject({ state: first.state, revoked: true });
    expect(formatStatus(report)).toContain(`${first.state} (revoked)`);
  });
});
