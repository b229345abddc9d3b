/** Label selectors as kube-apiserver evaluates a webhook's namespaceSelector and objectSelector. */
import { describe, expect, it } from 'vitest';
import { selectorMatches, selectorMismatch } from '#scripts/lib/audit/selectors.ts';

const labels = { app: 'web', tier: 'front', 'kubernetes.io/metadata.name': 'apps' };

describe('label selectors', () => {
  it('an absent or empty selector matches everything', () => {
    expect(selectorMatches(undefined, {})).toBe(true);
    expect(selectorMatches({}, labels)).toBe(true);
    expect(selectorMatches({ matchLabels: {}, matchExpressions: [] }, {})).toBe(true);
  });

  it('matchLabels needs every pair', () => {
    expect(selectorMatches({ matchLabels: { app: 'web', tier: 'front' } }, labels)).toBe(true);
    expect(selectorMismatch({ matchLabels: { app: 'api' } }, labels)).toBe(
      'needs label app=api (has app=web)',
    );
    expect(selectorMismatch({ matchLabels: { team: 'x' } }, labels)).toBe('needs label team=x');
  });

  it.each([
    [{ key: 'tier', operator: 'In', values: ['front', 'back'] }, true],
    [{ key: 'tier', operator: 'In', values: ['back'] }, false],
    [{ key: 'missing', operator: 'In', values: ['x'] }, false],
    [{ key: 'tier', operator: 'NotIn', values: ['back'] }, true],
    [{ key: 'tier', operator: 'NotIn', values: ['front'] }, false],
    // Kubernetes: a label that is absent satisfies NotIn.
    [{ key: 'missing', operator: 'NotIn', values: ['x'] }, true],
    [{ key: 'app', operator: 'Exists' }, true],
    [{ key: 'missing', operator: 'Exists' }, false],
    [{ key: 'missing', operator: 'DoesNotExist' }, true],
    [{ key: 'app', operator: 'DoesNotExist' }, false],
    [{ key: 'app', operator: 'Gt', values: ['1'] }, false],
  ])('matchExpressions %j -> %s', (expression, matches) => {
    expect(selectorMatches({ matchExpressions: [expression] }, labels)).toBe(matches);
  });

  it('matchLabels and matchExpressions must all hold', () => {
    const selector = {
      matchLabels: { app: 'web' },
      matchExpressions: [{ key: 'tier', operator: 'In', values: ['back'] }],
    };
    expect(selectorMismatch(selector, labels)).toBe('needs label tier in (back) (has tier=front)');
  });
});
