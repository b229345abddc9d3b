/**
 * Where key-sync finds keyset.json: `--state s3://bucket/keyset.json`, or the state bucket named in a
 * CloudFormation outputs file (`--stack-outputs`).
 */
import { IrsaError } from '#core/errors.ts';
import { bucketNameProblem, type StateLocation } from '../state-url.ts';

function flagError(flag: string, problem: string, fix: string): IrsaError {
  return new IrsaError('FLAG_INVALID', `${flag} ${problem}.`, fix);
}

/**
 * Reads the state bucket from CloudFormation outputs, in any of the shapes people save them in:
 * `aws cloudformation describe-stacks` output, its `Outputs` array, or a plain `{ "StateBucketName": ... }`.
 */
export function stateFromStackOutputs(text: string): StateLocation {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw flagError(
      '--stack-outputs',
      'is not JSON',
      'Save the outputs with `aws cloudformation describe-stacks --stack-name <stack> > outputs.json`.',
    );
  }
  const outputs = outputsOf(value);
  const bucket = outputs.StateBucketName;
  if (bucket === undefined || bucketNameProblem(bucket) !== null) {
    throw flagError(
      '--stack-outputs',
      bucket === undefined ? 'has no StateBucketName output' : `has an invalid StateBucketName "${bucket}"`,
      'Pass the outputs of the irsa-anywhere stack, or use --state s3://<bucket>/keyset.json.',
    );
  }
  return { bucket, key: 'keyset.json' };
}

function outputsOf(value: unknown): Record<string, string> {
  const list = (v: unknown): Record<string, string> => {
    const out: Record<string, string> = {};
    if (!Array.isArray(v)) return out;
    for (const item of v) {
      if (typeof item === 'object' && item !== null) {
        const { OutputKey, OutputValue } = item as { OutputKey?: unknown; OutputValue?: unknown };
        if (typeof OutputKey === 'string' && typeof OutputValue === 'string') out[OutputKey] = OutputValue;
      }
    }
    return out;
  };
  if (Array.isArray(value)) return list(value);
  if (typeof value !== 'object' || value === null) return {};
  const record = value as Record<string, unknown>;
  if (Array.isArray(record.Stacks)) {
    const first = record.Stacks[0] as { Outputs?: unknown } | undefined;
    return list(first?.Outputs);
  }
  if (Array.isArray(record.Outputs)) return list(record.Outputs);
  const flat: Record<string, string> = {};
  for (const [k, v] of Object.entries(record)) if (typeof v === 'string') flat[k] = v;
  return flat;
}
