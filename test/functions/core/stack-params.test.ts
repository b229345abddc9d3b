import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseConfig } from '#core/config.ts';
import {
  type CfnParameter,
  type CfnRule,
  cfnConstraintProblem,
  checkStackParams,
  evaluateRuleExpression,
  lambdaEnvFromParams,
  type Params,
  paramOfCfnParameter,
} from '#core/stack-params.ts';

/** The template's own Parameters and Rules (no YAML tags in either section). */
function loadYaml<T>(path: string, key: string): T {
  return (parse(readFileSync(path, 'utf8'), { logLevel: 'error' }) as Record<string, T>)[key] as T;
}

const CFN = loadYaml<Record<string, CfnParameter>>('infra/parameters.yml', 'Parameters');
const RULES = loadYaml<Record<string, CfnRule>>('infra/rules.yml', 'Rules');
const DEFAULTS: Params = Object.fromEntries(
  Object.entries(
    (
      parse(readFileSync('serverless.yml', 'utf8'), { logLevel: 'error' }) as {
        params: { default: Record<string, unknown> };
      }
    ).params.default,
  ).map(([k, v]) => [k, k === 'clusterName' ? 'prod' : String(v)]),
);
const KNOWN = Object.keys(DEFAULTS);

function check(values: Record<string, string>, given = Object.keys(values)): string | undefined {
  return checkStackParams({
    known: KNOWN,
    given,
    values: { ...DEFAULTS, ...values },
    cfnParameters: CFN,
    rules: RULES,
  });
}

describe('checkStackParams: one line naming the param and what it accepts', () => {
  it('accepts the defaults and a full file-mode set', () => {
    expect(check({})).toBeUndefined();
    expect(
      check({
        keyMode: 'file',
        customDomain: 'oidc.example.com',
        certificateArn: 'arn:aws:acm:us-east-1:111122223333:certificate/0a1b2c3d-1111',
        pathPrefix: '/team-a',
      }),
    ).toBeUndefined();
    // A fleet member, and one migrating into the fleet that keeps its old custom domain meanwhile.
    expect(check({ fleet: 'irsa-anywhere-fleet-prod' })).toBeUndefined();
    expect(
      check({
        fleet: 'irsa-anywhere-fleet-prod',
        keepStandaloneIssuer: 'true',
        customDomain: 'oidc.example.com',
        certificateArn: 'arn:aws:acm:us-east-1:111122223333:certificate/0a1b2c3d-1111',
      }),
    ).toBeUndefined();
  });

  it.each([
    [{ keymode: 'file' }, 'Unknown --param keymode (did you mean keyMode?)'],
    [{ keyMode: 'bogus' }, 'Invalid --param keyMode=bogus: allowed is one of kms, file.'],
    [
      { keyDeletionWindowDays: '3' },
      'Invalid --param keyDeletionWindowDays=3: allowed is a whole number of days from 7 to 30',
    ],
    [
      { maxTokenLifetimeSeconds: '300' },
      'Invalid --param maxTokenLifetimeSeconds=300: allowed is a whole number of seconds, at least 600',
    ],
    [
      { rotationPeriodDays: 'abc' },
      'Invalid --param rotationPeriodDays=abc: allowed is a positive number of days',
    ],
    [{ pathPrefix: '/prod/' }, 'Invalid --param pathPrefix=/prod/: allowed is empty, or a path'],
    [{ pathPrefix: '/team/..' }, 'Invalid --param pathPrefix=/team/..: allowed is empty, or a path'],
    [
      { publishLeadHours: '0.1' },
      'publishLeadHours (0.1 h) is shorter than the JWKS cache max-age plus node sync lag',
    ],
    [
      { rotationPeriodDays: '1' },
      'publishLeadHours (24 h) must be shorter than rotationPeriodDays (1 d). Lower publishLeadHours',
    ],
    [
      { keyDeletionWindowDays: '7.5' },
      'keyDeletionWindowDays is "7.5", not a whole number. Set keyDeletionWindowDays',
    ],
    [
      { customDomain: 'oidc.example.com' },
      'rule CustomDomainNeedsCertificate): customDomain needs certificateArn',
    ],
    [
      { certificateArn: 'arn:aws:acm:us-east-1:111122223333:certificate/0a1b' },
      'rule CertificateNeedsCustomDomain): certificateArn is set but customDomain is empty',
    ],
    [
      { fleet: 'irsa-anywhere-fleet-prod', pathPrefix: '/team-a' },
      "rule FleetMemberUsesTheFleetDomain): a fleet member's issuer is https://<fleet domain>/<clusterName>",
    ],
    [
      {
        fleet: 'irsa-anywhere-fleet-prod',
        customDomain: 'oidc.example.com',
        certificateArn: 'arn:aws:acm:us-east-1:111122223333:certificate/0a1b',
      },
      'rule FleetMemberUsesTheFleetDomain)',
    ],
    [{ keepStandaloneIssuer: 'true' }, 'rule KeepStandaloneIssuerNeedsFleet)'],
    [{ fleet: 'prod/fleet' }, 'Invalid --param fleet=prod/fleet'],
  ])('%o is refused: %s', (values, expected) => {
    const problem = check(values);
    expect(problem).toContain(expected);
    expect(problem).not.toContain('\n');
    expect(problem).not.toMatch(/[A-Z]{3,}_[A-Z]+/); // names params, not environment variables
  });

  it('maps every template parameter to a param serverless.yml declares', () => {
    for (const logicalId of Object.keys(CFN)) expect(KNOWN).toContain(paramOfCfnParameter(logicalId));
  });
});

