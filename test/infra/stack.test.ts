/**
 * The AWS stack as CloudFormation sees it: `serverless package` runs offline (osls, dummy
 * credentials) for two variants, kms mode with defaults and file mode with a custom domain, path
 * prefix, extra audiences and an alarm topic; the tests assert on the generated templates and
 * artifacts, and run cfn-lint on them where it is installed.
 */
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { keyAuthority, signingKeyPolicy } from '../../functions/adapters/aws/kms-key-policy.ts';
import { METRIC_ACTIVE_KEY_AGE, METRICS_NAMESPACE, ROTATE_SERVICE } from '../../functions/rotate/app.ts';
import { actions, type Packaged, packageStack, readZip, statements, type Template } from './packaging.ts';

const FILE_PARAMS = {
  keyMode: 'file',
  customDomain: 'oidc.example.com',
  certificateArn: 'arn:aws:acm:us-east-1:111122223333:certificate/0a1b2c3d-1111-2222-3333-444455556666',
  pathPrefix: '/team-a',
  extraAudiences: 'vault,other',
  alarmTopicArn: 'arn:aws:sns:us-east-1:111122223333:alerts',
};

let kms: Packaged;
let file: Packaged;

beforeAll(() => {
  kms = packageStack();
  file = packageStack(FILE_PARAMS);
}, 900_000);

const resource = (t: Template, name: string) => {
  const found = t.Resources[name];
  if (found === undefined) throw new Error(`no resource ${name}`);
  return found;
};
const json = (value: unknown) => JSON.stringify(value);
/** A CloudFormation `${...}` string, written with `#{...}` so it is not mistaken for a JS template. */
const cfn = (text: string) => text.replaceAll('#{', '${');
const ISSUER_IF = {
  'Fn::If': [
    'HasCustomDomain',
    { 'Fn::Sub': cfn('https://#{CustomDomain}#{PathPrefix}') },
    { 'Fn::Sub': cfn('https://#{Distribution.DomainName}#{PathPrefix}') },
  ],
};
/** The issuer of the stack: the fleet's domain plus the cluster path when it joins a fleet (docs/fleet.md). */
const ISSUER = {
  'Fn::If': [
    'IsFleetMember',
    {
      'Fn::Sub': [
        cfn('https://#{Host}/test'),
        { Host: { 'Fn::ImportValue': { 'Fn::Sub': cfn('#{Fleet}-IssuerHost') } } },
      ],
    },
    ISSUER_IF,
  ],
};

/** Every inline role policy and managed policy of a template, with its owner. */
const policies = (t: Template) => {
  const docs: Array<{ owner: string; doc: unknown }> = [];
  for (const [name, r] of Object.entries(t.Resources)) {
    if (r.Type === 'AWS::IAM::Role') {
      for (const entry of r.Properties.Policies as Array<Record<string, unknown>>) {
        // A conditional policy (Fn::If [condition, policy, AWS::NoValue]): check the policy.
        const p = ('Fn::If' in entry ? (entry['Fn::If'] as unknown[])[1] : entry) as {
          PolicyDocument: unknown;
        };
        docs.push({ owner: name, doc: p.PolicyDocument });
      }
    }
    if (r.Type === 'AWS::IAM::ManagedPolicy') docs.push({ owner: name, doc: r.Properties.PolicyDocument });
  }
  return docs;
};

