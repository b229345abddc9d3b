/**
 * The attack suite of issue 11 (part A): each test plays one attack a security reviewer found at
 * the release before this one, and asserts that it fails AND that nothing changed. IAM decisions
 * come from iam-eval.ts, an APPROXIMATION of IAM evaluation applied to the real policies (the
 * template in infra/*.yml and the key policies the adapter writes); AWS itself was not asked.
 * The S3/KMS state lives in the stateful fake (test/support/aws-fakes.ts); attacks-moto.test.ts
 * repeats the KMS checks on the policies moto stores.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { CreateKeyCommand, GetKeyPolicyCommand, ListResourceTagsCommand } from '@aws-sdk/client-kms';
import { CreateBucketCommand, GetBucketPolicyCommand, PutBucketPolicyCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AwsClients, composeAws, composeRotation, createAwsClients } from '#adapters/compose.ts';
import { parseConfig } from '#core/config.ts';
import { parseKeyset } from '#core/keyset-parse.ts';
import { runRotation } from '#core/rotation-run.ts';
import { type CustomResourceEvent, makeHandler } from '../../functions/bootstrap/app.ts';
import { type Moto, motoAvailable, startMoto } from '../functions/rotate/moto-server.ts';
import { DEFAULT_KEY_POLICY, FakeAws, type FakeKmsKey } from '../support/aws-fakes.ts';
import { lambdaContext } from '../support/lambda-context.ts';
import { evaluateKms, evaluateS3, type PolicyDocument, type Request, type Verdict } from './iam-eval.ts';
import { ACCOUNT, loadTemplate, policyOf, REGION, roleArn, rolePolicies } from './template.ts';

const KMS = loadTemplate();
const FILE = loadTemplate({ keyMode: 'file' });
const STACK_ID = `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/irsa-anywhere-test/0a1b2c3d`;
const STATE = 'irsa-anywhere-test-statebucket';
const PUBLIC = 'irsa-anywhere-test-publicbucket';
const ENV = {
  CLUSTER_NAME: 'test',
  ISSUER_URL: 'https://d111111abcdef8.cloudfront.net',
  STATE_BUCKET: STATE,
  PUBLIC_BUCKET: PUBLIC,
  KEY_SPEC: 'ECC_NIST_P256',
  ROTATE_ROLE_ARN: roleArn('RotateRole'),
  BOOTSTRAP_ROLE_ARN: roleArn('BootstrapRole'),
  STACK_ID,
};
const NOW = () => new Date('2026-03-01T00:00:00Z');

/** Someone with PowerUser-style rights: kms:* and s3:* in IAM, nothing else special. */
const POWER_USER = {
  arn: `arn:aws:iam::${ACCOUNT}:role/power-user`,
  tags: {},
  identity: [
    { Statement: [{ Sid: 'PowerUser', Effect: 'Allow' as const, Action: ['kms:*', 's3:*'], Resource: '*' }] },
  ],
};

/** A control-plane node of this cluster: tagged as the deploy steps say, with the node policy. */
function node(template = KMS) {
  return {
    arn: `arn:aws:iam::${ACCOUNT}:role/control-plane`,
    tags: { 'irsa-anywhere:cluster': 'test' },
    identity: [policyOf(template, 'NodePolicy', 'PolicyDocument')],
  };
}

function rotateRole(template = KMS) {
  return { arn: roleArn('RotateRole'), tags: {}, identity: rolePolicies(template, 'RotateRole') };
}

type Principal = ReturnType<typeof rotateRole>;

const keyArn = (keyId: string) => `arn:aws:kms:${REGION}:${ACCOUNT}:key/${keyId}`;

function keyPolicy(key: FakeKmsKey): PolicyDocument {
  return JSON.parse(key.policy ?? JSON.stringify(DEFAULT_KEY_POLICY)) as PolicyDocument;
}

function kmsRequest(
  who: Principal,
  action: string,
  keyId: string,
  key: FakeKmsKey,
  extra: Partial<Request> = {},
): Request {
  return {
    principalArn: who.arn,
    principalTags: who.tags,
    action,
    resource: keyArn(keyId),
    resourceTags: key.tags,
    ...extra,
    context: {
      'kms:KeySpec': key.spec,
      'kms:KeyUsage': key.spec === 'SYMMETRIC_DEFAULT' ? 'ENCRYPT_DECRYPT' : 'SIGN_VERIFY',
      'kms:KeyOrigin': 'AWS_KMS',
      ...(extra.context ?? {}),
    },
  };
}

