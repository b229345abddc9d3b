/**
 * Attack suite, fleet (issue 18, following issue 11's model): many clusters publish into one
 * fleet bucket, and none may publish, overwrite or delete another's documents. The fleet bucket
 * policy (infra/fleet/bucket.yml) and the member roles (infra/iam.yml with `fleet` set) are read
 * from the templates and evaluated with the IAM approximation in iam-eval.ts, which was never run
 * against real AWS (see its header for what it models).
 */
import { describe, expect, it } from 'vitest';
import { evaluateS3, type PolicyDocument, type Request, type Verdict } from './iam-eval.ts';
import {
  ACCOUNT,
  FLEET_BUCKET,
  FLEET_FILES,
  FLEET_STACK,
  loadTemplate,
  policyOf,
  properties,
  rolePolicies,
} from './template.ts';

const FLEET = loadTemplate({}, { files: FLEET_FILES, stackName: FLEET_STACK });
const BUCKET_POLICY = policyOf(FLEET, 'FleetBucketPolicy', 'PolicyDocument');
const WRITES = [
  's3:PutObject',
  's3:DeleteObject',
  's3:DeleteObjectVersion',
  's3:PutObjectAcl',
  's3:PutObjectTagging',
  's3:DeleteObjectTagging',
];

/** A member cluster's rotate role: its tags and inline policies, from the member template. */
function memberRotateRole(cluster: string) {
  const template = loadTemplate({ clusterName: cluster, fleet: FLEET_STACK });
  const tags = properties(template, 'RotateRole').Tags as Array<{ Key: string; Value: string }>;
  return {
    arn: `arn:aws:iam::${ACCOUNT}:role/irsa-anywhere-${cluster}-RotateRole-1A2B3C`,
    tags: Object.fromEntries(tags.map((t) => [t.Key, t.Value])),
    identity: rolePolicies(template, 'RotateRole'),
  };
}

const S3_STAR: PolicyDocument[] = [
  { Statement: [{ Sid: 'S3Star', Effect: 'Allow', Action: 's3:*', Resource: '*' }] },
];

function write(
  who: { arn: string; tags?: Record<string, string>; identity: readonly PolicyDocument[] },
  action: string,
  key: string,
): Verdict {
  const request: Request = {
    principalArn: who.arn,
    action,
    resource: `arn:aws:s3:::${FLEET_BUCKET}/${key}`,
    context: { 'aws:SecureTransport': 'true' },
  };
  if (who.tags !== undefined) request.principalTags = who.tags;
  return evaluateS3(BUCKET_POLICY, who.identity, request);
}

const denied = (verdict: Verdict, what: string) =>
  expect(verdict.allowed, `${what}: ${verdict.reason}`).toBe(false);
const allowed = (verdict: Verdict, what: string) =>
  expect(verdict.allowed, `${what}: ${verdict.reason}`).toBe(true);

describe('fleet attack: one member cannot publish or delete another member’s documents', () => {
  const c1 = memberRotateRole('c1');
  const c2 = memberRotateRole('c2');

  it('the member roles carry the tags the fleet bucket policy checks', () => {
    expect(c2.tags).toEqual({
      'irsa-anywhere:cluster': 'c2',
      'irsa-anywhere:function': 'rotate',
      'irsa-anywhere:fleet': FLEET_STACK,
    });
  });

  it("c2's rotate role cannot write, delete, re-ACL or retag c1's JWKS or discovery document", () => {
    for (const key of ['c1/openid/v1/jwks', 'c1/.well-known/openid-configuration']) {
      for (const action of WRITES) denied(write(c2, action, key), `c2 ${action} ${key}`);
    }
  });

  it("even with s3:* in its own IAM policy, c2's role is confined to c2/ by the bucket policy", () => {
    const broadened = { ...c2, identity: [...c2.identity, ...S3_STAR] };
    for (const action of WRITES) {
      denied(write(broadened, action, 'c1/openid/v1/jwks'), `broadened c2 ${action} c1`);
      denied(write(broadened, action, 'openid/v1/jwks'), `broadened c2 ${action} at the bucket root`);
    }
    allowed(write(broadened, 's3:PutObject', 'c2/openid/v1/jwks'), 'broadened c2 writes its own prefix');
  });

  it('a principal with s3:* but without the member tags writes nothing, anywhere', () => {
    const powerUser = { arn: `arn:aws:iam::${ACCOUNT}:role/PowerUser`, identity: S3_STAR };
    const nodeOfC1 = { ...powerUser, tags: { 'irsa-anywhere:cluster': 'c1' } };
    // A node role someone tagged with the fleet too: not a function role.
    const taggedNode = {
      ...powerUser,
      tags: { 'irsa-anywhere:cluster': 'c1', 'irsa-anywhere:fleet': FLEET_STACK },
    };
    // Fleet and function tags but no cluster: the prefix rule's variable cannot resolve (AWS may then
    // ignore that statement), so the Null deny must catch it.
    const noCluster = {
      ...powerUser,
      tags: { 'irsa-anywhere:function': 'rotate', 'irsa-anywhere:fleet': FLEET_STACK },
    };
    const otherFleet = {
      ...powerUser,
      tags: {
        'irsa-anywhere:cluster': 'c1',
        'irsa-anywhere:function': 'rotate',
        'irsa-anywhere:fleet': 'another',
      },
    };
    for (const who of [powerUser, nodeOfC1, taggedNode, noCluster, otherFleet] as Array<{
      arn: string;
      tags?: Record<string, string>;
      identity: PolicyDocument[];
    }>) {
      for (const action of WRITES)
        denied(write(who, action, 'c1/openid/v1/jwks'), `${JSON.stringify(who.tags)} ${action}`);
    }
  });

  it('control: each member publishes its own two documents', () => {
    for (const [who, cluster] of [
      [c1, 'c1'],
      [c2, 'c2'],
    ] as const) {
      for (const doc of ['openid/v1/jwks', '.well-known/openid-configuration']) {
        allowed(write(who, 's3:PutObject', `${cluster}/${doc}`), `${cluster} publishes ${doc}`);
      }
    }
  });

  it('the account can still change the fleet bucket policy', () => {
    const admin = { arn: `arn:aws:iam::${ACCOUNT}:role/Admin`, identity: S3_STAR };
    const verdict = evaluateS3(BUCKET_POLICY, admin.identity, {
      principalArn: admin.arn,
      action: 's3:PutBucketPolicy',
      resource: `arn:aws:s3:::${FLEET_BUCKET}`,
      context: { 'aws:SecureTransport': 'true' },
    });
    allowed(verdict, 'PutBucketPolicy');
  });

  it('members get no CloudFront invalidation (it cannot be scoped to a prefix)', () => {
    const actions = c2.identity.flatMap((doc) => doc.Statement.flatMap((s) => [s.Action].flat()));
    expect(actions.filter((a) => a.startsWith('cloudfront:'))).toEqual([]);
  });
});
