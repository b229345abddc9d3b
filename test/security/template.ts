/**
 * The stack's CloudFormation resources read straight from infra/*.yml (fast, no `serverless
 * package`), with the serverless variables filled from serverless.yml's defaults and the
 * intrinsic functions resolved for one concrete deployment (account 111122223333, us-east-1,
 * cluster "test"). The attack suite evaluates the resolved policies with iam-eval.ts. Test-only.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { PolicyDocument, Statement } from './iam-eval.ts';

export const ACCOUNT = '111122223333';
export const REGION = 'us-east-1';
export const STAGE = 'test';
const ROOT = join(import.meta.dirname, '..', '..');
/** The serverless variable for the stage, spelled without a template-literal lookalike. */
const SLS_STAGE = ['$', '{sls:stage}'].join('');

const TAGS = [
  { tag: '!Ref', resolve: (v: string) => ({ Ref: v }) },
  { tag: '!Condition', resolve: (v: string) => ({ Condition: v }) },
  { tag: '!ImportValue', resolve: (v: string) => ({ 'Fn::ImportValue': v }) },
  {
    tag: '!ImportValue',
    collection: 'map' as const,
    resolve: (map: { toJSON(): unknown }) => ({ 'Fn::ImportValue': map.toJSON() }),
  },
  { tag: '!Sub', resolve: (v: string) => ({ 'Fn::Sub': v }) },
  { tag: '!GetAtt', resolve: (v: string) => ({ 'Fn::GetAtt': v.split('.') }) },
  ...['If', 'Equals', 'Not', 'And', 'Or', 'Split', 'Join', 'Select', 'Sub', 'GetAtt'].map((name) => ({
    tag: `!${name}`,
    collection: 'seq' as const,
    resolve: (seq: { toJSON(): unknown }) => ({ [`Fn::${name}`]: seq.toJSON() }),
  })),
];

type Json = unknown;

function serverlessDefaults(params: Record<string, string>): Record<string, string> {
  const text = readFileSync(join(ROOT, 'serverless.yml'), 'utf8');
  const doc = parse(text, { customTags: TAGS }) as { params: { default: Record<string, unknown> } };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(doc.params.default)) {
    out[k] = String(v).replaceAll(SLS_STAGE, STAGE);
  }
  return { ...out, ...params };
}

/** The merged `Resources`, `Parameters`, `Conditions` and `Outputs` of infra/*.yml. */
export interface RawTemplate {
  /** The stack's name (`AWS::StackName`); `irsa-anywhere-<stage>` unless given. */
  stackName?: string;
  Resources: Record<string, { Type: string; Condition?: string; Properties: Record<string, Json> }>;
  Parameters: Record<string, { Default?: string }>;
  Conditions: Record<string, Json>;
}

/** The cluster stack's files in infra/ (without `.yml`). */
const CLUSTER_FILES = ['parameters', 'buckets', 'cdn', 'iam', 'oidc', 'alarms'];
/** The fleet stack's files (serverless.fleet.yml). */
export const FLEET_FILES = ['fleet/parameters', 'fleet/bucket', 'fleet/cdn'];
/** The fleet stack name the tests deploy, and what its exports resolve to. */
export const FLEET_STACK = 'irsa-anywhere-fleet-prod';
export const FLEET_BUCKET = 'irsa-anywhere-fleet-prod-fleetbucket';
const FLEET_EXPORTS: Record<string, string> = {
  [`${FLEET_STACK}-Bucket`]: FLEET_BUCKET,
  [`${FLEET_STACK}-BucketArn`]: `arn:aws:s3:::${FLEET_BUCKET}`,
  [`${FLEET_STACK}-IssuerHost`]: 'oidc.example.com',
};

/**
 * Reads infra/*.yml (or `files`, e.g. {@link FLEET_FILES}) with serverless params (`${param:x}`)
 * filled from defaults and `params`.
 */
export function loadTemplate(
  params: Record<string, string> = {},
  options: { files?: string[]; stackName?: string } = {},
): RawTemplate {
  const values = serverlessDefaults(params);
  const merged: RawTemplate = { Resources: {}, Parameters: {}, Conditions: {} };
  if (options.stackName !== undefined) merged.stackName = options.stackName;
  for (const file of options.files ?? CLUSTER_FILES) {
    let text = readFileSync(join(ROOT, 'infra', `${file}.yml`), 'utf8');
    text = text.replace(/\$\{param:(\w+)\}/g, (_, name: string) => values[name] ?? '');
    text = text.replaceAll(SLS_STAGE, STAGE);
    const doc = parse(text, { customTags: TAGS }) as Partial<RawTemplate>;
    Object.assign(merged.Resources, doc.Resources ?? {});
    Object.assign(merged.Parameters, doc.Parameters ?? {});
    Object.assign(merged.Conditions, doc.Conditions ?? {});
  }
  return merged;
}

/** Physical names/ARNs of the stack's resources in this fixed deployment. */
function attribute(template: RawTemplate, name: string, attr: string): string {
  const type = template.Resources[name]?.Type;
  if (type === 'AWS::IAM::Role') return `arn:aws:iam::${ACCOUNT}:role/irsa-anywhere-test-${name}`;
  if (type === 'AWS::S3::Bucket')
    return attr === 'Arn'
      ? `arn:aws:s3:::${ref(template, name)}`
      : `${ref(template, name)}.s3.${REGION}.amazonaws.com`;
  if (type === 'AWS::KMS::Key') return `arn:aws:kms:${REGION}:${ACCOUNT}:key/wrapping-key-id`;
  if (type === 'AWS::CloudFront::Distribution') return 'd111111abcdef8.cloudfront.net';
  return `${name}.${attr}`;
}

