/**
 * Kubernetes names as k8s.io/apimachinery/pkg/util/validation checks them: IsDNS1123Label for
 * namespaces, IsDNS1123Subdomain for service accounts. One module and one code per concept.
 */
import { describe, expect, it } from 'vitest';
import {
  isDns1123Label,
  isDns1123Subdomain,
  parseNamespace,
  parseServiceAccountName,
} from '#core/kube-names.ts';

describe('DNS-1123 (k8s.io/apimachinery validation)', () => {
  it.each(['a', 'kube-system', '0', 'a1-b2', 'x'.repeat(63)])('label %s is valid', (value) => {
    expect(isDns1123Label(value)).toBe(true);
  });
  it.each(['', 'A', '-a', 'a-', 'a.b', 'a_b', 'x'.repeat(64)])('label %j is not', (value) => {
    expect(isDns1123Label(value)).toBe(false);
  });
  it.each(['a', 'a.b', 'app.v1-2', `${'x'.repeat(63)}.${'y'.repeat(63)}`])(
    'subdomain %s is valid',
    (value) => {
      expect(isDns1123Subdomain(value)).toBe(true);
    },
  );
  it.each(['', 'a..b', 'a.-b', 'a-.b', '.a', 'a.', 'A.b', 'x'.repeat(254)])(
    'subdomain %j is not',
    (value) => {
      expect(isDns1123Subdomain(value)).toBe(false);
    },
  );
});

describe('namespace and service account', () => {
  it('one code per concept, naming the value and the rule', () => {
    expect(() => parseNamespace('Bad_NS')).toThrow(
      expect.objectContaining({
        code: 'NAMESPACE_INVALID',
        message: 'Namespace "Bad_NS" is not a valid Kubernetes namespace name.',
      }),
    );
    expect(() => parseServiceAccountName('a..b')).toThrow(
      expect.objectContaining({ code: 'SERVICE_ACCOUNT_INVALID' }),
    );
  });

  it('IAM wildcards only where asked for (trust policies), each read as one character', () => {
    expect(parseNamespace('team-*', { wildcards: true })).toBe('team-*');
    expect(parseServiceAccountName('app-?.v1', { wildcards: true })).toBe('app-?.v1');
    expect(() => parseNamespace('team-*')).toThrow(expect.objectContaining({ code: 'NAMESPACE_INVALID' }));
    expect(() => parseServiceAccountName('*..x', { wildcards: true })).toThrow(
      expect.objectContaining({ code: 'SERVICE_ACCOUNT_INVALID' }),
    );
  });
});
