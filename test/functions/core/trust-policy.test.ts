import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildTrustPolicy, evaluateTrustPolicy, oidcProviderArn } from '#core/trust-policy.ts';

const ISSUER = 'https://oidc.example.com/team-a';
const HP = 'oidc.example.com/team-a';
const ARN = 'arn:aws:iam::123456789012:oidc-provider/oidc.example.com/team-a';
const AUD = 'sts.amazonaws.com';

const evaluate = (policy: unknown, sub: string, aud: string | string[] = [AUD]) =>
  evaluateTrustPolicy(policy, { providerArn: ARN, issuer: ISSUER, claims: { sub, aud } });
const subOf = (ns: string, sa: string) => `system:serviceaccount:${ns}:${sa}`;

describe('oidcProviderArn', () => {
  it('is arn:<partition>:iam::<account>:oidc-provider/<host/path>', () => {
    expect(oidcProviderArn('123456789012', ISSUER)).toBe(ARN);
    expect(oidcProviderArn('012345678901', 'https://oidc.example.com', 'aws-cn')).toBe(
      'arn:aws-cn:iam::012345678901:oidc-provider/oidc.example.com',
    );
  });

  it.each(['12345678901', '1234567890123', '12345678901a', ''])('rejects account id %j', (id) => {
    expect(() => oidcProviderArn(id, ISSUER)).toThrow(
      expect.objectContaining({ code: 'TRUST_ACCOUNT_ID_INVALID' }),
    );
  });

  it('rejects an unknown partition and a bad issuer', () => {
    expect(() => oidcProviderArn('123456789012', ISSUER, 'aws-mars')).toThrow(
      expect.objectContaining({ code: 'TRUST_PARTITION_INVALID' }),
    );
    expect(() => oidcProviderArn('123456789012', `${ISSUER}/`)).toThrow(
      expect.objectContaining({ code: 'ISSUER_TRAILING_SLASH' }),
    );
  });
});

describe('buildTrustPolicy', () => {
  it('builds the EKS-shaped policy for one service account (StringEquals on :sub and :aud)', () => {
    expect(
      buildTrustPolicy({
        providerArn: ARN,
        issuer: ISSUER,
        serviceAccounts: [{ namespace: 'team-a', serviceAccount: 'app' }],
      }),
    ).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Federated: ARN },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: {
            StringEquals: {
              [`${HP}:sub`]: 'system:serviceaccount:team-a:app',
              [`${HP}:aud`]: 'sts.amazonaws.com',
            },
          },
        },
      ],
    });
  });

  it('lists several service accounts in one statement and honours a custom audience', () => {
    const policy = buildTrustPolicy({
      providerArn: ARN,
      issuer: ISSUER,
      serviceAccounts: [
        { namespace: 'a', serviceAccount: 'x' },
        { namespace: 'b', serviceAccount: 'y' },
        { namespace: 'a', serviceAccount: 'x' },
      ],
      audience: 'my-aud',
    });
    expect(policy.Statement).toHaveLength(1);
    expect(policy.Statement[0]?.Condition).toEqual({
      StringEquals: { [`${HP}:sub`]: [subOf('a', 'x'), subOf('b', 'y')], [`${HP}:aud`]: 'my-aud' },
    });
  });

  it('uses StringLike for :sub only when a wildcard is asked for', () => {
    const policy = buildTrustPolicy({
      providerArn: ARN,
      issuer: ISSUER,
      serviceAccounts: [{ namespace: 'team-a', serviceAccount: 'app-*' }],
    });
    expect(policy.Statement[0]?.Condition).toEqual({
      StringEquals: { [`${HP}:aud`]: AUD },
      StringLike: { [`${HP}:sub`]: 'system:serviceaccount:team-a:app-*' },
    });
  });

  it.each([
    [{ namespace: 'Team', serviceAccount: 'app' }, 'NAMESPACE_INVALID'],
    [{ namespace: 'a.b', serviceAccount: 'app' }, 'NAMESPACE_INVALID'],
    [{ namespace: 'x'.repeat(64), serviceAccount: 'app' }, 'NAMESPACE_INVALID'],
    [{ namespace: 'ns', serviceAccount: 'app:x' }, 'SERVICE_ACCOUNT_INVALID'],
    [{ namespace: 'ns', serviceAccount: '' }, 'SERVICE_ACCOUNT_INVALID'],
    [{ namespace: 'ns', serviceAccount: '-app' }, 'SERVICE_ACCOUNT_INVALID'],
    // Not DNS-1123 subdomains: Kubernetes refuses them, so a policy naming them matches no token
    // (accepted before the trust policy shared kube-names.ts with the token side).
    [{ namespace: 'ns', serviceAccount: 'a..b' }, 'SERVICE_ACCOUNT_INVALID'],
    [{ namespace: 'ns', serviceAccount: 'a.-b' }, 'SERVICE_ACCOUNT_INVALID'],
  ])('rejects %j with %s', (serviceAccount, code) => {
    expect(() =>
      buildTrustPolicy({ providerArn: ARN, issuer: ISSUER, serviceAccounts: [serviceAccount] }),
    ).toThrow(expect.objectContaining({ code }));
  });

  it('rejects a provider ARN of another issuer, no service accounts, an empty audience, and an oversize policy', () => {
    const sa = [{ namespace: 'a', serviceAccount: 'b' }];
    expect(() =>
      buildTrustPolicy({ providerArn: ARN.replace('team-a', 'team-b'), issuer: ISSUER, serviceAccounts: sa }),
    ).toThrow(expect.objectContaining({ code: 'TRUST_PROVIDER_MISMATCH' }));
    expect(() => buildTrustPolicy({ providerArn: ARN, issuer: ISSUER, serviceAccounts: [] })).toThrow(
      expect.objectContaining({ code: 'TRUST_NO_SERVICE_ACCOUNTS' }),
    );
    expect(() =>
      buildTrustPolicy({ providerArn: ARN, issuer: ISSUER, serviceAccounts: sa, audience: '' }),
    ).toThrow(expect.objectContaining({ code: 'TRUST_AUDIENCE_INVALID' }));
    const many = Array.from({ length: 120 }, (_, i) => ({
      namespace: 'namespace',
      serviceAccount: `service-account-${i}`,
    }));
    expect(() => buildTrustPolicy({ providerArn: ARN, issuer: ISSUER, serviceAccounts: many })).toThrow(
      expect.objectContaining({ code: 'TRUST_POLICY_TOO_LONG' }),
    );
  });
});

