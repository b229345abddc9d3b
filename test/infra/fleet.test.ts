/**
 * The fleet stack (serverless.fleet.yml) and a member stack (`--param fleet=<fleet stack>`),
 * packaged offline: one distribution for the fleet, none in a member; the member's issuer is the
 * fleet domain plus its cluster path everywhere it appears; the fleet bucket policy confines each
 * member's function roles to their own prefix; cfn-lint is clean on every variant.
 */
import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { actions, type Packaged, packageStack, statements } from './packaging.ts';

/** A CloudFormation `${...}` string, written with `#{...}` so it is not mistaken for a JS template. */
const cfn = (text: string) => text.replaceAll('#{', '${');
const FLEET = 'irsa-anywhere-fleet-prod';
let fleet: Packaged;
let member: Packaged;
let migrating: Packaged;

beforeAll(() => {
  fleet = packageStack({}, 'serverless.fleet.yml');
  member = packageStack({ fleet: FLEET });
  migrating = packageStack({ fleet: FLEET, keepStandaloneIssuer: 'true' });
}, 900_000);

const MEMBER_ISSUER = {
  'Fn::Sub': [
    cfn('https://#{Host}/test'),
    { Host: { 'Fn::ImportValue': { 'Fn::Sub': cfn('#{Fleet}-IssuerHost') } } },
  ],
};

/** The value of `Fn::If: [condition, yes, no]` on the side the condition takes. */
function branch(value: unknown, condition: string, take: 'yes' | 'no'): unknown {
  const args = (value as { 'Fn::If': [string, unknown, unknown] })['Fn::If'];
  expect(args[0]).toBe(condition);
  return take === 'yes' ? args[1] : args[2];
}