/** Tries a KMS call as `who` against the fake; applies its effect only when IAM would allow it. */
function attempt(aws: FakeAws, who: Principal, action: string, keyId: string, extra: Partial<Request> = {}) {
  const key = aws.state.keys.get(keyId);
  if (key === undefined) throw new Error(`no key ${keyId}`);
  const verdict = evaluateKms(keyPolicy(key), who.identity, kmsRequest(who, action, keyId, key, extra));
  if (verdict.allowed) {
    if (action === 'kms:TagResource') Object.assign(key.tags, extra.requestTags);
    if (action === 'kms:ScheduleKeyDeletion') key.state = 'PendingDeletion';
  }
  return verdict;
}

async function bootstrapped(env: Record<string, string> = ENV) {
  const aws = new FakeAws();
  const config = parseConfig(env);
  await runRotation({ ...composeRotation(config, aws.process()), clock: NOW });
  const keyset = parseKeyset(aws.text(config.stateBucket, 'keyset.json') ?? '');
  const location = keyset.keys[0]?.location;
  if (location?.type !== 'kms') throw new Error('expected a kms key');
  return { aws, keyId: location.keyId };
}

const denied = (verdict: Verdict, what: string) =>
  expect(verdict.allowed, `${what}: ${verdict.reason}`).toBe(false);
const allowed = (verdict: Verdict, what: string) =>
  expect(verdict.allowed, `${what}: ${verdict.reason}`).toBe(true);

describe('attack 1: signing needs more than broad IAM rights', () => {
  it('kms mode: a principal whose IAM allows kms:* cannot Sign or read the key policy into its favour; nodes can', async () => {
    const { aws, keyId } = await bootstrapped();
    const before = structuredClone(aws.state.keys.get(keyId)?.tags);
    denied(attempt(aws, POWER_USER, 'kms:Sign', keyId), 'power user Sign');
    denied(attempt(aws, POWER_USER, 'kms:ScheduleKeyDeletion', keyId), 'power user ScheduleKeyDeletion');
    denied(attempt(aws, POWER_USER, 'kms:TagResource', keyId, { requestTags: { x: 'y' } }), 'power user tag');
    // The node policy alone is not enough either: the node role must carry the cluster tag.
    denied(
      attempt(aws, { ...node(), tags: {} }, 'kms:Sign', keyId),
      'untagged principal with the node policy',
    );
    allowed(attempt(aws, node(), 'kms:Sign', keyId), 'control-plane node Sign');
    expect(aws.state.keys.get(keyId)?.tags).toEqual(before);
    expect(aws.state.keys.get(keyId)?.state).toBe('Enabled');
  });

  it('file mode: knowing the cluster name does not let a principal Decrypt a wrapped key; nodes can', () => {
    const policy = policyOf(FILE, 'WrappingKey', 'KeyPolicy');
    const decrypt = (who: Principal) =>
      evaluateKms(policy, who.identity, {
        principalArn: who.arn,
        principalTags: who.tags,
        action: 'kms:Decrypt',
        resource: keyArn('wrapping-key-id'),
        context: {
          'kms:EncryptionContext:cluster': 'test',
          'kms:EncryptionContext:kid': 'the-kid',
          'kms:EncryptionContextKeys': ['cluster', 'kid'],
        },
      });
    denied(decrypt(POWER_USER), 'power user Decrypt with the cluster context');
    denied(decrypt({ ...node(FILE), tags: {} }), 'untagged principal with the node policy');
    allowed(decrypt(node(FILE)), 'control-plane node Decrypt');
  });
});

