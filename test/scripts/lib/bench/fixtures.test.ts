import { describe, expect, it } from 'vitest';
import { buildJwks } from '#core/jwks.ts';
import { plan } from '#core/planner.ts';
import { DEFAULT_POLICY_INPUT, makePolicy } from '#core/policy.ts';
import { verifyTokenWithJwks } from '#core/verify-token.ts';
import { PLANNER_KEYS, plannerKeyset } from '#scripts/lib/bench/planner.ts';
import { benchClaims } from '#scripts/lib/bench/signer.ts';
import { verifyFixture } from '#scripts/lib/bench/verify.ts';

describe('benchmark inputs', () => {
  it('the planner keyset has 100 published keys, one active, and nothing due: a steady-state run', () => {
    const now = new Date('2026-11-22T12:00:00Z');
    const keyset = plannerKeyset(now);
    expect(keyset.keys).toHaveLength(PLANNER_KEYS);
    expect(keyset.keys.filter((k) => k.state === 'active')).toHaveLength(1);
    expect(plan(keyset, makePolicy(DEFAULT_POLICY_INPUT), now)).toEqual([]);
    expect(buildJwks(keyset.keys).keys).toHaveLength(PLANNER_KEYS);
  });

  it('the verify tokens pass our verification against the fixture JWKS', async () => {
    const now = new Date();
    const { tokens, jwks } = await verifyFixture(now);
    const verified = await verifyTokenWithJwks(tokens[3] as string, {
      issuer: 'https://oidc.example.com/bench',
      audiences: ['sts.amazonaws.com'],
      now,
      jwks,
    });
    expect(verified.serviceAccount).toBe('app-3');
  });

  it('signer claims are base64url JSON, as kube-apiserver sends them', () => {
    const claims = JSON.parse(Buffer.from(benchClaims(7), 'base64url').toString('utf8')) as Record<
      string,
      unknown
    >;
    expect(claims.sub).toBe('system:serviceaccount:team-a:app');
    expect(benchClaims(7)).toMatch(/^[A-Za-z0-9_-]+$/);
  });
});