describe('fleet stack', () => {
  it('holds the bucket, one distribution (https only, OAC to the regional bucket domain) and exports', () => {
    const { Resources, Outputs } = fleet.template;
    const types = Object.values(Resources).map((r) => r.Type);
    expect(types.filter((t) => t === 'AWS::CloudFront::Distribution')).toHaveLength(1);
    expect(types).not.toContain('AWS::Lambda::Function');
    const bucket = Resources.FleetBucket?.Properties as Record<string, unknown>;
    expect(bucket.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    type Config = {
      DefaultCacheBehavior: { ViewerProtocolPolicy: string };
      Origins: Array<{ DomainName: unknown; OriginAccessControlId: unknown }>;
    };
    const config = (Resources.Distribution as unknown as { Properties: { DistributionConfig: Config } })
      .Properties.DistributionConfig;
    expect(config.DefaultCacheBehavior.ViewerProtocolPolicy).toBe('https-only');
    expect(config.Origins[0]?.DomainName).toEqual({ 'Fn::GetAtt': ['FleetBucket', 'RegionalDomainName'] });
    expect(config.Origins[0]?.OriginAccessControlId).toEqual({ 'Fn::GetAtt': ['OriginAccessControl', 'Id'] });
    const exports = Object.values(Outputs).map((o) => (o as { Export?: { Name: unknown } }).Export?.Name);
    expect(exports).toContainEqual({ 'Fn::Sub': cfn('#{AWS::StackName}-IssuerHost') });
    expect(exports).toContainEqual({ 'Fn::Sub': cfn('#{AWS::StackName}-Bucket') });
    expect(exports).toContainEqual({ 'Fn::Sub': cfn('#{AWS::StackName}-BucketArn') });
  });

  it('lets CloudFront read only the two documents of each prefix, and denies writes outside the caller prefix', () => {
    const policy = fleet.template.Resources.FleetBucketPolicy?.Properties.PolicyDocument;
    const all = statements(policy);
    const read = all.find((s) => s.Sid === 'CloudFrontReadsThePublishedDocumentsOnly');
    expect(actions(read!)).toEqual(['s3:GetObject']);
    expect(read?.Resource).toEqual([
      { 'Fn::Sub': cfn('#{FleetBucket.Arn}/*/.well-known/openid-configuration') },
      { 'Fn::Sub': cfn('#{FleetBucket.Arn}/*/openid/v1/jwks') },
    ]);
    const denies = all.filter((s) => s.Effect === 'Deny').map((s) => s.Sid);
    expect(denies).toEqual([
      'DenyInsecureTransport',
      'DenyObjectWritesToAllButThisFleetsMemberFunctions',
      'DenyObjectWritesFromNonFunctionPrincipals',
      'DenyObjectWritesWithoutAClusterTag',
      'DenyObjectWritesOutsideTheCallersOwnClusterPrefix',
    ]);
    const prefix = all.find(
      (s) => s.Sid === 'DenyObjectWritesOutsideTheCallersOwnClusterPrefix',
    ) as unknown as {
      NotResource: unknown;
    };
    expect(prefix.NotResource).toEqual({
      'Fn::Sub': cfn('#{FleetBucket.Arn}/#{!aws:PrincipalTag/irsa-anywhere:cluster}/*'),
    });
    // Bucket-level actions are never denied: the account can still change the bucket policy.
    for (const s of all.filter((s) => s.Sid !== 'DenyInsecureTransport' && s.Effect === 'Deny')) {
      expect(actions(s).every((a) => a.startsWith('s3:') && !/Bucket/.test(a))).toBe(true);
    }
  });
});

describe('member stack', () => {
  it('creates no distribution, public bucket or OAC of its own', () => {
    const { Resources, Conditions } = member.template;
    for (const name of ['Distribution', 'PublicBucket', 'PublicBucketPolicy', 'PublicOriginAccessControl']) {
      expect(Resources[name]?.Condition).toBe('HasStandaloneIssuer');
    }
    expect(Conditions.HasStandaloneIssuer).toEqual({
      'Fn::Or': [{ 'Fn::Not': [{ Condition: 'IsFleetMember' }] }, { Condition: 'KeepsStandaloneIssuer' }],
    });
    expect(member.template.Parameters.Fleet?.Default).toBe(FLEET);
    expect(member.template.Parameters.KeepStandaloneIssuer?.Default).toBe('false');
  });

  it('uses https://<fleet domain>/<cluster> as its issuer everywhere: functions, bootstrap, OIDC provider, outputs', () => {
    const { Resources, Outputs } = member.template;
    const env = (
      Resources.RotateLambdaFunction as unknown as {
        Properties: { Environment: { Variables: Record<string, unknown> } };
      }
    ).Properties.Environment.Variables;
    expect(branch(env.ISSUER_URL, 'IsFleetMember', 'yes')).toEqual(MEMBER_ISSUER);
    expect(branch(env.PUBLIC_BUCKET, 'IsFleetMember', 'yes')).toEqual({
      'Fn::ImportValue': { 'Fn::Sub': cfn('#{Fleet}-Bucket') },
    });
    expect(branch(Resources.BootstrapResource?.Properties.Issuer, 'IsFleetMember', 'yes')).toEqual(
      MEMBER_ISSUER,
    );
    expect(Resources.FleetOidcProvider?.Condition).toBe('IsFleetMember');
    expect(Resources.FleetOidcProvider?.Properties.Url).toEqual(MEMBER_ISSUER);
    expect(branch(Outputs.IssuerUrl?.Value, 'IsFleetMember', 'yes')).toEqual(MEMBER_ISSUER);
    expect(branch(Outputs.OidcProviderArn?.Value, 'IsFleetMember', 'yes')).toEqual({
      Ref: 'FleetOidcProvider',
    });
  });

  it('tags its function roles for the fleet bucket policy and may publish only under its own prefix', () => {
    const { Resources } = member.template;
    for (const [role, fn] of [
      ['RotateRole', 'rotate'],
      ['BootstrapRole', 'bootstrap'],
    ] as const) {
      const tags = Resources[role]?.Properties.Tags as unknown[];
      expect(tags).toContainEqual({ Key: 'irsa-anywhere:cluster', Value: 'test' });
      expect(tags).toContainEqual({ Key: 'irsa-anywhere:function', Value: fn });
      expect(tags).toContainEqual({
        'Fn::If': [
          'IsFleetMember',
          { Key: 'irsa-anywhere:fleet', Value: { Ref: 'Fleet' } },
          { Ref: 'AWS::NoValue' },
        ],
      });
    }
    const policies = Resources.RotateRole?.Properties.Policies as Array<{ PolicyDocument: unknown }>;
    const publish = policies
      .filter((p) => 'PolicyDocument' in p) // skip the conditional invalidation policy (Fn::If)
      .flatMap((p) => statements(p.PolicyDocument))
      .find((s) => s.Sid === 'PublishDocuments');
    const fleetSide = branch(publish?.Resource, 'IsFleetMember', 'yes') as Array<{
      'Fn::Sub': [string, unknown];
    }>;
    expect(fleetSide.map((r) => r['Fn::Sub'][0])).toEqual([
      cfn('#{Bucket}/test/.well-known/openid-configuration'),
      cfn('#{Bucket}/test/openid/v1/jwks'),
    ]);
  });

  it('keeps the standalone issuer and its OIDC provider while migrating (keepStandaloneIssuer=true)', () => {
    const { Resources, Outputs } = migrating.template;
    expect(Resources.OidcProvider?.Condition).toBe('HasStandaloneIssuer');
    expect(Resources.FleetOidcProvider?.Condition).toBe('IsFleetMember');
    expect(Outputs.StandaloneIssuerUrl?.Condition).toBe('KeepsStandaloneIssuer');
    expect(migrating.template.Parameters.KeepStandaloneIssuer?.Default).toBe('true');
    // The standalone provider's URL is the same expression as before, so joining a fleet never
    // replaces (deletes) the provider that old tokens need.
    expect(Resources.OidcProvider?.Properties.Url).toEqual({
      'Fn::If': [
        'HasCustomDomain',
        { 'Fn::Sub': cfn('https://#{CustomDomain}#{PathPrefix}') },
        { 'Fn::Sub': cfn('https://#{Distribution.DomainName}#{PathPrefix}') },
      ],
    });
  });
});

const HAVE_CFN_LINT = spawnSync('sh', ['-c', 'command -v cfn-lint']).status === 0;
if (!HAVE_CFN_LINT)
  console.warn('SKIPPED: cfn-lint is not installed (pip install cfn-lint); fleet templates not linted.');

describe.skipIf(!HAVE_CFN_LINT)('cfn-lint on the fleet, member and migrating templates', () => {
  it('reports nothing', () => {
    const out = spawnSync('cfn-lint', [fleet.templatePath, member.templatePath, migrating.templatePath], {
      encoding: 'utf8',
    });
    expect(`${out.stdout}${out.stderr}`).toBe('');
    expect(out.status).toBe(0);
  }, 180_000); // three templates; cfn-lint alone takes 25–40 s on a loaded 2-core machine
});