describe('attack 2: the function roles cannot retag, move or destroy keys that are not theirs', () => {
  const OUR_TAGS: Array<Record<string, string>> = [
    { cluster: 'test', 'managed-by': 'irsa-anywhere' },
    { 'irsa-anywhere:cluster': 'test', 'irsa-anywhere:managed-by': 'irsa-anywhere' },
  ];

  it('retag-then-destroy: an unrelated signing key keeps its tags and is not scheduled for deletion', () => {
    const aws = new FakeAws();
    const foreign = aws.addSigningKey({ spec: 'RSA_2048', tags: { team: 'payments' } });
    for (const tags of OUR_TAGS) {
      for (const who of [rotateRole(), { ...rotateRole(), arn: roleArn('BootstrapRole') }]) {
        const tag = attempt(aws, who, 'kms:TagResource', foreign, { requestTags: tags });
        const destroy = attempt(aws, who, 'kms:ScheduleKeyDeletion', foreign);
        denied(tag, `tag ${JSON.stringify(tags)}`);
        denied(destroy, 'ScheduleKeyDeletion after the retag');
      }
    }
    expect(aws.state.keys.get(foreign)?.tags).toEqual({ team: 'payments' });
    expect(aws.state.keys.get(foreign)?.state).toBe('Enabled');
  });

  it("move-key: cluster other's key cannot be retagged into this cluster, nor signed with by this cluster's nodes", async () => {
    const other = await bootstrapped({
      ...ENV,
      CLUSTER_NAME: 'other',
      ROTATE_ROLE_ARN: `arn:aws:iam::${ACCOUNT}:role/other-rotate`,
      BOOTSTRAP_ROLE_ARN: `arn:aws:iam::${ACCOUNT}:role/other-bootstrap`,
    });
    // An "other" key of the previous release too: default key policy, bare tags.
    const legacy = other.aws.addSigningKey({ tags: { cluster: 'other', 'managed-by': 'irsa-anywhere' } });
    for (const keyId of [other.keyId, legacy]) {
      const before = structuredClone(other.aws.state.keys.get(keyId)?.tags);
      for (const tags of OUR_TAGS) {
        denied(attempt(other.aws, rotateRole(), 'kms:TagResource', keyId, { requestTags: tags }), 'retag');
        denied(
          attempt(other.aws, rotateRole(), 'kms:UntagResource', keyId, {
            context: { 'aws:TagKeys': Object.keys(before ?? {}) },
          }),
          'untag',
        );
      }
      denied(attempt(other.aws, node(), 'kms:Sign', keyId), "this cluster's node signs with other's key");
      expect(other.aws.state.keys.get(keyId)?.tags).toEqual(before);
    }
  });

  it('another team\'s key that happens to carry a bare "cluster" tag is neither signable by our nodes nor destroyable', () => {
    const aws = new FakeAws();
    const theirs = aws.addSigningKey({ tags: { cluster: 'test', owner: 'data-team' } });
    denied(attempt(aws, node(), 'kms:Sign', theirs), 'node Sign');
    denied(attempt(aws, rotateRole(), 'kms:ScheduleKeyDeletion', theirs), 'rotate role ScheduleKeyDeletion');
    denied(attempt(aws, rotateRole(), 'kms:PutKeyPolicy', theirs), 'rotate role PutKeyPolicy');
    expect(aws.state.keys.get(theirs)?.state).toBe('Enabled');
  });
});

describe('attack 3: only the function roles write the buckets', () => {
  const WRITES = [
    's3:PutObject',
    's3:DeleteObject',
    's3:DeleteObjectVersion',
    's3:PutObjectAcl',
    's3:PutObjectVersionAcl',
    's3:PutObjectTagging',
    's3:DeleteObjectTagging',
  ];
  const TARGETS: Array<[string, string, string]> = [
    ['PublicBucketPolicy', PUBLIC, 'openid/v1/jwks'],
    ['PublicBucketPolicy', PUBLIC, '.well-known/openid-configuration'],
    ['StateBucketPolicy', STATE, 'keyset.json'],
    ['StateBucketPolicy', STATE, 'keys/abc.wrapped'],
  ];

  it('a principal with s3:* in IAM cannot overwrite, delete or re-ACL the JWKS or keyset.json', () => {
    const aws = new FakeAws();
    const jwks = '{"keys":[{"kty":"EC","kid":"real"}]}';
    aws.putObject(PUBLIC, 'openid/v1/jwks', jwks);
    for (const [policyName, bucket, key] of TARGETS) {
      const policy = policyOf(KMS, policyName, 'PolicyDocument');
      for (const action of WRITES) {
        const verdict = evaluateS3(policy, POWER_USER.identity, {
          principalArn: POWER_USER.arn,
          action,
          resource: `arn:aws:s3:::${bucket}/${key}`,
          context: { 'aws:SecureTransport': 'true' },
        });
        if (verdict.allowed && action === 's3:PutObject')
          aws.putObject(bucket, key, '{"keys":[{"kid":"attacker"}]}');
        denied(verdict, `${action} ${bucket}/${key}`);
      }
    }
    expect(aws.text(PUBLIC, 'openid/v1/jwks')).toBe(jwks);
    // The functions still write, and the account can still change the bucket policy.
    for (const who of [rotateRole(), { ...rotateRole(), arn: roleArn('BootstrapRole') }]) {
      allowed(
        evaluateS3(policyOf(KMS, 'PublicBucketPolicy', 'PolicyDocument'), rolePolicies(KMS, 'RotateRole'), {
          principalArn: who.arn,
          action: 's3:PutObject',
          resource: `arn:aws:s3:::${PUBLIC}/openid/v1/jwks`,
          context: { 'aws:SecureTransport': 'true' },
        }),
        `${who.arn} publishes`,
      );
    }
    allowed(
      evaluateS3(policyOf(KMS, 'StateBucketPolicy', 'PolicyDocument'), POWER_USER.identity, {
        principalArn: POWER_USER.arn,
        action: 's3:PutBucketPolicy',
        resource: `arn:aws:s3:::${STATE}`,
        context: { 'aws:SecureTransport': 'true' },
      }),
      'the account changes the bucket policy',
    );
  });

  it('the node policy stays read-only', () => {
    for (const template of [KMS, FILE]) {
      const doc = policyOf(template, 'NodePolicy', 'PolicyDocument');
      const s3Actions = doc.Statement.flatMap((s) => [s.Action].flat()).filter((a) => a.startsWith('s3:'));
      expect(s3Actions.every((a) => a === 's3:GetObject')).toBe(true);
    }
  });
});

