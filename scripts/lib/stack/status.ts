/**
 * `status --stack`: the keys of a deployed stack with their states and ages, the next scheduled
 * transition, the last publish, and whether the JWKS the world sees matches the keyset.
 */
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { GetFunctionConfigurationCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { S3Client } from '@aws-sdk/client-s3';
import { S3KeysetStore } from '#adapters/aws/s3-keyset-store.ts';
import { parseConfig } from '#core/config.ts';
import { IrsaError } from '#core/errors.ts';
import { buildJwks } from '#core/jwks.ts';
import type { Keyset } from '#core/keyset.ts';
import { DEFAULT_POLICY_INPUT, makePolicy, type RotationPolicy } from '#core/policy.ts';
import { formatAge, type KeysetStatus, keysetStatus } from '../key-status.ts';
import { describeStackOutputs } from './outputs.ts';

/** The comparison of the published JWKS with the keyset. */
export interface PublishedCheck {
  url: string;
  /** True when the published kids are exactly the kids the keyset says belong in the JWKS. */
  matches: boolean;
  publishedKids: string[];
  /** In the keyset's JWKS, not published. */
  missing: string[];
  /** Published, not in the keyset's JWKS (revoked or deleted keys still served). */
  unexpected: string[];
  /** Why the JWKS could not be read, when it could not. */
  error?: string;
}

/** Everything `status --stack` prints: the status every mode prints, plus the stack and its JWKS check. */
export interface StatusReport extends KeysetStatus {
  stack?: string;
  published: PublishedCheck;
}

function kidsOf(jwks: unknown): string[] | null {
  if (jwks === null || typeof jwks !== 'object' || !Array.isArray((jwks as { keys?: unknown }).keys))
    return null;
  return ((jwks as { keys: unknown[] }).keys ?? []).map((key) =>
    key !== null && typeof key === 'object' && typeof (key as { kid?: unknown }).kid === 'string'
      ? (key as { kid: string }).kid
      : '',
  );
}

/**
 * Assembles the report from a keyset and what was fetched from the JWKS URL (`published` is the
 * parsed JSON, or the Error the fetch failed with). Pure.
 */
export function assembleStatus(input: {
  keyset: Keyset;
  policy: RotationPolicy;
  now: Date;
  jwksUrl: string;
  published: unknown;
  stack?: string;
}): StatusReport {
  const { keyset, now } = input;
  const expected = buildJwks(keyset.keys).keys.map((key) => key.kid);
  const check: PublishedCheck = {
    url: input.jwksUrl,
    matches: false,
    publishedKids: [],
    missing: expected,
    unexpected: [],
  };
  if (input.published instanceof Error) {
    check.error = input.published.message;
  } else {
    const kids = kidsOf(input.published);
    if (kids === null) {
      check.error = 'the document is not a JWKS (no "keys" array)';
    } else {
      check.publishedKids = kids;
      check.missing = expected.filter((kid) => !kids.includes(kid));
      check.unexpected = kids.filter((kid) => !expected.includes(kid));
      check.matches =
        check.missing.length === 0 && check.unexpected.length === 0 && kids.length === expected.length;
    }
  }
  const report: StatusReport = { ...keysetStatus(keyset, input.policy, now), published: check };
  if (input.stack !== undefined) report.stack = input.stack;
  return report;
}

/**
 * The status of a deployed stack: outputs through DescribeStacks, `keyset.json` from the state
 * bucket, the JWKS from the public JwksUri (through `fetchJson`, which the caller makes with the
 * same rules STS uses). Throws `STATUS_NO_KEYSET` when the stack has never been bootstrapped.
 */
export async function stackStatus(deps: {
  cfn: CloudFormationClient;
  s3: S3Client;
  fetchJson: (url: string) => Promise<unknown>;
  now: Date;
  stack: string;
  policy: RotationPolicy;
}): Promise<StatusReport> {
  const outputs = await describeStackOutputs(deps.cfn, deps.stack);
  const read = await new S3KeysetStore({ s3: deps.s3, bucket: outputs.stateBucketName }).read();
  if (read === null) {
    throw new IrsaError(
      'STATUS_NO_KEYSET',
      `The state bucket ${outputs.stateBucketName} has no keyset.json: the stack was never bootstrapped.`,
      `Run \`irsa-anywhere rotate --stack ${deps.stack}\` to create the first key, then check again.`,
    );
  }
  const published = await deps
    .fetchJson(outputs.jwksUri)
    .catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
  return assembleStatus({
    keyset: read.keyset,
    policy: deps.policy,
    now: deps.now,
    jwksUrl: outputs.jwksUri,
    published,
    stack: deps.stack,
  });
}

/** The report as text for a terminal. */
export function formatStatus(report: StatusReport): string {
  const lines = [
    ...(report.stack === undefined ? [] : [`stack:        ${report.stack}`]),
    `cluster:      ${report.cluster}`,
    `issuer:       ${report.issuer}`,
    'keys:',
    ...report.keys.map(
      (key) =>
        `  ${key.kid}  ${key.alg}  ${(key.revoked ? `${key.state} (revoked)` : key.state).padEnd(9)}  age ${formatAge(key.ageSeconds)}`,
    ),
    `next:         ${report.nextTransition === null ? 'nothing scheduled' : `${report.nextTransition.at}  ${report.nextTransition.description}`}`,
    `last publish: ${report.lastPublish === null ? 'never' : `${report.lastPublish.at}  (${report.lastPublish.kids.length} keys)`}`,
  ];
  const p = report.published;
  if (p.error !== undefined) lines.push(`published:    UNKNOWN  ${p.url}: ${p.error}`);
  else if (p.matches)
    lines.push(`published:    OK  ${p.url} holds exactly the keyset's ${p.publishedKids.length} keys`);
  else {
    lines.push(`published:    MISMATCH  ${p.url}`);
    if (p.missing.length > 0)
      lines.push(`  not yet published: ${p.missing.join(', ')} (a cache may still serve the old JWKS)`);
    if (p.unexpected.length > 0) lines.push(`  published but not in the keyset: ${p.unexpected.join(', ')}`);
  }
  return lines.join('\n');
}

/**
 * The rotation policy the deployed rotate function runs with, read from its environment
 * (Lambda GetFunctionConfiguration) and parsed by the same `parseConfig` the function uses.
 * Returns the defaults and a note when it cannot be read (no lambda:GetFunctionConfiguration).
 */
export async function policyFromFunction(
  lambda: LambdaClient,
  functionName: string,
): Promise<{ policy: RotationPolicy; note?: string }> {
  try {
    const out = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: functionName }));
    return { policy: parseConfig(out.Environment?.Variables ?? {}).policy };
  } catch (error) {
    return {
      policy: makePolicy(DEFAULT_POLICY_INPUT),
      note: `could not read the rotate function's settings (${error instanceof Error ? error.message : String(error)}); the next transition assumes the default policy`,
    };
  }
}