describe('cfnConstraintProblem', () => {
  it('Number parameters: numeric, within MinValue/MaxValue', () => {
    const window: CfnParameter = { Type: 'Number', MinValue: 7, MaxValue: 30 };
    expect(cfnConstraintProblem(window, '7')).toBeUndefined();
    expect(cfnConstraintProblem(window, '30')).toBeUndefined();
    for (const bad of ['6', '31', 'abc', '', '7days'])
      expect(cfnConstraintProblem(window, bad), bad).toBeDefined();
  });
});

describe('evaluateRuleExpression', () => {
  it('evaluates Ref, Equals, Not, And, Or on params', () => {
    const params = { customDomain: 'x', certificateArn: '' };
    const equals = (ref: string) => ({ 'Fn::Equals': [{ Ref: ref }, ''] });
    expect(evaluateRuleExpression(equals('CertificateArn'), params)).toBe(true);
    expect(evaluateRuleExpression({ 'Fn::Not': [equals('CustomDomain')] }, params)).toBe(true);
    expect(evaluateRuleExpression({ 'Fn::And': [equals('CustomDomain'), true] }, params)).toBe(false);
    expect(evaluateRuleExpression({ 'Fn::Or': [equals('CustomDomain'), true] }, params)).toBe(true);
    expect(() => evaluateRuleExpression({ 'Fn::Contains': [] }, params)).toThrow('not supported');
  });
});

/**
 * The two sets of rules agree: for each value, CloudFormation's constraints (infra/parameters.yml)
 * and the functions' parser (functions/core/config.ts) give the same verdict. Other params are held
 * where cross-param rules cannot interfere. The only gap: a CloudFormation Number cannot require a
 * whole number, so "7.5" passes CloudFormation (the plugin and the functions still refuse it).
 * CloudFormation is stricter on an empty value (serverless cannot pass one with --param) and on
 * customDomain/pathPrefix alone (the functions see only the issuer they compose).
 */