describe('attack 6: a forged custom-resource event changes nothing', () => {
  const CFN_URL =
    'https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/arn%3Aaws/presigned?X-Amz-Signature=x';

  async function deployed(status = 'UPDATE_COMPLETE') {
    const aws = new FakeAws();
    const proc = aws.process();
    const config = parseConfig(ENV);
    const rotation = { ...composeRotation(config, proc), clock: NOW };
    const answers: string[] = [];
    const lookups: string[] = [];
    const handler = makeHandler({
      load: () => ({ rotation, store: rotation.store, keys: rotation.keys }),
      put: async (url) => {
        answers.push(url);
      },
      logger: new Logger({ serviceName: 'test', logLevel: 'SILENT' }),
      authenticity: {
        stackId: STACK_ID,
        stackStatus: async (id: string) => {
          lookups.push(id);
          return status;
        },
      },
    });
    await runRotation(rotation);
    const snapshot = JSON.stringify([...aws.state.keys].map(([id, k]) => [id, k.state, k.tags]));
    const objects = JSON.stringify([...aws.state.objects].map(([id, o]) => [id, o.etag]));
    proc.calls.length = 0;
    const unchanged = () => {
      expect(JSON.stringify([...aws.state.keys].map(([id, k]) => [id, k.state, k.tags]))).toBe(snapshot);
      expect(JSON.stringify([...aws.state.objects].map(([id, o]) => [id, o.etag]))).toBe(objects);
      expect(
        proc.calls.filter((c) => c.startsWith('kms:') || c === 's3:PutObject' || c === 's3:DeleteObject'),
      ).toEqual([]);
    };
    const invoke = (event: CustomResourceEvent) => handler(event, lambdaContext());
    return { aws, answers, lookups, unchanged, invoke };
  }

  const forged = (extra: Partial<CustomResourceEvent>): CustomResourceEvent => ({
    RequestType: 'Delete',
    ResponseURL: CFN_URL,
    StackId: STACK_ID,
    RequestId: 'forged',
    LogicalResourceId: 'BootstrapResource',
    PhysicalResourceId: 'irsa-anywhere-bootstrap-test',
    ...extra,
  });

  it('a direct Invoke with a Delete for another stack and an attacker URL: no key scheduled, nothing sent', async () => {
    const world = await deployed();
    await world.invoke(
      forged({
        StackId: `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/attacker/1`,
        ResponseURL: 'http://attacker.example/x',
      }),
    );
    world.unchanged();
    expect(world.answers).toEqual([]);
  });

  it('the right StackId but a response URL off CloudFormation (https, lookalike hosts): refused, nothing sent', async () => {
    for (const url of [
      'https://attacker.example/x',
      'http://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x',
      'https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com.attacker.example/x',
      'https://attacker.s3.amazonaws.com/cloudformation-custom-resource-response-useast1x/x',
    ]) {
      const world = await deployed('DELETE_IN_PROGRESS');
      await world.invoke(forged({ ResponseURL: url }));
      world.unchanged();
      expect(world.answers, url).toEqual([]);
    }
  });

  it('a well-formed Delete while the stack is not being deleted: no key scheduled', async () => {
    const world = await deployed('UPDATE_COMPLETE');
    await world.invoke(forged({}));
    world.unchanged();
    expect(world.lookups).toEqual([STACK_ID]);
    expect(world.answers.every((url) => url === CFN_URL)).toBe(true);
  });

  it('control: the genuine Delete during stack deletion schedules the keys', async () => {
    const world = await deployed('DELETE_IN_PROGRESS');
    await world.invoke(forged({ RequestId: 'genuine' }));
    expect([...world.aws.state.keys.values()].map((k) => k.state)).toEqual(['PendingDeletion']);
    expect(world.answers).toEqual([CFN_URL]);
  });
});