describe('serverless package (offline)', () => {
  it('npx serverless --version answers offline', () => {
    const out = spawnSync('npx', ['serverless', '--version'], { encoding: 'utf8', timeout: 60_000 });
    expect(out.status).toBe(0);
    expect(out.stdout).toMatch(/osls version: 4\./);
  });

  it('builds one ESM .mjs bundle per function, SDK included, each zip at most 150 KB', () => {
    for (const fn of ['rotate', 'bootstrap'] as const) {
      const entries = readZip(kms.zipPath(fn));
      expect([...entries.keys()]).toEqual([`functions/${fn}/handler.mjs`]);
      const code = entries.get(`functions/${fn}/handler.mjs`)?.toString('utf8') ?? '';
      expect(code.length).toBeGreaterThan(100_000);
      // The SDK is bundled, not imported from the Lambda runtime (only error strings mention it).
      expect(/(from\s*|import\()["']@aws-sdk\//.test(code)).toBe(false);
      expect(code.startsWith('import { createRequire')).toBe(true);
      const size = statSync(kms.zipPath(fn)).size;
      console.info(`${fn}.zip: ${size} bytes (${(size / 1024).toFixed(1)} KiB)`);
      expect(size).toBeLessThanOrEqual(150 * 1024);
    }
  });

  it('runs the functions on nodejs24.x arm64, each with its own role', () => {
    const t = kms.template;
    const rotate = resource(t, 'RotateLambdaFunction').Properties;
    const bootstrap = resource(t, 'BootstrapLambdaFunction').Properties;
    for (const fn of [rotate, bootstrap]) {
      expect(fn.Runtime).toBe('nodejs24.x');
      expect(fn.Architectures).toEqual(['arm64']);
    }
    expect(rotate.Handler).toBe('functions/rotate/handler.handler');
    expect(rotate.Role).toEqual({ 'Fn::GetAtt': ['RotateRole', 'Arn'] });
    expect(bootstrap.Role).toEqual({ 'Fn::GetAtt': ['BootstrapRole', 'Arn'] });
    expect(rotate.ReservedConcurrentExecutions).toBeUndefined(); // fresh accounts refuse reservations
    const env = (rotate.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(Object.keys(env).sort()).toEqual(
      [
        'CLUSTER_NAME',
        'ISSUER_URL',
        'STATE_BUCKET',
        'PUBLIC_BUCKET',
        'KEY_MODE',
        'KEY_SPEC',
        'WRAPPING_KEY_ID',
        'ROTATION_PERIOD_DAYS',
        'PUBLISH_LEAD_HOURS',
        'MAX_TOKEN_LIFETIME_SECONDS',
        'JWKS_MAX_AGE_SECONDS',
        'NODE_SYNC_LAG_SECONDS',
        'KEY_DELETION_WINDOW_DAYS',
        'ROTATE_ROLE_ARN',
        'BOOTSTRAP_ROLE_ARN',
        'STACK_ID',
        'DISTRIBUTION_ID',
        'POWERTOOLS_LOG_LEVEL',
      ].sort(),
    );
    expect(env.ISSUER_URL).toEqual(ISSUER);
    // Every value the functions validate comes from a CloudFormation parameter with constraints.
    expect(env.CLUSTER_NAME).toEqual({ Ref: 'ClusterName' });
    expect(t.Parameters.ClusterName?.Default).toBe('test');
    for (const [variable, parameter] of [
      ['ROTATION_PERIOD_DAYS', 'RotationPeriodDays'],
      ['PUBLISH_LEAD_HOURS', 'PublishLeadHours'],
      ['MAX_TOKEN_LIFETIME_SECONDS', 'MaxTokenLifetimeSeconds'],
      ['JWKS_MAX_AGE_SECONDS', 'JwksMaxAgeSeconds'],
      ['NODE_SYNC_LAG_SECONDS', 'NodeSyncLagSeconds'],
      ['KEY_DELETION_WINDOW_DAYS', 'KeyDeletionWindowDays'],
      ['KEY_MODE', 'KeyMode'],
      ['KEY_SPEC', 'KeySpec'],
    ] as const) {
      expect(env[variable], variable).toEqual({ Ref: parameter });
      expect(t.Parameters[parameter], parameter).toBeDefined();
    }
  });

  it('schedules rotate hourly by default', () => {
    const rule = Object.values(kms.template.Resources).find((r) => r.Type === 'AWS::Events::Rule');
    expect(rule?.Properties.ScheduleExpression).toBe('rate(1 hour)');
  });
});

describe('buckets', () => {
  const blockAll = {
    BlockPublicAcls: true,
    BlockPublicPolicy: true,
    IgnorePublicAcls: true,
    RestrictPublicBuckets: true,
  };

  it.each(['PublicBucket', 'StateBucket'])(
    '%s: all four Block Public Access settings, SSE, versioning, retained',
    (name) => {
      const bucket = resource(kms.template, name);
      expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual(blockAll);
      expect(json(bucket.Properties.BucketEncryption)).toContain('AES256');
      expect(bucket.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
      expect(bucket.DeletionPolicy).toBe('Retain');
    },
  );

  it.each([
    ['PublicBucketPolicy', 'PublicBucket'],
    ['StateBucketPolicy', 'StateBucket'],
  ])('%s denies every request without TLS', (policyName, bucketName) => {
    const policy = resource(kms.template, policyName).Properties;
    const deny = statements(policy.PolicyDocument).find((s) => s.Effect === 'Deny');
    expect(deny?.Condition).toEqual({ Bool: { 'aws:SecureTransport': 'false' } });
    expect(json(deny?.Resource)).toContain(bucketName);
  });

  it('only this distribution may read the public bucket, and only the two documents', () => {
    const allows = statements(resource(kms.template, 'PublicBucketPolicy').Properties.PolicyDocument).filter(
      (s) => s.Effect === 'Allow',
    );
    expect(allows).toHaveLength(1);
    const [allow] = allows;
    expect(allow?.Principal).toEqual({ Service: 'cloudfront.amazonaws.com' });
    expect(actions(allow ?? { Effect: 'Allow', Action: [] })).toEqual(['s3:GetObject']);
    expect(allow?.Resource).toEqual([
      { 'Fn::Sub': cfn('#{PublicBucket.Arn}#{PathPrefix}/.well-known/openid-configuration') },
      { 'Fn::Sub': cfn('#{PublicBucket.Arn}#{PathPrefix}/openid/v1/jwks') },
    ]);
    expect(json(allow?.Condition)).toContain('AWS:SourceArn');
    expect(json(allow?.Condition)).toContain(cfn('distribution/#{Distribution}'));
  });

  it.each(['PublicBucketPolicy', 'StateBucketPolicy'])(
    '%s denies object writes, deletes, ACL and tag changes to everyone but the two function roles',
    (policyName) => {
      const deny = statements(resource(kms.template, policyName).Properties.PolicyDocument).find(
        (s) => s.Sid === 'OnlyTheFunctionRolesWriteObjects',
      );
      expect(deny?.Effect).toBe('Deny');
      expect(deny?.Principal).toBe('*');
      expect(actions(deny ?? { Effect: 'Deny', Action: [] })).toEqual(
        expect.arrayContaining([
          's3:PutObject',
          's3:DeleteObject',
          's3:DeleteObjectVersion',
          's3:PutObjectAcl',
          's3:PutObjectTagging',
        ]),
      );
      // The bucket policy itself stays changeable by the account (recovery).
      expect(actions(deny ?? { Effect: 'Deny', Action: [] })).not.toContain('s3:PutBucketPolicy');
      expect(deny?.Condition).toEqual({
        ArnNotEquals: {
          'aws:PrincipalArn': [
            { 'Fn::GetAtt': ['RotateRole', 'Arn'] },
            { 'Fn::GetAtt': ['BootstrapRole', 'Arn'] },
          ],
        },
      });
    },
  );

  it('the state bucket grants nothing in its own policy (roles are granted by IAM)', () => {
    const doc = resource(kms.template, 'StateBucketPolicy').Properties.PolicyDocument;
    expect(statements(doc).filter((s) => s.Effect === 'Allow')).toEqual([]);
  });
});

describe('CloudFront', () => {
  it('reads the regional bucket domain through OAC, HTTPS only, GET/HEAD', () => {
    const config = resource(kms.template, 'Distribution').Properties.DistributionConfig as Record<
      string,
      unknown
    >;
    const origins = config.Origins as Array<Record<string, unknown>>;
    expect(origins).toHaveLength(1);
    expect(origins[0]?.DomainName).toEqual({ 'Fn::GetAtt': ['PublicBucket', 'RegionalDomainName'] });
    expect(origins[0]?.OriginAccessControlId).toEqual({ 'Fn::GetAtt': ['PublicOriginAccessControl', 'Id'] });
    expect(origins[0]?.S3OriginConfig).toEqual({ OriginAccessIdentity: '' });
    const behavior = config.DefaultCacheBehavior as Record<string, unknown>;
    expect(behavior.ViewerProtocolPolicy).toBe('https-only');
    expect(behavior.AllowedMethods).toEqual(['GET', 'HEAD']);
    expect(behavior.CachePolicyId).toEqual({ Ref: 'DocumentsCachePolicy' });
    expect(json(config.ViewerCertificate)).toContain('TLSv1.2_2021');
    expect(json(config.Aliases)).toContain('CustomDomain');
    const oac = resource(kms.template, 'PublicOriginAccessControl').Properties.OriginAccessControlConfig;
    expect(oac).toMatchObject({
      OriginAccessControlOriginType: 's3',
      SigningBehavior: 'always',
      SigningProtocol: 'sigv4',
    });
  });

  it('only the rotate role may invalidate, and only its own distribution', () => {
    const grants = policies(kms.template).flatMap(({ owner, doc }) =>
      statements(doc)
        .filter((s) => actions(s).some((a) => a.startsWith('cloudfront:')))
        .map((s) => ({ owner, s })),
    );
    expect(grants.map((g) => g.owner)).toEqual(['RotateRole']);
    expect(actions(grants[0]?.s ?? { Effect: 'Allow', Action: [] })).toEqual([
      'cloudfront:CreateInvalidation',
    ]);
    expect(grants[0]?.s.Resource).toEqual({
      'Fn::Sub': cfn('arn:#{AWS::Partition}:cloudfront::#{AWS::AccountId}:distribution/#{Distribution}'),
    });
    const env = (
      resource(kms.template, 'RotateLambdaFunction').Properties.Environment as {
        Variables: Record<string, unknown>;
      }
    ).Variables;
    expect(env.DISTRIBUTION_ID).toEqual({ 'Fn::If': ['HasStandaloneIssuer', { Ref: 'Distribution' }, ''] });
  });

  it('the Serverless deployment bucket blocks public access and keeps versions', () => {
    const bucket = resource(kms.template, 'ServerlessDeploymentBucket').Properties;
    expect(bucket.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(bucket.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(json(bucket.BucketEncryption)).toContain('AES256');
  });

  it('the cache policy honours the origin Cache-Control (MinTTL 0, MaxTTL above the 300 s default)', () => {
    const policy = resource(kms.template, 'DocumentsCachePolicy').Properties.CachePolicyConfig as Record<
      string,
      number
    >;
    expect(policy.MinTTL).toBe(0);
    expect(policy.MaxTTL).toBeGreaterThanOrEqual(300);
  });
});

describe('issuer, bootstrap and OIDC provider', () => {
  it('the OIDC provider URL is the issuer exactly, created after the bootstrap resource', () => {
    const provider = resource(kms.template, 'OidcProvider');
    expect([provider.DependsOn].flat()).toEqual(['BootstrapResource']);
    expect(provider.Properties.Url).toEqual(ISSUER_IF);
    expect(json(provider.Properties.ClientIdList)).toContain('sts.amazonaws.com');
    expect(json(provider.Properties.ClientIdList)).toContain(cfn('#{ExtraAudiences}'));
    const bootstrap = resource(kms.template, 'BootstrapResource');
    expect(bootstrap.Properties.ServiceToken).toEqual({ 'Fn::GetAtt': ['BootstrapLambdaFunction', 'Arn'] });
    expect(bootstrap.Properties.Issuer).toEqual(ISSUER);
    // CloudFormation stops waiting for an answer after 330 s, not the default hour.
    expect(bootstrap.Properties.ServiceTimeout).toBe(330);
  });

  it('params become CloudFormation parameters that refuse an issuer with a trailing slash, http or a scheme', () => {
    const parameters = file.template.Parameters;
    expect(parameters.CustomDomain?.Default).toBe('oidc.example.com');
    expect(parameters.PathPrefix?.Default).toBe('/team-a');
    expect(parameters.KeyMode).toMatchObject({ Default: 'file', AllowedValues: ['kms', 'file'] });
    const prefix = new RegExp(parameters.PathPrefix?.AllowedPattern ?? '');
    const domain = new RegExp(parameters.CustomDomain?.AllowedPattern ?? '');
    for (const ok of ['', '/team-a', '/a/b.c']) expect(prefix.test(ok), ok).toBe(true);
    for (const bad of ['/', '/team-a/', 'team-a', '/a b', '/a?x']) expect(prefix.test(bad), bad).toBe(false);
    for (const ok of ['', 'oidc.example.com']) expect(domain.test(ok), ok).toBe(true);
    for (const bad of [
      'https://oidc.example.com',
      'http://oidc.example.com',
      'oidc.example.com/',
      'OIDC.example.com',
      'x',
    ]) {
      expect(domain.test(bad), bad).toBe(false);
    }
  });

  it('Rules (infra/rules.yml) reach the template: customDomain and certificateArn go together', () => {
    for (const t of [kms.template, file.template]) {
      expect(Object.keys(t.Rules ?? {}).sort()).toEqual([
        'CertificateNeedsCustomDomain',
        'CustomDomainNeedsCertificate',
        'FleetMemberUsesTheFleetDomain',
        'KeepStandaloneIssuerNeedsFleet',
      ]);
      expect(json(t.Rules?.CustomDomainNeedsCertificate)).toContain('CertificateArn');
    }
  });

  it('file mode: custom domain, prefix, extra audiences and alarm topic flow into the template', () => {
    const t = file.template;
    expect(t.Parameters.ExtraAudiences?.Default).toBe('vault,other');
    expect(t.Parameters.AlarmTopicArn?.Default).toBe(FILE_PARAMS.alarmTopicArn);
    expect(resource(t, 'WrappingKey').Condition).toBe('IsFileMode');
  });
});

describe('least privilege', () => {
  it('no wildcard actions in any role or managed policy', () => {
    for (const { owner, doc } of policies(kms.template)) {
      for (const s of statements(doc)) {
        for (const action of actions(s)) expect(action, `${owner}/${s.Sid}`).not.toMatch(/(^\*$|:\*$|\*)/);
      }
    }
  });

  it('Resource "*" only for kms:CreateKey: AWS_KMS origin, SIGN_VERIFY, an allowed spec (StringEquals), no tags', () => {
    for (const { owner, doc } of policies(kms.template)) {
      for (const s of statements(doc).filter((x) => x.Resource === '*')) {
        // The exceptions: listing, which AWS grants only on * — the bootstrap's stack-removal sweep
        // reads tags, and the rotation finds what an abandoned key intent left.
        if (s.Sid === 'FindKeysTaggedForThisCluster') {
          expect(owner).toBe('BootstrapRole');
          expect(actions(s)).toEqual(['tag:GetResources']);
          continue;
        }
        if (s.Sid === 'FindKeysOfAbandonedIntents') {
          expect(actions(s).sort()).toEqual(['kms:ListKeys', 'tag:GetResources']);
          continue;
        }
        expect(actions(s), `${owner}/${s.Sid}`).toEqual(['kms:CreateKey']);
        expect(s.Condition?.StringEquals).toEqual({
          'kms:KeyOrigin': 'AWS_KMS',
          'kms:KeyUsage': 'SIGN_VERIFY',
          'kms:KeySpec': ['RSA_2048', 'ECC_NIST_P256'],
        });
        // Tags come after CreateKey, under the key policy: no unscoped kms:TagResource grant needed.
        expect(s.Condition?.Null).toEqual({ 'aws:TagKeys': 'true' });
        expect(json(s.Condition)).not.toContain('ForAllValues');
      }
    }
  });

  it('every function-role KMS Allow on key/* requires the cluster tag on the key and a SIGN_VERIFY key of an allowed spec', () => {
    for (const role of ['RotateRole', 'BootstrapRole']) {
      const docs = policies(kms.template).filter((p) => p.owner === role);
      const onKeys = docs
        .flatMap((p) => statements(p.doc))
        .filter((x) => json(x.Resource).includes(':key/*'));
      expect(onKeys.length, role).toBeGreaterThan(0);
      for (const s of onKeys.filter((x) => x.Effect === 'Allow')) {
        const equals = s.Condition?.StringEquals ?? {};
        const namespaced = equals['aws:ResourceTag/irsa-anywhere:cluster'] === 'test';
        const previousRelease =
          equals['aws:ResourceTag/cluster'] === 'test' &&
          equals['aws:ResourceTag/managed-by'] === 'irsa-anywhere';
        expect(namespaced || previousRelease, `${role}/${s.Sid}`).toBe(true);
        expect(equals['kms:KeyUsage']).toBe('SIGN_VERIFY');
        expect(equals['kms:KeySpec']).toEqual(['RSA_2048', 'ECC_NIST_P256']);
        // Only the repair of keys of the previous release may act on the bare tags, and it cannot tag or delete.
        if (previousRelease) expect(actions(s)).not.toEqual(expect.arrayContaining(['kms:TagResource']));
        if (previousRelease) expect(actions(s)).not.toContain('kms:ScheduleKeyDeletion');
      }
      // Tag changes can never move a key to another cluster or strip the cluster tag.
      const denies = onKeys.filter((x) => x.Effect === 'Deny');
      expect(denies.map((d) => d.Sid).sort(), role).toEqual(
        ['NeverStripTheClusterTag', 'NeverTagAKeyForAnotherCluster', 'OnlyTheNamespacedTags'].sort(),
      );
    }
  });

  it('every KMS permission on keys is scoped by the cluster tag (or the wrapping key and its context)', () => {
    for (const { owner, doc } of policies(file.template).concat(policies(kms.template))) {
      for (const s of statements(doc).filter((x) => actions(x).some((a) => a.startsWith('kms:')))) {
        if (actions(s).includes('kms:CreateKey')) continue;
        // kms:ListKeys lists ids only; what is done with a key found needs its policy or tag.
        if (s.Sid === 'FindKeysOfAbandonedIntents') continue;
        const condition = json(s.Condition);
        const scoped =
          condition.includes('"aws:ResourceTag/irsa-anywhere:cluster":"test"') ||
          condition.includes('"aws:ResourceTag/cluster":"test"') ||
          condition.includes('"aws:RequestTag/irsa-anywhere:cluster":"test"') ||
          condition.includes('"aws:TagKeys"') ||
          condition.includes('"kms:EncryptionContext:cluster":"test"');
        expect(scoped, `${owner}/${s.Sid}`).toBe(true);
      }
    }
  });

  it('S3 permissions name exact objects (or the keys/ prefix in file mode), never a whole bucket', () => {
    for (const { owner, doc } of policies(kms.template)) {
      for (const s of statements(doc).filter((x) => actions(x).some((a) => a.startsWith('s3:')))) {
        const resources = json(s.Resource);
        if (actions(s).every((a) => a === 's3:ListBucket')) continue; // bucket-level, so a missing object is a 404
        expect(resources, `${owner}/${s.Sid}`).not.toMatch(/Arn}\/\*"/);
        expect(resources).toMatch(/keyset\.json|openid-configuration|openid\/v1\/jwks|\/keys\/\*/);
      }
    }
  });

  it('node policy: only principals tagged for the cluster; kms mode signs with cluster-tagged keys, file mode decrypts with the cluster context', () => {
    const node = statements(resource(kms.template, 'NodePolicy').Properties.PolicyDocument);
    const byAction = (a: string) => node.find((s) => actions(s).includes(a));
    expect(byAction('kms:Sign')?.Condition).toEqual({
      StringEquals: {
        'aws:ResourceTag/irsa-anywhere:cluster': 'test',
        'aws:PrincipalTag/irsa-anywhere:cluster': 'test',
        'kms:KeyUsage': 'SIGN_VERIFY',
      },
    });
    for (const s of node.filter((x) => actions(x).some((a) => a.startsWith('kms:')))) {
      expect(s.Condition?.StringEquals?.['aws:PrincipalTag/irsa-anywhere:cluster'], s.Sid).toBe('test');
    }
    expect(byAction('kms:Decrypt')?.Condition).toEqual({
      StringEquals: {
        'kms:EncryptionContext:cluster': 'test',
        'aws:PrincipalTag/irsa-anywhere:cluster': 'test',
      },
      Null: { 'kms:EncryptionContext:kid': 'false' },
    });
    expect(byAction('kms:Decrypt')?.Resource).toEqual({ 'Fn::GetAtt': ['WrappingKey', 'Arn'] });
    expect(json(byAction('s3:GetObject')?.Resource)).toContain('keyset.json');
  });

  it('no key policy (template or adapter) grants Sign, Decrypt or kms:* to the root or to * without the node condition', () => {
    const authority = keyAuthority('test', [
      'arn:aws:iam::111122223333:role/rotate',
      'arn:aws:iam::111122223333:role/bootstrap',
    ]);
    if (authority === undefined) throw new Error('no authority');
    const keyPolicies: Array<[string, unknown]> = [
      ['WrappingKey', resource(file.template, 'WrappingKey').Properties.KeyPolicy],
      ['signing key (adapter)', signingKeyPolicy(authority)],
    ];
    for (const [name, doc] of keyPolicies) {
      for (const s of statements(doc).filter((x) => x.Effect === 'Allow')) {
        const principal = json(s.Principal);
        const broad = principal === '"*"' || principal.includes(':root');
        const uses = actions(s).some(
          (a) => a === 'kms:*' || a === 'kms:Sign' || a === 'kms:Decrypt' || a === '*',
        );
        if (!broad || !uses) continue;
        expect(actions(s), `${name}/${s.Sid}`).not.toContain('kms:*');
        expect(
          s.Condition?.StringEquals?.['aws:PrincipalTag/irsa-anywhere:cluster'],
          `${name}/${s.Sid}`,
        ).toBe('test');
      }
    }
  });

  it('the wrapping key policy: no kms:*, Encrypt only for the two function roles, Decrypt only with the cluster context', () => {
    const key = resource(file.template, 'WrappingKey').Properties;
    const all = statements(key.KeyPolicy);
    for (const s of all) for (const a of actions(s)) expect(a).not.toMatch(/\*/);
    const encrypt = all.find((s) => actions(s).includes('kms:Encrypt'));
    expect(encrypt?.Principal).toEqual({
      AWS: [{ 'Fn::GetAtt': ['RotateRole', 'Arn'] }, { 'Fn::GetAtt': ['BootstrapRole', 'Arn'] }],
    });
    const decrypt = all.find((s) => actions(s).includes('kms:Decrypt'));
    expect(decrypt?.Condition).toEqual({
      StringEquals: {
        'kms:EncryptionContext:cluster': 'test',
        'aws:PrincipalTag/irsa-anywhere:cluster': 'test',
      },
      Null: { 'kms:EncryptionContext:kid': 'false' },
      'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': ['cluster', 'kid'] },
    });
    expect(
      all.filter((s) => actions(s).some((a) => a === 'kms:Decrypt' || a === 'kms:Encrypt')),
    ).toHaveLength(2);
    expect(key.EnableKeyRotation).toBe(true);
  });
});

describe('alarms and outputs', () => {
  it('alarms on rotate errors and on an active key older than the period plus grace', () => {
    const errors = resource(kms.template, 'RotateErrorsAlarm').Properties;
    expect(errors).toMatchObject({ Namespace: 'AWS/Lambda', MetricName: 'Errors', Threshold: 1 });
    expect(errors.Dimensions).toEqual([{ Name: 'FunctionName', Value: { Ref: 'RotateLambdaFunction' } }]);
    const age = resource(kms.template, 'ActiveKeyTooOldAlarm').Properties;
    const metrics = age.Metrics as Array<Record<string, unknown>>;
    // The alarm reads exactly the metric the rotate handler emits.
    expect(metrics[0]?.MetricStat).toMatchObject({
      Metric: {
        Namespace: METRICS_NAMESPACE,
        MetricName: METRIC_ACTIVE_KEY_AGE,
        Dimensions: [
          { Name: 'cluster', Value: 'test' },
          { Name: 'service', Value: ROTATE_SERVICE },
        ],
      },
    });
    expect(metrics[1]?.Expression).toBe('age / 86400 - 7');
    expect(age.Threshold).toBe(1);
    expect(json(resource(file.template, 'RotateErrorsAlarm').Properties.AlarmActions)).toContain(
      'AlarmTopicArn',
    );
  });

  it('outputs what the CLI and the nodes need', () => {
    expect(Object.keys(kms.template.Outputs)).toEqual(
      expect.arrayContaining([
        'IssuerUrl',
        'JwksUri',
        'OidcProviderArn',
        'StateBucketName',
        'PublicBucketName',
        'NodePolicyArn',
        'RotateFunctionName',
      ]),
    );
    expect(kms.template.Outputs.IssuerUrl?.Value).toEqual(ISSUER);
  });
});

const HAVE_CFN_LINT = spawnSync('sh', ['-c', 'command -v cfn-lint']).status === 0;
if (!HAVE_CFN_LINT)
  console.warn('SKIPPED: cfn-lint is not installed (pip install cfn-lint); template lint not run.');

describe.skipIf(!HAVE_CFN_LINT)('cfn-lint', () => {
  it('is clean on both variants', () => {
    const out = spawnSync('cfn-lint', [kms.templatePath, file.templatePath], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(out.stdout + out.stderr).toBe('');
    expect(out.status).toBe(0);
  }, 130_000);
});