describe('CloudFormation constraints agree with the functions', () => {
  const context: Params = {
    ...DEFAULTS,
    rotationPeriodDays: '30',
    publishLeadHours: '1',
    jwksMaxAgeSeconds: '300',
    nodeSyncLagSeconds: '900',
  };
  const probes: Record<string, { ok: string[]; bad: string[]; cfnGap?: string[]; cfnOnly?: string[] }> = {
    clusterName: {
      ok: ['prod', 'a', 'prod-eu-1', 'A1'],
      bad: ['-prod', 'prod_eu', 'a.b', 'x'.repeat(64), ''],
    },
    keyMode: { ok: ['kms', 'file'], bad: ['bogus', 'KMS'] },
    keySpec: { ok: ['RSA_2048', 'ECC_NIST_P256'], bad: ['RSA_4096', 'rsa_2048'] },
    rotationPeriodDays: {
      ok: ['7', '0.5', '30', '1.25', '007'],
      bad: ['abc', '0', '0.0', '-7', '1e2', '7d'],
    },
    publishLeadHours: { ok: ['1', '24', '1.5', '0.5'], bad: ['0', 'abc', '-1', '1e1'] },
    maxTokenLifetimeSeconds: {
      ok: ['600', '86400', '3600'],
      bad: ['300', '599', 'abc', '-600'],
      cfnGap: ['600.5'],
    },
    jwksMaxAgeSeconds: { ok: ['1', '300'], bad: ['0', 'abc', '-5'], cfnGap: ['1.5'] },
    nodeSyncLagSeconds: { ok: ['0', '900'], bad: ['-1', 'abc'], cfnGap: ['0.5'] },
    keyDeletionWindowDays: { ok: ['7', '30', '21'], bad: ['3', '6', '31', 'abc'], cfnGap: ['7.5'] },
    pathPrefix: {
      ok: ['', '/team-a', '/a/b.c', '/a..b', '/.x'],
      cfnOnly: ['prod'],
      bad: ['/', '/prod/', '/team/..', '/team/.', '/../x', '/a b', '/a?x', '//a'],
    },
    customDomain: {
      ok: ['', 'oidc.example.com'],
      bad: ['https://oidc.example.com', 'oidc.example.com/', 'OIDC.example.com'],
      cfnOnly: ['x'],
    },
  };

  const cfnAccepts = (param: string, value: string) => {
    const logicalId = Object.keys(CFN).find((id) => paramOfCfnParameter(id) === param);
    if (logicalId === undefined) throw new Error(`no template parameter for ${param}`);
    return cfnConstraintProblem(CFN[logicalId] ?? {}, value) === undefined;
  };
  const functionsAccept = (param: string, value: string) => {
    const values: Record<string, string> = { ...context, [param]: value };
    // The issuer host is CloudFront's unless a custom domain is set; either way it needs a certificate.
    try {
      parseConfig(lambdaEnvFromParams(values));
      return true;
    } catch {
      return false;
    }
  };

  it.each(Object.entries(probes))('%s', (param, { ok, bad, cfnGap = [], cfnOnly = [] }) => {
    for (const value of ok) {
      expect(cfnAccepts(param, value), `CloudFormation, ${param}=${value}`).toBe(true);
      expect(functionsAccept(param, value), `functions, ${param}=${value}`).toBe(true);
    }
    for (const value of bad) {
      expect(cfnAccepts(param, value), `CloudFormation, ${param}=${value}`).toBe(false);
      expect(functionsAccept(param, value), `functions, ${param}=${value}`).toBe(false);
    }
    for (const value of cfnGap) {
      expect(cfnAccepts(param, value), `CloudFormation, ${param}=${value}`).toBe(true);
      expect(functionsAccept(param, value), `functions, ${param}=${value}`).toBe(false);
      expect(check({ [param]: value })).toContain(param); // the plugin still refuses it
    }
    // The functions only see the issuer built from customDomain + pathPrefix ("https://host" + "prod"
    // is still a URL): CloudFormation and the plugin refuse these before they are joined.
    for (const value of cfnOnly) {
      expect(cfnAccepts(param, value), `CloudFormation, ${param}=${value}`).toBe(false);
      expect(check({ [param]: value })).toContain(param);
    }
  });

  it('every variable the functions validate is covered by a probe', () => {
    for (const param of [
      'clusterName',
      'keyMode',
      'keySpec',
      'rotationPeriodDays',
      'publishLeadHours',
      'maxTokenLifetimeSeconds',
      'jwksMaxAgeSeconds',
      'nodeSyncLagSeconds',
      'keyDeletionWindowDays',
      'pathPrefix',
      'customDomain',
    ]) {
      expect(Object.keys(probes)).toContain(param);
    }
  });
});