describe('upgrade: keys of the previous release are repaired in place without interrupting signing', () => {
  const LEGACY_ENV = { ...ENV, ROTATE_ROLE_ARN: '', BOOTSTRAP_ROLE_ARN: '' };

  it('old shape (default policy, bare cluster/kid tags) → key policy + namespaced tags; nodes sign throughout', async () => {
    // A key as the previous release left it: default key policy, tags cluster / managed-by / kid.
    const aws = new FakeAws();
    const config = parseConfig(ENV);
    const kid = 'k'.repeat(43);
    const keyId = aws.addSigningKey({ tags: { cluster: 'test', 'managed-by': 'irsa-anywhere', kid } });
    const record = {
      kid,
      alg: 'ES256' as const,
      keySpec: 'ECC_NIST_P256' as const,
      state: 'active' as const,
      publicKeySpki: '',
      location: { type: 'kms' as const, keyId },
      createdAt: '2026-01-01T00:00:00Z',
    };
    allowed(attempt(aws, node(), 'kms:Sign', keyId), 'node signs before the upgrade run');
    // The repair's first write happens under IAM alone (default policy): the template must allow it.
    allowed(
      attempt(aws, rotateRole(), 'kms:PutKeyPolicy', keyId),
      'rotate role puts the key policy on a legacy key',
    );

    const first = composeRotation(config, aws.process()).keys;
    const report = await first.reconcile?.([record]);
    expect(report?.repaired).toEqual([{ kid, changes: ['key-policy', 'tags'] }]);
    const key = aws.state.keys.get(keyId);
    expect(key?.tags).toMatchObject({
      'irsa-anywhere:cluster': 'test',
      'irsa-anywhere:kid': kid,
      cluster: 'test',
    });
    allowed(attempt(aws, node(), 'kms:Sign', keyId), 'node signs after the first run (both tag sets)');
    denied(attempt(aws, POWER_USER, 'kms:Sign', keyId), 'power user after the repair');
    // A later cold start removes the bare tags, once the namespaced ones are in effect.
    const later = await composeRotation(config, aws.process()).keys.reconcile?.([record]);
    expect(later?.repaired).toEqual([{ kid, changes: ['legacy-tags-removed'] }]);
    expect(aws.state.keys.get(keyId)?.tags).toEqual({
      'irsa-anywhere:cluster': 'test',
      'irsa-anywhere:managed-by': 'irsa-anywhere',
      'irsa-anywhere:kid': kid,
    });
    allowed(attempt(aws, node(), 'kms:Sign', keyId), 'node signs after the bare tags are gone');
    const steady = aws.process();
    expect((await composeRotation(config, steady).keys.reconcile?.([record]))?.repaired).toEqual([]);
    expect(steady.calls).toEqual(['kms:ListResourceTags', 'kms:GetKeyPolicy']);
  });

  it('without the role ARNs (the old variable set) the bundle still rotates; keys keep the default policy', async () => {
    const { aws, keyId } = await bootstrapped(LEGACY_ENV);
    expect(aws.state.keys.get(keyId)?.policy).toBeUndefined();
    expect(aws.state.keys.get(keyId)?.tags['irsa-anywhere:cluster']).toBe('test');
  });
});

const HAVE_MOTO = motoAvailable('the attack suite against moto_server (stored key and bucket policies)');