describe('evaluateTrustPolicy', () => {
  const policy = buildTrustPolicy({
    providerArn: ARN,
    issuer: ISSUER,
    serviceAccounts: [{ namespace: 'a', serviceAccount: 'b' }],
  });

  it('allows the named service account and says which statement allowed it', () => {
    expect(evaluate(policy, subOf('a', 'b'))).toEqual({
      allowed: true,
      reasons: ['Statement 0 allows system:serviceaccount:a:b with audience ["sts.amazonaws.com"].'],
    });
  });

  it('says exactly which :sub mismatched and how to fix it', () => {
    const result = evaluate(policy, subOf('a', 'c'));
    expect(result.allowed).toBe(false);
    expect(result.reasons).toEqual([
      `Statement 0: condition StringEquals "${HP}:sub" is "system:serviceaccount:a:b" but the token says "system:serviceaccount:a:c". Fix: put "system:serviceaccount:a:c" in the condition (irsa-anywhere trust-policy --namespace <ns> --service-account <sa>), or run the pod as the service account the policy names.`,
    ]);
  });

  it('checks :aud against any value of an aud array', () => {
    expect(evaluate(policy, subOf('a', 'b'), ['https://kubernetes.default.svc', AUD]).allowed).toBe(true);
    const wrong = evaluate(policy, subOf('a', 'b'), 'https://kubernetes.default.svc');
    expect(wrong.allowed).toBe(false);
    expect(wrong.reasons[0]).toContain(
      `"${HP}:aud" is "sts.amazonaws.com" but the token says "https://kubernetes.default.svc"`,
    );
  });

  it('accepts JSON text and URL-encoded JSON as IAM GetRole returns it', () => {
    expect(evaluate(JSON.stringify(policy), subOf('a', 'b')).allowed).toBe(true);
    expect(evaluate(encodeURIComponent(JSON.stringify(policy)), subOf('a', 'b')).allowed).toBe(true);
  });

  it('rejects text that is not a policy (TRUST_POLICY_INVALID)', () => {
    expect(() => evaluate('{nope', subOf('a', 'b'))).toThrow(
      expect.objectContaining({ code: 'TRUST_POLICY_INVALID' }),
    );
    expect(() => evaluate({ Version: '2012-10-17' }, subOf('a', 'b'))).toThrow(
      expect.objectContaining({ code: 'TRUST_POLICY_INVALID' }),
    );
  });

  it('needs the Federated principal to be the provider ARN', () => {
    const other = {
      ...policy,
      Statement: [{ ...policy.Statement[0], Principal: { Federated: ARN.replace('team-a', 'x') } }],
    };
    const result = evaluate(other, subOf('a', 'b'));
    expect(result.allowed).toBe(false);
    expect(result.reasons[0]).toContain(`No Allow statement lets Federated principal "${ARN}"`);
  });

  it('accepts the action as a list, as sts:* and as a wildcard; rejects other actions', () => {
    const withAction = (Action: unknown) => ({ Statement: { ...policy.Statement[0], Action } });
    expect(
      evaluate(withAction(['sts:TagSession', 'sts:AssumeRoleWithWebIdentity']), subOf('a', 'b')).allowed,
    ).toBe(true);
    expect(evaluate(withAction('sts:*'), subOf('a', 'b')).allowed).toBe(true);
    expect(evaluate(withAction('sts:AssumeRoleWith*'), subOf('a', 'b')).allowed).toBe(true);
    expect(evaluate(withAction('sts:AssumeRole'), subOf('a', 'b')).allowed).toBe(false);
  });

  it('evaluates StringLike, ForAnyValue:StringLike and StringNotEquals', () => {
    const statement = (Condition: unknown) => ({
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Federated: ARN },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition,
        },
      ],
    });
    const like = statement({ StringLike: { [`${HP}:sub`]: 'system:serviceaccount:a:*' } });
    expect(evaluate(like, subOf('a', 'anything')).allowed).toBe(true);
    expect(evaluate(like, subOf('b', 'x')).allowed).toBe(false);
    const anyAud = statement({ 'ForAnyValue:StringLike': { [`${HP}:aud`]: 'sts.*' } });
    expect(evaluate(anyAud, subOf('a', 'b'), ['x', 'sts.amazonaws.com']).allowed).toBe(true);
    expect(evaluate(anyAud, subOf('a', 'b'), ['x']).allowed).toBe(false);
    const notEq = statement({
      StringNotEquals: { [`${HP}:sub`]: 'system:serviceaccount:kube-system:default' },
    });
    expect(evaluate(notEq, subOf('a', 'b')).allowed).toBe(true);
    expect(evaluate(notEq, subOf('kube-system', 'default')).allowed).toBe(false);
  });

  it('explains condition keys written for another issuer', () => {
    const foreign = {
      Statement: [
        {
          ...policy.Statement[0],
          Condition: { StringEquals: { 'oidc.eks.us-east-1.amazonaws.com/id/ABC:sub': subOf('a', 'b') } },
        },
      ],
    };
    const result = evaluate(foreign, subOf('a', 'b'));
    expect(result.allowed).toBe(false);
    expect(result.reasons[0]).toContain('a key of another issuer');
    expect(result.reasons[0]).toContain(`Fix: use "${HP}:sub"`);
  });

  it('treats an unknown operator as not satisfied, and lets a matching Deny win', () => {
    const unknown = {
      Statement: [
        { ...policy.Statement[0], Condition: { DateGreaterThan: { 'aws:CurrentTime': '2020-01-01' } } },
      ],
    };
    expect(evaluate(unknown, subOf('a', 'b')).reasons[0]).toContain('not evaluated here');
    const deny = {
      Statement: [policy.Statement[0], { Effect: 'Deny', Principal: { Federated: ARN }, Action: 'sts:*' }],
    };
    expect(evaluate(deny, subOf('a', 'b'))).toMatchObject({
      allowed: false,
      reasons: [expect.stringContaining('explicitly denies')],
    });
  });
});