function ref(template: RawTemplate, name: string): string {
  const pseudo: Record<string, string> = {
    'AWS::AccountId': ACCOUNT,
    'AWS::Region': REGION,
    'AWS::Partition': 'aws',
    'AWS::StackName': template.stackName ?? `irsa-anywhere-${STAGE}`,
    'AWS::StackId': `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/irsa-anywhere-${STAGE}/0a1b2c3d`,
  };
  if (name in pseudo) return pseudo[name] ?? '';
  const parameter = template.Parameters[name];
  if (parameter !== undefined) return String(parameter.Default ?? '');
  const type = template.Resources[name]?.Type;
  if (type === 'AWS::S3::Bucket')
    return `${template.stackName ?? `irsa-anywhere-${STAGE}`}-${name.toLowerCase()}`;
  if (type === 'AWS::CloudFront::Distribution') return 'EDFDVBD6EXAMPLE';
  if (type === 'AWS::IAM::ManagedPolicy') return `arn:aws:iam::${ACCOUNT}:policy/${name}`;
  return name;
}

const NO_VALUE = Symbol('NoValue');

function condition(template: RawTemplate, name: string): boolean {
  return Boolean(resolve(template, template.Conditions[name]));
}

/** Resolves Ref, Fn::GetAtt, Fn::Sub, Fn::If, Fn::Equals, Fn::Not, Fn::Split, Fn::Join. */
export function resolve(template: RawTemplate, value: Json): Json {
  const r = (v: Json): Json => resolve(template, v);
  if (Array.isArray(value)) return value.map(r).filter((v) => v !== NO_VALUE);
  if (value === null || typeof value !== 'object') return value;
  const record = value as Record<string, Json>;
  if ('Ref' in record) return record.Ref === 'AWS::NoValue' ? NO_VALUE : ref(template, String(record.Ref));
  if ('Condition' in record && Object.keys(record).length === 1)
    return condition(template, String(record.Condition));
  if ('Fn::GetAtt' in record) {
    const [name, attr] = record['Fn::GetAtt'] as [string, string];
    return attribute(template, name, attr);
  }
  if ('Fn::ImportValue' in record) {
    const name = String(r(record['Fn::ImportValue']));
    const value = FLEET_EXPORTS[name];
    if (value === undefined) throw new Error(`no export ${name} in the test deployment`);
    return value;
  }
  if ('Fn::Sub' in record) {
    const sub = record['Fn::Sub'];
    const [text, vars] = Array.isArray(sub)
      ? [String(sub[0]), r(sub[1]) as Record<string, Json>]
      : [String(sub), {}];
    return text.replace(/\$\{([^}]+)\}/g, (_, inner: string) => {
      if (inner.startsWith('!')) return `\${${inner.slice(1)}}`; // ${!Literal} is the literal ${Literal}
      if (inner in vars) return String(vars[inner]);
      const [name, attr] = inner.split('.');
      return attr === undefined || inner.startsWith('AWS::')
        ? ref(template, inner)
        : attribute(template, name ?? '', attr);
    });
  }
  if ('Fn::If' in record) {
    const [name, yes, no] = record['Fn::If'] as [string, Json, Json];
    return r(condition(template, name) ? yes : no);
  }
  if ('Fn::Equals' in record) {
    const [a, b] = (record['Fn::Equals'] as Json[]).map(r);
    return a === b;
  }
  if ('Fn::Not' in record) return !(r((record['Fn::Not'] as Json[])[0]) as boolean);
  if ('Fn::And' in record) return (record['Fn::And'] as Json[]).every((c) => r(c) === true);
  if ('Fn::Or' in record) return (record['Fn::Or'] as Json[]).some((c) => r(c) === true);
  if ('Fn::Split' in record) {
    const [sep, text] = record['Fn::Split'] as [string, Json];
    return String(r(text)).split(sep);
  }
  if ('Fn::Join' in record) {
    const [sep, parts] = record['Fn::Join'] as [string, Json[]];
    return (r(parts) as Json[]).join(sep);
  }
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(record)) {
    const resolved = r(v);
    if (resolved !== NO_VALUE) out[k] = resolved;
  }
  return out;
}

/** A resource's resolved properties (throws when the resource is absent or its condition is false). */
export function properties(template: RawTemplate, name: string): Record<string, Json> {
  const found = template.Resources[name];
  if (found === undefined) throw new Error(`no resource ${name}`);
  if (found.Condition !== undefined && !condition(template, found.Condition))
    throw new Error(`resource ${name} is not created (condition ${found.Condition})`);
  return resolve(template, found.Properties) as Record<string, Json>;
}

/** The resolved policy documents attached inline to a role. */
export function rolePolicies(template: RawTemplate, role: string): PolicyDocument[] {
  const props = properties(template, role) as { Policies: Array<{ PolicyDocument: PolicyDocument }> };
  return props.Policies.map((p) => p.PolicyDocument);
}

/** A resolved policy property (`PolicyDocument`, `KeyPolicy`) of a resource. */
export function policyOf(template: RawTemplate, resource: string, property: string): PolicyDocument {
  const doc = properties(template, resource)[property] as PolicyDocument;
  return { ...doc, Statement: doc.Statement as Statement[] };
}

/** The ARN a role resource gets in this deployment. */
export function roleArn(name: string): string {
  return `arn:aws:iam::${ACCOUNT}:role/irsa-anywhere-test-${name}`;
}