describe.skipIf(!HAVE_MOTO)('the same attacks on what moto stores (moto does not evaluate IAM)', () => {
  let moto: Moto;
  let clients: AwsClients;

  beforeAll(async () => {
    moto = await startMoto();
    clients = createAwsClients({ endpoint: moto.endpoint, region: REGION });
    for (const client of [clients.kms, clients.s3]) {
      client.config.credentials = async () => ({ accessKeyId: 'testing', secretAccessKey: 'testing' });
    }
  }, 60_000);
  afterAll(async () => {
    await moto?.stop();
  });

  async function stored(keyId: string) {
    const policy = await clients.kms.send(new GetKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default' }));
    const listed = await clients.kms.send(new ListResourceTagsCommand({ KeyId: keyId }));
    const tags = Object.fromEntries((listed.Tags ?? []).map((t) => [t.TagKey ?? '', t.TagValue ?? '']));
    const key: FakeKmsKey = { spec: 'ECC_NIST_P256', state: 'Enabled', tags, policy: policy.Policy ?? '' };
    return key;
  }

  function verdict(who: Principal, action: string, keyId: string, key: FakeKmsKey): Verdict {
    return evaluateKms(keyPolicy(key), who.identity, kmsRequest(who, action, keyId, key));
  }

  it('a key created by the adapter: its stored policy lets tagged nodes sign and nobody else', async () => {
    const keys = composeAws(parseConfig(ENV), clients).keys;
    const created = await keys.create('ECC_NIST_P256');
    if (created.location.type !== 'kms') throw new Error('expected a kms key');
    const keyId = created.location.keyId;
    await keys.label?.(created.location, 'kid-1');
    const key = await stored(keyId);
    expect(key.tags).toEqual({
      'irsa-anywhere:cluster': 'test',
      'irsa-anywhere:managed-by': 'irsa-anywhere',
      'irsa-anywhere:kid': 'kid-1',
    });
    denied(verdict(POWER_USER, 'kms:Sign', keyId, key), 'power user Sign (stored policy)');
    denied(verdict({ ...node(), tags: {} }, 'kms:Sign', keyId, key), 'untagged principal (stored policy)');
    denied(verdict(POWER_USER, 'kms:ScheduleKeyDeletion', keyId, key), 'power user ScheduleKeyDeletion');
    allowed(verdict(node(), 'kms:Sign', keyId, key), 'tagged node Sign (stored policy)');
  });

  it('a key of the previous release is repaired in place (stored policy and tags)', async () => {
    const created = await clients.kms.send(
      new CreateKeyCommand({
        KeySpec: 'ECC_NIST_P256',
        KeyUsage: 'SIGN_VERIFY',
        Tags: [
          { TagKey: 'cluster', TagValue: 'test' },
          { TagKey: 'managed-by', TagValue: 'irsa-anywhere' },
          { TagKey: 'kid', TagValue: 'old-kid' },
        ],
      }),
    );
    const keyId = created.KeyMetadata?.KeyId ?? '';
    // Before: moto's default policy (its own account's root may do kms:*), i.e. IAM decides.
    const before = keyPolicy(await stored(keyId));
    expect(before.Statement.some((st) => [st.Action].flat().includes('kms:*'))).toBe(true);
    const record = {
      kid: 'old-kid',
      alg: 'ES256' as const,
      keySpec: 'ECC_NIST_P256' as const,
      state: 'active' as const,
      publicKeySpki: '',
      location: { type: 'kms' as const, keyId },
      createdAt: '2026-01-01T00:00:00Z',
    };
    await composeAws(parseConfig(ENV), clients).keys.reconcile?.([record]);
    const after = await stored(keyId);
    expect(after.tags['irsa-anywhere:cluster']).toBe('test');
    denied(verdict(POWER_USER, 'kms:Sign', keyId, after), 'after: power user Sign');
    allowed(verdict(node(), 'kms:Sign', keyId, after), 'after: tagged node Sign');
  });

  it('the bucket policy as stored denies a power user writing the JWKS, and lets the rotate role', async () => {
    await clients.s3.send(new CreateBucketCommand({ Bucket: PUBLIC }));
    const policy = policyOf(KMS, 'PublicBucketPolicy', 'PolicyDocument');
    await clients.s3.send(new PutBucketPolicyCommand({ Bucket: PUBLIC, Policy: JSON.stringify(policy) }));
    const out = await clients.s3.send(new GetBucketPolicyCommand({ Bucket: PUBLIC }));
    const storedPolicy = JSON.parse(out.Policy ?? '{}') as PolicyDocument;
    const put = (who: Principal) =>
      evaluateS3(storedPolicy, who.identity, {
        principalArn: who.arn,
        action: 's3:PutObject',
        resource: `arn:aws:s3:::${PUBLIC}/openid/v1/jwks`,
        context: { 'aws:SecureTransport': 'true' },
      });
    denied(put(POWER_USER), 'power user PutObject (stored bucket policy)');
    allowed(put(rotateRole()), 'rotate role PutObject (stored bucket policy)');
  });
});