describe('property: a policy built for (ns, sa) allows exactly tokens with that sub', () => {
  const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/);

  it('single service account', () => {
    fc.assert(
      fc.property(label, label, label, label, (ns, sa, otherNs, otherSa) => {
        const policy = buildTrustPolicy({
          providerArn: ARN,
          issuer: ISSUER,
          serviceAccounts: [{ namespace: ns, serviceAccount: sa }],
        });
        expect(evaluate(policy, subOf(ns, sa)).allowed).toBe(true);
        const allowed = evaluate(policy, subOf(otherNs, otherSa)).allowed;
        expect(allowed).toBe(otherNs === ns && otherSa === sa);
        expect(evaluate(policy, subOf(ns, sa), ['not-sts']).allowed).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('several service accounts, and a wildcard service account', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(label, label), { minLength: 1, maxLength: 5 }),
        label,
        label,
        (pairs, ns, sa) => {
          const serviceAccounts = pairs.map(([namespace, serviceAccount]) => ({ namespace, serviceAccount }));
          const policy = buildTrustPolicy({ providerArn: ARN, issuer: ISSUER, serviceAccounts });
          const listed = pairs.some(([n, s]) => n === ns && s === sa);
          expect(evaluate(policy, subOf(ns, sa)).allowed).toBe(listed);
          const wildcard = buildTrustPolicy({
            providerArn: ARN,
            issuer: ISSUER,
            serviceAccounts: [{ namespace: ns, serviceAccount: '*' }],
          });
          expect(evaluate(wildcard, subOf(ns, sa)).allowed).toBe(true);
          expect(evaluate(wildcard, subOf(`${ns}x`, sa)).allowed).toBe(false);
        },
      ),
      { numRuns: 200 },
    );
  });
});
